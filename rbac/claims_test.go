package rbac_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
)

func claimsOf(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimMapper(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rules  []rbac.ClaimRule
		claims string
		want   []string
	}{
		{"roles", []rbac.ClaimRule{rbac.RolesClaim()}, `{"roles":["editor","viewer"]}`, []string{"editor", "viewer"}},
		{"roles as one string", []rbac.ClaimRule{rbac.RolesClaim()}, `{"roles":"editor"}`, []string{"editor"}},
		{"groups mapped", []rbac.ClaimRule{rbac.GroupsClaim(map[string][]string{"/staff": {"editor"}, "/ops": {"admin", "editor"}})}, `{"groups":["/staff","/ops","/other"]}`, []string{"editor", "admin"}},
		{"groups prefixed", []rbac.ClaimRule{rbac.GroupsClaim(nil)}, `{"groups":["staff"]}`, []string{"group:staff"}},
		{"scope", []rbac.ClaimRule{rbac.ScopeClaim()}, `{"scope":"notes.read  notes.write"}`, []string{"scope:notes.read", "scope:notes.write"}},
		{"scp array", []rbac.ClaimRule{rbac.ScopeClaim()}, `{"scp":["notes.read"]}`, []string{"scope:notes.read"}},
		{"scope wins over scp", []rbac.ClaimRule{rbac.ScopeClaim()}, `{"scope":"a","scp":["b"]}`, []string{"scope:a"}},
		{"permissions", []rbac.ClaimRule{rbac.PermissionsClaim()}, `{"permissions":["read:notes"]}`, []string{"permission:read:notes"}},
		{"keycloak", []rbac.ClaimRule{rbac.KeycloakRealmRoles()}, `{"realm_access":{"roles":["admin","offline_access"]}}`, []string{"admin", "offline_access"}},
		{"keycloak wrong shape", []rbac.ClaimRule{rbac.KeycloakRealmRoles()}, `{"realm_access":["admin"]}`, nil},
		{"verified email domain", []rbac.ClaimRule{rbac.EmailDomainClaim(map[string][]string{"Example.com": {"staff"}})}, `{"email":"Alice@EXAMPLE.com","email_verified":true}`, []string{"staff"}},
		{"unverified email domain", []rbac.ClaimRule{rbac.EmailDomainClaim(map[string][]string{"example.com": {"staff"}})}, `{"email":"alice@example.com"}`, nil},
		{"email_verified as string", []rbac.ClaimRule{rbac.EmailDomainClaim(map[string][]string{"example.com": {"staff"}})}, `{"email":"alice@example.com","email_verified":"true"}`, nil},
		{"lookalike domain", []rbac.ClaimRule{rbac.EmailDomainClaim(map[string][]string{"example.com": {"staff"}})}, `{"email":"alice@example.com.evil.io","email_verified":true}`, nil},
		{"all rules, no duplicates", []rbac.ClaimRule{rbac.RolesClaim(), rbac.KeycloakRealmRoles()}, `{"roles":["a"],"realm_access":{"roles":["a","b"]}}`, []string{"a", "b"}},
		{"non-strings and malformed names ignored", []rbac.ClaimRule{rbac.RolesClaim()}, `{"roles":["a",1,null,{"x":1},"b c",""]}`, []string{"a"}},
		{"escaped pointer", []rbac.ClaimRule{{Claims: []string{"/https:~1~1example.com~1roles"}}}, `{"https://example.com/roles":["a"]}`, []string{"a"}},
		{"no claims", []rbac.ClaimRule{rbac.RolesClaim()}, `{}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := rbac.NewClaimMapper(func(*http.Request) map[string]any { return nil }, tt.rules...)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Map(claimsOf(t, tt.claims)); !slices.Equal(got, tt.want) {
				t.Errorf("Map(%s) = %q, want %q", tt.claims, got, tt.want)
			}
		})
	}
}

func TestClaimMapper_Bounded(t *testing.T) {
	m, err := rbac.NewClaimMapper(func(*http.Request) map[string]any { return nil }, rbac.ScopeClaim())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 10000 {
		b.WriteString("s")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(" ")
		b.WriteByte(byte('a' + i%26))
		b.WriteString(" ")
	}
	if got := m.Map(map[string]any{"scope": b.String()}); len(got) > 256 {
		t.Errorf("Map of 20000 scopes = %d roles, want at most 256", len(got))
	}
}

func TestNewClaimMapper_Errors(t *testing.T) {
	_, err := rbac.NewClaimMapper(nil,
		rbac.ClaimRule{},
		rbac.ClaimRule{Claims: []string{"roles"}},
		rbac.ClaimRule{Claims: []string{"/a~2"}},
		rbac.ClaimRule{Claims: []string{"/email"}, EmailDomain: true},
		rbac.ClaimRule{Claims: []string{"/groups"}, Map: map[string][]string{"g": {"bad role"}}},
	)
	if !errors.Is(err, rbac.ErrClaimRule) {
		t.Fatalf("NewClaimMapper(bad) = %v, want ErrClaimRule", err)
	}
	for _, want := range []string{"claims function", "rule 0", "rule 1", "rule 2", "rule 3", "rule 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// The mapper plugs into Options.Roles, so every route uses the same mapping.
func TestClaimMapper_Roles(t *testing.T) {
	type claimsKey struct{}
	m, err := rbac.NewClaimMapper(func(r *http.Request) map[string]any {
		c, _ := r.Context().Value(claimsKey{}).(map[string]any)
		return c
	}, rbac.KeycloakRealmRoles(), rbac.ScopeClaim())
	if err != nil {
		t.Fatal(err)
	}
	p := notesPolicy()
	p.Roles = append(p.Roles, rbac.Role{Name: "scope:notes.read", Inherits: []string{"viewer"}})
	a := mustAuthorizer(t, rbac.Options{Policy: p, Roles: m.Roles})
	h := a.Middleware(rbac.Require("notes:read")(ok))
	for _, tt := range []struct {
		claims string
		want   int
	}{
		{`{"sub":"a","realm_access":{"roles":["viewer"]}}`, 200},
		{`{"sub":"a","scope":"notes.read"}`, 200},
		{`{"sub":"a","scope":"viewer"}`, 403}, // a scope is not a role of the same name
		{`{"sub":"a"}`, 403},
	} {
		r := httptest.NewRequest("GET", "/notes/1", nil)
		r = withWho(r, "a")
		r = r.WithContext(contextWith(r, claimsKey{}, claimsOf(t, tt.claims)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("claims %s: status = %d, want %d", tt.claims, w.Code, tt.want)
		}
	}
}

// FuzzClaimMapper: no panic on any claims, and the roles are well-formed, distinct and few.
func FuzzClaimMapper(f *testing.F) {
	f.Add(`{"roles":["editor","viewer"],"scope":"a b","realm_access":{"roles":["x"]}}`)
	f.Add(`{"groups":"g","permissions":[1,"p"],"email":"a@b.c","email_verified":true}`)
	m, err := rbac.NewClaimMapper(func(*http.Request) map[string]any { return nil },
		rbac.RolesClaim(), rbac.GroupsClaim(nil), rbac.ScopeClaim(), rbac.PermissionsClaim(),
		rbac.KeycloakRealmRoles(), rbac.EmailDomainClaim(map[string][]string{"b.c": {"staff"}}))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var claims map[string]any
		if json.Unmarshal([]byte(s), &claims) != nil {
			return
		}
		roles := m.Map(claims)
		if len(roles) > 256 {
			t.Fatalf("%d roles", len(roles))
		}
		seen := map[string]bool{}
		for _, r := range roles {
			if seen[r] || r == "" || strings.ContainsAny(r, " \n\t") {
				t.Fatalf("role %q duplicated or malformed in %q", r, roles)
			}
			seen[r] = true
		}
	})
}
