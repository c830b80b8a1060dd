package rbac_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
)

const goodYAML = `# notes service
roles:
  viewer:
    description: read-only users
    allow: [notes:read]
  editor:
    inherits: [viewer]
    allow:
      - notes:write
      - notes:delete
  moderator:
    inherits: [editor]
    allow: ["notes:*"]
    deny: [notes:purge]
  empty:
routes:
  "GET /notes/{id}": [notes:read]
  "PUT /notes/{id}": [notes:write]
  "GET /healthz": public
`

func TestParsePolicy(t *testing.T) {
	p, err := rbac.ParsePolicy("policy.yaml", []byte(goodYAML))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	var names []string
	for _, r := range p.Roles {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"viewer", "editor", "moderator", "empty"}) {
		t.Errorf("roles = %q", names)
	}
	if got := p.Roles[1]; !slices.Equal(got.Allow, []string{"notes:write", "notes:delete"}) || !slices.Equal(got.Inherits, []string{"viewer"}) {
		t.Errorf("editor = %+v", got)
	}
	if len(p.Routes) != 3 || !p.Routes[2].Public || !slices.Equal(p.Routes[0].Require, []string{"notes:read"}) {
		t.Errorf("routes = %+v", p.Routes)
	}
	a := mustAuthorizer(t, rbac.Options{Policy: p})
	if d := a.Explain([]string{"moderator"}, "notes:purge"); d.Rule.Line != 14 || d.Allowed {
		t.Errorf("Explain(moderator, notes:purge) = %+v, want a deny from line 14", d)
	}
	if d := a.Explain([]string{"editor"}, "notes:read"); d.Rule.Line != 5 || d.String() != `"notes:read": allow notes:read (role viewer, line 5) via "editor"` {
		t.Errorf("Explain(editor, notes:read) = %s, want the rule of line 5", d)
	}
}

func TestParsePolicy_JSON(t *testing.T) {
	src := "{\n\t\"roles\": {\n\t\t\"viewer\": {\"allow\": [\"notes:read\"]},\n\t\t\"editor\": {\"inherits\": [\"viewr\"]}\n\t}\n}\n"
	_, err := rbac.ParsePolicy("policy.json", []byte(src))
	var pe *rbac.PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, rbac.ErrUnknownRole) || pe.Line != 4 {
		t.Fatalf("ParsePolicy(JSON with unknown role) = %v, want ErrUnknownRole at line 4", err)
	}
	if _, err := rbac.ParsePolicy("policy.json", []byte(strings.Replace(src, "viewr", "viewer", 1))); err != nil {
		t.Errorf("ParsePolicy(valid JSON) = %v", err)
	}
}

