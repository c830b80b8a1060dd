package rbac_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/rbac"
)

const (
	policyV1 = "roles:\n  editor:\n    allow: [notes:read, notes:write]\n"
	policyV2 = "roles:\n  editor:\n    allow: [notes:read]\n    deny: [notes:write]\n"
	policyV3 = "roles:\n  editor:\n    allow: [notes:read, notes:write, notes:delete]\n"
	// policyBad refers to an unknown role on line 4.
	policyBad = "roles:\n  editor:\n    allow: [notes:read]\n    inherits: [writer]\n"
)

// writeFile replaces name atomically, as operators should.
func writeFile(t testing.TB, name, content string) {
	t.Helper()
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func TestReload(t *testing.T) {
	name := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, name, policyV1)
	logs, logger := newLog()
	a := mustAuthorizer(t, rbac.Options{File: name, Logger: logger})
	editor := []string{"editor"}
	if !a.Allowed(editor, "notes:write") {
		t.Fatal("v1: editor cannot write")
	}

	writeFile(t, name, policyV2)
	if err := a.Reload(); err != nil {
		t.Fatalf("Reload(v2) = %v", err)
	}
	if a.Allowed(editor, "notes:write") {
		t.Error("after reload to v2: editor can still write")
	}
	if n := len(logs.records(t, "authz_change")); n != 1 {
		t.Errorf("authz_change records = %d, want 1", n)
	}

	// Unchanged content: nothing happens, nothing is logged.
	if err := a.Reload(); err != nil {
		t.Errorf("Reload(unchanged) = %v", err)
	}
	if n := len(logs.records(t, "authz_change")); n != 1 {
		t.Errorf("authz_change after an unchanged reload = %d, want 1", n)
	}

	// A broken file keeps the policy in use and logs why, with the line, once.
	writeFile(t, name, policyBad)
	err := a.Reload()
	var pe *rbac.PolicyError
	if !errors.Is(err, rbac.ErrUnknownRole) || !errors.As(err, &pe) || pe.Line != 4 {
		t.Fatalf("Reload(bad) = %v, want ErrUnknownRole at line 4", err)
	}
	if !a.Allowed(editor, "notes:read") || a.Allowed(editor, "notes:write") {
		t.Error("after a bad reload: the v2 policy is not in use")
	}
	if err := a.Reload(); !errors.Is(err, rbac.ErrUnknownRole) {
		t.Errorf("second Reload(bad) = %v, want the same error", err)
	}
	bad := logs.records(t, "authz_policy_invalid")
	if len(bad) != 1 || !strings.Contains(bad[0]["error"].(string), name+":4:") || bad[0]["level"] != "ERROR" {
		t.Errorf("authz_policy_invalid records = %v, want one naming %s:4", bad, name)
	}

	// A deleted file too.
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !a.Allowed(editor, "notes:read") {
		t.Errorf("Reload(missing file) = %v, policy kept = %v; want an error and the old policy", err, a.Allowed(editor, "notes:read"))
	}

	// Fixed: picked up.
	writeFile(t, name, policyV3)
	if err := a.Reload(); err != nil || !a.Allowed(editor, "notes:delete") {
		t.Errorf("Reload(v3) = %v, delete allowed = %v", err, a.Allowed(editor, "notes:delete"))
	}
}

func TestReload_NoFile(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	if err := a.Reload(); !errors.Is(err, rbac.ErrNoFile) {
		t.Errorf("Reload without a file = %v, want ErrNoFile", err)
	}
	if err := a.Run(context.Background()); !errors.Is(err, rbac.ErrNoFile) {
		t.Errorf("Run without a file = %v, want ErrNoFile", err)
	}
}

// Run polls the file every ReloadInterval and stops with its context.
func TestRun(t *testing.T) {
	name := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, name, policyV1)
	synctest.Test(t, func(t *testing.T) {
		a := mustAuthorizer(t, rbac.Options{File: name, ReloadInterval: 5 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()

		writeFile(t, name, policyV2)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if !a.Allowed([]string{"editor"}, "notes:write") {
			t.Error("policy changed before the first interval")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if a.Allowed([]string{"editor"}, "notes:write") {
			t.Error("policy not reloaded after one interval")
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
}

// Checks running while the policy is swapped see one policy or the other, never a mix or a
// race (run with -race).
func TestReload_Concurrent(t *testing.T) {
	name := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, name, policyV1)
	mux := http.NewServeMux()
	mux.Handle("GET /notes/{id}", rbac.Require("notes:read")(ok))
	a := mustAuthorizer(t, rbac.Options{File: name, Mux: mux})
	h := a.Middleware(mux)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Under every version editor may read; purge is never granted.
				if !a.Allowed([]string{"editor"}, "notes:read") || a.Allowed([]string{"editor"}, "notes:purge") {
					t.Error("inconsistent decision during reload")
					return
				}
				serve(h, "GET", "/notes/1", "alice", "editor")
				_ = a.Explain([]string{"editor"}, "notes:write")
				_ = a.AccessReview(time.Now(), 0)
			}
		})
	}
	for i := range 50 {
		switch i % 3 {
		case 0:
			writeFile(t, name, policyV2)
		case 1:
			writeFile(t, name, policyBad)
		default:
			writeFile(t, name, policyV3)
		}
		_ = a.Reload()
		if i%10 == 0 {
			if err := a.SetPolicy(rbac.Policy{Roles: []rbac.Role{{Name: "editor", Allow: []string{"notes:read"}}}}); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestSetPolicy_Invalid(t *testing.T) {
	a := mustAuthorizer(t, rbac.Options{Policy: notesPolicy()})
	err := a.SetPolicy(rbac.Policy{Roles: []rbac.Role{{Name: "x", Allow: []string{"bad perm"}}}})
	if !errors.Is(err, rbac.ErrBadPermission) {
		t.Errorf("SetPolicy(bad) = %v, want ErrBadPermission", err)
	}
	if !a.Allowed([]string{"viewer"}, "notes:read") {
		t.Error("SetPolicy(bad) replaced the policy in use")
	}
	p := a.Policy()
	p.Roles[0].Allow[0] = "changed:by:caller"
	if !a.Allowed([]string{"viewer"}, "notes:read") {
		t.Error("editing the Policy() copy changed the policy in use")
	}
}
