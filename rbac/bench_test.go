package rbac_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
)

// hierarchy50 is the benchmark policy: three levels (admin inherits editor inherits viewer)
// with 50 rules in all, wildcards and denials included.
func hierarchy50() rbac.Policy {
	var viewer, editor, admin rbac.Role
	viewer = rbac.Role{Name: "viewer"}
	editor = rbac.Role{Name: "editor", Inherits: []string{"viewer"}}
	admin = rbac.Role{Name: "admin", Inherits: []string{"editor"}}
	for i := range 20 {
		viewer.Allow = append(viewer.Allow, fmt.Sprintf("res%d:read", i))
	}
	for i := range 16 {
		editor.Allow = append(editor.Allow, fmt.Sprintf("res%d:write", i))
	}
	editor.Deny = append(editor.Deny, "res0:purge", "res1:purge")
	for i := range 10 {
		admin.Allow = append(admin.Allow, fmt.Sprintf("res%d:*", i+10))
	}
	admin.Allow = append(admin.Allow, "audit:read")
	admin.Deny = append(admin.Deny, "res19:purge")
	return rbac.Policy{Roles: []rbac.Role{viewer, editor, admin}}
}

func BenchmarkAllowed(b *testing.B) {
	a := mustAuthorizer(b, rbac.Options{Policy: hierarchy50()})
	for _, bc := range []struct {
		name  string
		roles []string
		perm  string
		want  bool
	}{
		{"inherited_2_levels", []string{"admin"}, "res3:read", true},
		{"wildcard", []string{"admin"}, "res15:export", true},
		{"deny_inherited", []string{"admin"}, "res0:purge", false},
		{"no_rule", []string{"viewer"}, "billing:read", false},
		{"two_roles", []string{"viewer", "editor"}, "res7:write", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if got := a.Allowed(bc.roles, bc.perm); got != bc.want {
				b.Fatalf("Allowed(%v, %q) = %v, want %v", bc.roles, bc.perm, got, bc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.Allowed(bc.roles, bc.perm)
			}
		})
	}
}

func BenchmarkAllowedParallel(b *testing.B) {
	a := mustAuthorizer(b, rbac.Options{Policy: hierarchy50()})
	roles := []string{"admin"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Allowed(roles, "res3:read")
		}
	})
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkRequire is the whole request path: Middleware (the context it adds is the only
// allocation), the route's Require, and the access-review record.
func BenchmarkRequire(b *testing.B) {
	roles := []string{"admin"}
	a := mustAuthorizer(b, rbac.Options{
		Policy:  hierarchy50(),
		Subject: func(*http.Request) string { return "alice" },
		Roles:   func(*http.Request) []string { return roles },
	})
	h := a.Middleware(rbac.Require("res3:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	r := httptest.NewRequest("GET", "/res/3", nil)
	r.Pattern = "GET /res/{id}"
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
