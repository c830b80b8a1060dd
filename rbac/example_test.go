package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwark-go/bulwark/rbac"
)

// In a service, the subject and roles come from the authentication middleware:
// rbac.Options{Subject: auth.SubjectKey, Roles: auth.Roles}. The examples use a stand-in
// that reads them from the context.
type exampleUser struct {
	id    string
	roles []string
}

type exampleUserKey struct{}

func exampleSubject(r *http.Request) string {
	u, _ := r.Context().Value(exampleUserKey{}).(exampleUser)
	return u.id
}

func exampleRoles(r *http.Request) []string {
	u, _ := r.Context().Value(exampleUserKey{}).(exampleUser)
	return u.roles
}

// exampleRequest is a request authenticated as id with roles.
func exampleRequest(method, target, id string, roles ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	return r.WithContext(context.WithValue(r.Context(), exampleUserKey{}, exampleUser{id, roles}))
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func ExampleNew() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "note") })
	mux.HandleFunc("DELETE /notes/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})

	authz, err := rbac.New(rbac.Options{
		Policy: rbac.Policy{
			Roles: []rbac.Role{
				{Name: "viewer", Allow: []string{"notes:read"}},
				{Name: "editor", Inherits: []string{"viewer"}, Allow: []string{"notes:write", "notes:delete"}},
			},
			Routes: []rbac.Route{
				{Pattern: "GET /notes/{id}", Require: []string{"notes:read"}},
				{Pattern: "DELETE /notes/{id}", Require: []string{"notes:delete"}},
				{Pattern: "GET /healthz", Public: true},
			},
		},
		Subject: exampleSubject, // auth.SubjectKey
		Roles:   exampleRoles,   // auth.Roles
		Mux:     mux,
		Logger:  quietLogger(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authz.Middleware(mux)

	for _, r := range []*http.Request{
		exampleRequest("GET", "/notes/1", "alice", "viewer"),
		exampleRequest("DELETE", "/notes/1", "alice", "viewer"),
		exampleRequest("DELETE", "/notes/1", "bob", "editor"),
		exampleRequest("GET", "/notes/1", ""),
		httptest.NewRequest("GET", "/healthz", nil),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(r.Method, r.URL.Path, w.Code)
	}
	// Output:
	// GET /notes/1 200
	// DELETE /notes/1 403
	// DELETE /notes/1 200
	// GET /notes/1 401
	// GET /healthz 200
}

func ExampleRequire() {
	mux := http.NewServeMux()
	// Require must be the handler registered for the pattern, so that Middleware sees the
	// route has a rule; other routes are refused unless the policy lists them.
	mux.Handle("PUT /notes/{id}", rbac.Require("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	authz, err := rbac.New(rbac.Options{
		Policy:  rbac.Policy{Roles: []rbac.Role{{Name: "editor", Allow: []string{"notes:read", "notes:write"}}}},
		Subject: exampleSubject,
		Roles:   exampleRoles,
		Mux:     mux,
		Logger:  quietLogger(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authz.Middleware(mux)

	for _, r := range []*http.Request{
		exampleRequest("PUT", "/notes/1", "alice", "editor"),
		exampleRequest("PUT", "/notes/1", "mallory", "guest"),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(exampleSubject(r), w.Code)
	}
	// Output:
	// alice 204
	// mallory 403
}

func ExampleRequireAny() {
	authz, err := rbac.New(rbac.Options{
		Policy: rbac.Policy{Roles: []rbac.Role{
			{Name: "moderator", Allow: []string{"notes:moderate"}},
			{Name: "admin", Allow: []string{"admin:*"}},
		}},
		Subject: exampleSubject,
		Roles:   exampleRoles,
		Logger:  quietLogger(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authz.Middleware(rbac.RequireAny("notes:moderate", "admin:notes")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	for _, role := range []string{"moderator", "admin", "viewer"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, exampleRequest("POST", "/notes/1/hide", "u", role))
		fmt.Println(role, w.Code)
	}
	// Output:
	// moderator 200
	// admin 200
	// viewer 403
}

// CheckAccess stops broken object-level authorization (OWASP API1): the route lets editors
// in, and the handler checks that the note is theirs.
func ExampleCheckAccess() {
	owners := map[string]string{"1": "alice", "2": "bob"}
	mux := http.NewServeMux()
	mux.Handle("PUT /notes/{id}", rbac.Require("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner := owners[r.PathValue("id")] // loaded with the note
		if !rbac.CheckAccess(w, r, owner, "notes:write") {
			return // 403 written and logged
		}
		fmt.Fprint(w, "updated")
	})))
	authz, err := rbac.New(rbac.Options{
		Policy: rbac.Policy{Roles: []rbac.Role{
			{Name: "editor", Allow: []string{"notes:write"}},
			{Name: "moderator", Allow: []string{"notes:write", "notes:write:any"}},
		}},
		Subject: exampleSubject,
		Roles:   exampleRoles,
		Mux:     mux,
		Logger:  quietLogger(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authz.Middleware(mux)
	for _, r := range []*http.Request{
		exampleRequest("PUT", "/notes/1", "alice", "editor"),   // her own note
		exampleRequest("PUT", "/notes/2", "alice", "editor"),   // bob's note
		exampleRequest("PUT", "/notes/2", "mo", "moderator"),   // anyone's note...
		exampleRequest("PUT", "/notes/2", "mo", "moderator:x"), // ...but only with the role
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(exampleSubject(r), r.URL.Path, w.Code)
	}
	// Output:
	// alice /notes/1 200
	// alice /notes/2 403
	// mo /notes/2 200
	// mo /notes/2 403
}

func ExampleAuthorizer_CanAccess() {
	authz, err := rbac.New(rbac.Options{
		Policy:  rbac.Policy{Roles: []rbac.Role{{Name: "viewer", Allow: []string{"notes:read"}}, {Name: "auditor", Allow: []string{"notes:read:any"}}}},
		Subject: exampleSubject,
		Roles:   exampleRoles,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := rbac.Subject{ID: "alice", Roles: []string{"viewer"}}
	audit := rbac.Subject{ID: "carol", Roles: []string{"auditor"}}
	fmt.Println(authz.CanAccess(alice, "alice", "notes:read"))
	fmt.Println(authz.CanAccess(alice, "bob", "notes:read"))
	fmt.Println(authz.CanAccess(audit, "bob", "notes:read"))
	// Output:
	// true
	// false
	// true
}

func ExampleAuthorizer_Explain() {
	p, err := rbac.ParsePolicy("policy.yaml", []byte(`roles:
  viewer:
    allow: [notes:read]
  editor:
    inherits: [viewer]
    allow: ["notes:*"]
    deny: [notes:purge]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	authz, err := rbac.New(rbac.Options{Policy: p, Subject: exampleSubject, Roles: exampleRoles})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, perm := range []string{"notes:read", "notes:purge", "billing:read"} {
		fmt.Println(authz.Explain([]string{"editor"}, perm))
	}
	// Output:
	// "notes:read": allow notes:* (role editor, line 6)
	// "notes:purge": deny notes:purge (role editor, line 7)
	// "billing:read": no rule (deny by default)
}

func ExampleParsePolicy() {
	_, err := rbac.ParsePolicy("policy.yaml", []byte(`roles:
  editor:
    inherits: [writer]
    allow: [notes::write]
  editor:
    alow: [notes:read]
`))
	fmt.Println(err)
	// Output:
	// rbac: policy.yaml:5: roles: "editor" is defined twice
}

func ExampleParsePolicy_semantics() {
	_, err := rbac.ParsePolicy("policy.yaml", []byte(`roles:
  editor:
    inherits: [writer]
    allow: [notes::write]
`))
	fmt.Println(err)
	// Output:
	// rbac: policy.yaml:3: role "editor" inherits unknown role "writer"
	// rbac: policy.yaml:4: role "editor": allow "notes::write": want segments like notes:read or notes:*
}

func ExampleNewClaimMapper() {
	claims := func(r *http.Request) map[string]any {
		// In a service: the verified claims from the authentication middleware.
		return map[string]any{
			"sub":          "alice",
			"scope":        "notes.read profile",
			"realm_access": map[string]any{"roles": []any{"editor"}},
			"groups":       []any{"/staff"},
		}
	}
	mapper, err := rbac.NewClaimMapper(claims,
		rbac.KeycloakRealmRoles(),
		rbac.ScopeClaim(),
		rbac.GroupsClaim(map[string][]string{"/staff": {"employee"}}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(mapper.Roles(httptest.NewRequest("GET", "/", nil)))
	// Then: rbac.Options{Roles: mapper.Roles, ...}
	// Output:
	// [editor scope:notes.read scope:profile employee]
}

func ExampleAuthorizer_RouteReport() {
	authz, err := rbac.New(rbac.Options{
		Policy: rbac.Policy{
			Roles: []rbac.Role{{Name: "admin", Allow: []string{"admin:*"}}},
			Routes: []rbac.Route{
				{Pattern: "GET /admin/users", Require: []string{"admin:users:read"}},
				{Pattern: "DELETE /admin/user/{id}", Require: []string{"admin:users:delete"}},
			},
		},
		Subject: exampleSubject,
		Roles:   exampleRoles,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The same list the service registers on its mux.
	rep := authz.RouteReport([]string{"GET /admin/users", "DELETE /admin/users/{id}", "/admin/purge"})
	fmt.Println("no rule:", rep.Unlisted)
	fmt.Println("rule for no route:", rep.Unregistered)
	fmt.Println("any method:", rep.AnyMethod)
	// Output:
	// no rule: [/admin/purge DELETE /admin/users/{id}]
	// rule for no route: [DELETE /admin/user/{id}]
	// any method: [/admin/purge]
}

func ExampleAuthorizer_AccessReview() {
	authz, err := rbac.New(rbac.Options{
		Policy: rbac.Policy{Roles: []rbac.Role{
			{Name: "viewer", Allow: []string{"notes:read"}},
			{Name: "editor", Inherits: []string{"viewer"}, Allow: []string{"notes:write"}},
			{Name: "admin", Allow: []string{"admin:*"}},
		}},
		Subject: exampleSubject,
		Roles:   exampleRoles,
		Logger:  quietLogger(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authz.Middleware(rbac.Require("notes:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	h.ServeHTTP(httptest.NewRecorder(), exampleRequest("GET", "/notes/1", "alice", "editor"))

	// 100 days later: alice has used neither of her grants for 90 days, and nobody who was
	// active in that time holds any role.
	rev := authz.AccessReview(time.Now().Add(100*24*time.Hour), 0)
	for _, u := range rev.Unused {
		fmt.Printf("%s: %s (via %s), last used: %v\n", u.Subject, u.Rule, u.Role, !u.LastUsed.IsZero())
	}
	fmt.Println("unheld:", rev.UnheldRoles)
	// Output:
	// alice: allow notes:write (role editor) (via editor), last used: false
	// alice: allow notes:read (role viewer) (via editor), last used: true
	// unheld: [admin editor viewer]
}

func ExampleAuthorizer_Reload() {
	dir, err := os.MkdirTemp("", "rbac")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "policy.yaml")
	_ = os.WriteFile(file, []byte("roles:\n  editor:\n    allow: [notes:read]\n"), 0o600)

	authz, err := rbac.New(rbac.Options{File: file, Subject: exampleSubject, Roles: exampleRoles, Logger: quietLogger()})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In a service: go authz.Run(ctx), which calls Reload every ReloadInterval.
	_ = os.WriteFile(file, []byte("roles:\n  editor:\n    allow: [notes:read, notes:write]\n"), 0o600)
	fmt.Println(authz.Reload(), authz.Allowed([]string{"editor"}, "notes:write"))

	_ = os.WriteFile(file, []byte("roles:\n  editor:\n    inherits: [writer]\n"), 0o600)
	err = authz.Reload()
	var pe *rbac.PolicyError
	if errors.As(err, &pe) {
		fmt.Println(pe.Line, pe.Detail)
	}
	fmt.Println(authz.Allowed([]string{"editor"}, "notes:write")) // old policy kept
	// Output:
	// <nil> true
	// 3 role "editor" inherits unknown role "writer"
	// true
}