// Bad policies are refused with the file name, line and a sentinel for every problem.
func TestParsePolicy_Errors(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want []error
		line []int // the lines of the errors, in order
	}{
		{"unknown role", "roles:\n  a:\n    inherits: [b]\n", []error{rbac.ErrUnknownRole}, []int{3}},
		{"cycle", "roles:\n  a:\n    inherits: [c]\n  b:\n    inherits: [a]\n  c:\n    inherits:\n      - b\n", []error{rbac.ErrCycle}, []int{5}},
		{"self cycle", "roles:\n  a:\n    inherits: [a]\n", []error{rbac.ErrCycle}, []int{3}},
		{"malformed permissions", "roles:\n  a:\n    allow:\n      - notes::read\n      - notes*\n      - 'notes:*:own'\n      - notes read\n", []error{rbac.ErrBadPermission, rbac.ErrBadPermission, rbac.ErrBadPermission, rbac.ErrBadPermission}, []int{4, 5, 6, 7}},
		{"duplicate role", "roles:\n  a:\n    allow: [x:y]\n  a:\n    allow: [x:z]\n", []error{rbac.ErrDuplicate}, []int{4}},
		{"duplicate permission", "roles:\n  a:\n    allow: [x:y, x:y]\n", []error{rbac.ErrDuplicate}, []int{3}},
		{"unknown top-level key", "roles: {}\nusers:\n  alice: [admin]\n", []error{rbac.ErrUnknownKey}, []int{2}},
		{"unknown role key", "roles:\n  a:\n    alow: [x:y]\n", []error{rbac.ErrUnknownKey}, []int{3}},
		{"bad role name", "roles:\n  \"a b\":\n    allow: [x:y]\n", []error{rbac.ErrBadRoleName}, []int{2}},
		{"list expected", "roles:\n  a:\n    allow: x:y\n", []error{rbac.ErrSyntax}, []int{3}},
		{"route wildcard", "roles: {}\nroutes:\n  GET /x: ['x:*']\n", []error{rbac.ErrBadPermission}, []int{3}},
		{"route without permissions", "roles: {}\nroutes:\n  GET /x: []\n", []error{rbac.ErrBadRoute}, []int{3}},
		{"route not a pattern", "roles: {}\nroutes:\n  notes: [x:y]\n", []error{rbac.ErrBadRoute}, []int{3}},
		{"route scalar", "roles: {}\nroutes:\n  GET /x: private\n", []error{rbac.ErrBadRoute}, []int{3}},
		{"alias", "roles:\n  a: &r\n    allow: [x:y]\n  b: *r\n", []error{rbac.ErrSyntax}, []int{4}},
		{"not a mapping", "- a\n- b\n", []error{rbac.ErrSyntax}, []int{1}},
		{"empty", "", []error{rbac.ErrSyntax}, []int{0}},
		{"two documents", "roles: {}\n---\nroles: {}\n", []error{rbac.ErrSyntax}, []int{2}},
		{"yaml syntax", "roles:\n  a: [\n", []error{rbac.ErrSyntax}, []int{2}},
		{"tab indentation", "roles:\n\ta: {}\n", []error{rbac.ErrSyntax}, []int{2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rbac.ParsePolicy("p.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("ParsePolicy(%q) = nil error, want %v", tt.src, tt.want)
			}
			var got []*rbac.PolicyError
			var walk func(error)
			walk = func(e error) {
				if j, ok := e.(interface{ Unwrap() []error }); ok {
					for _, x := range j.Unwrap() {
						walk(x)
					}
					return
				}
				var pe *rbac.PolicyError
				if errors.As(e, &pe) {
					got = append(got, pe)
				}
			}
			walk(err)
			if len(got) != len(tt.want) {
				t.Fatalf("ParsePolicy(%q) = %d errors (%v), want %d", tt.src, len(got), err, len(tt.want))
			}
			for i, pe := range got {
				if !errors.Is(pe, tt.want[i]) || pe.Line != tt.line[i] || pe.File != "p.yaml" {
					t.Errorf("error %d = %q (line %d), want %v at p.yaml line %d", i, pe, pe.Line, tt.want[i], tt.line[i])
				}
				if tt.line[i] > 0 && !strings.HasPrefix(pe.Error(), "rbac: p.yaml:") {
					t.Errorf("error %q does not start with the file and line", pe)
				}
			}
		})
	}
}

// Policies built in code get the same checks, naming the role instead of a line.
func TestValidate_Code(t *testing.T) {
	p := rbac.Policy{Roles: []rbac.Role{
		{Name: "a", Inherits: []string{"b"}},
		{Name: "b", Inherits: []string{"a"}},
		{Name: "a"},
		{Name: "c", Allow: []string{"notes:"}},
	}}
	err := p.Validate()
	for _, want := range []error{rbac.ErrDuplicate, rbac.ErrBadPermission} {
		if !errors.Is(err, want) {
			t.Errorf("Validate() = %v, want %v", err, want)
		}
	}
	p.Roles = p.Roles[:2]
	if err := p.Validate(); !errors.Is(err, rbac.ErrCycle) || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Errorf("Validate(cycle) = %v, want ErrCycle naming a -> b -> a", err)
	}
}

// FuzzParsePolicy: no panic, and whatever parses is a valid policy that New accepts and
// that denies a permission no rule names.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(goodYAML))
	f.Add([]byte("roles:\n  a:\n    inherits: [c]\n  b:\n    inherits: [a]\n  c:\n    inherits: [b]\n"))
	f.Add([]byte("roles:\n  a: &r\n    allow: [x:y]\n  b: *r\n"))
	f.Add([]byte(`{"roles":{"a":{"allow":["*"]}},"routes":{"GET /":"public"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rbac.ParsePolicy("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy accepted a policy that Validate refuses: %v", err)
		}
		if len(p.Roles) == 0 && len(p.Routes) == 0 {
			return
		}
		a := mustAuthorizer(t, rbac.Options{Policy: p})
		// The compiled check and the rule-by-rule Explain agree on every permission the
		// policy names (wildcards made concrete) for every single role and all roles at once.
		var roles, perms []string
		for _, r := range p.Roles {
			roles = append(roles, r.Name)
			for _, perm := range append(slices.Clone(r.Allow), r.Deny...) {
				perms = append(perms, strings.TrimSuffix(perm, "*")+"x", perm+":y")
			}
		}
		perms = append(perms, "zz-fuzz-unnamed:zz")
		for _, perm := range perms {
			for _, rs := range append([][]string{roles}, splitRoles(roles)...) {
				if got, want := a.Allowed(rs, perm), a.Explain(rs, perm).Allowed; got != want {
					t.Fatalf("Allowed(%q, %q) = %v, Explain says %v", rs, perm, got, want)
				}
			}
		}
	})
}

func splitRoles(roles []string) [][]string {
	var out [][]string
	for _, r := range roles {
		out = append(out, []string{r})
	}
	return out
}
