package bench

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// rbacRule is one grant or denial of the shared benchmark policy.
type rbacRule struct {
	role, perm string
	deny       bool
}

// rbacHierarchy is the policy both libraries load: three levels (admin inherits editor
// inherits viewer) and 50 rules, wildcards and denials included.
func rbacHierarchy() (rules []rbacRule, inherits [][2]string) {
	for i := range 20 {
		rules = append(rules, rbacRule{"viewer", fmt.Sprintf("res%d:read", i), false})
	}
	for i := range 16 {
		rules = append(rules, rbacRule{"editor", fmt.Sprintf("res%d:write", i), false})
	}
	rules = append(rules, rbacRule{"editor", "res0:purge", true}, rbacRule{"editor", "res1:purge", true})
	for i := range 10 {
		rules = append(rules, rbacRule{"admin", fmt.Sprintf("res%d:*", i+10), false})
	}
	rules = append(rules, rbacRule{"admin", "audit:read", false}, rbacRule{"admin", "res19:purge", true})
	return rules, [][2]string{{"editor", "viewer"}, {"admin", "editor"}}
}

func rbacBulwark(tb testing.TB) *rbac.Authorizer {
	rules, inherits := rbacHierarchy()
	roles := map[string]*rbac.Role{}
	var order []string
	role := func(name string) *rbac.Role {
		if roles[name] == nil {
			roles[name] = &rbac.Role{Name: name}
			order = append(order, name)
		}
		return roles[name]
	}
	for _, r := range rules {
		if r.deny {
			role(r.role).Deny = append(role(r.role).Deny, r.perm)
		} else {
			role(r.role).Allow = append(role(r.role).Allow, r.perm)
		}
	}
	for _, in := range inherits {
		role(in[0]).Inherits = append(role(in[0]).Inherits, in[1])
	}
	var p rbac.Policy
	for _, name := range order {
		p.Roles = append(p.Roles, *roles[name])
	}
	a, err := rbac.New(rbac.Options{
		Policy:  p,
		Subject: func(*http.Request) string { return "" },
		Roles:   func(*http.Request) []string { return nil },
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// rbacCasbinModel is casbin's RBAC model with deny-override: permissions "obj:act" become
// (obj, act), and a trailing ":*" becomes act "*".
const rbacCasbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && (r.act == p.act || p.act == "*")
`

func rbacCasbinPolicy(tb testing.TB) (model.Model, [][]string, [][]string) {
	m, err := model.NewModelFromString(rbacCasbinModel)
	if err != nil {
		tb.Fatal(err)
	}
	rules, inherits := rbacHierarchy()
	var ps, gs [][]string
	for _, r := range rules {
		obj, act, _ := strings.Cut(r.perm, ":")
		eft := "allow"
		if r.deny {
			eft = "deny"
		}
		ps = append(ps, []string{r.role, obj, act, eft})
	}
	for _, in := range inherits {
		gs = append(gs, []string{in[0], in[1]})
	}
	return m, ps, gs
}

func rbacCasbin(tb testing.TB) *casbin.Enforcer {
	m, ps, gs := rbacCasbinPolicy(tb)
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := e.AddPolicies(ps); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.AddGroupingPolicies(gs); err != nil {
		tb.Fatal(err)
	}
	return e
}

func rbacCasbinCached(tb testing.TB) *casbin.CachedEnforcer {
	m, ps, gs := rbacCasbinPolicy(tb)
	e, err := casbin.NewCachedEnforcer(m)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := e.AddPolicies(ps); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.AddGroupingPolicies(gs); err != nil {
		tb.Fatal(err)
	}
	return e
}

// rbacChecks are the checks the benchmark and the agreement test make: role, permission,
// expected decision.
var rbacChecks = []struct {
	name, role, perm string
	want             bool
}{
	{"inherited", "admin", "res3:read", true},
	{"wildcard", "admin", "res15:export", true},
	{"deny", "admin", "res0:purge", false},
	{"none", "viewer", "billing:read", false},
}

// TestRbacPeersAgree checks that the compared configurations decide alike, so the benchmark
// compares like with like.
func TestRbacPeersAgree(t *testing.T) {
	a, e, c := rbacBulwark(t), rbacCasbin(t), rbacCasbinCached(t)
	for _, ck := range rbacChecks {
		obj, act, _ := strings.Cut(ck.perm, ":")
		got := a.Allowed([]string{ck.role}, ck.perm)
		ge, err := e.Enforce(ck.role, obj, act)
		if err != nil {
			t.Fatal(err)
		}
		gc, err := c.Enforce(ck.role, obj, act)
		if err != nil {
			t.Fatal(err)
		}
		if got != ck.want || ge != ck.want || gc != ck.want {
			t.Errorf("%s %s: bulwark %v, casbin %v, casbin cached %v, want %v", ck.role, ck.perm, got, ge, gc, ck.want)
		}
	}
}

// BenchmarkRbac compares one check on the 3-level, 50-rule policy. casbin gets the role as
// its subject directly (no user-to-role lookup), its most favourable setup.
func BenchmarkRbac(b *testing.B) {
	a, e, c := rbacBulwark(b), rbacCasbin(b), rbacCasbinCached(b)
	for _, ck := range rbacChecks[:3] {
		roles := []string{ck.role}
		obj, act, _ := strings.Cut(ck.perm, ":")
		b.Run(ck.name+"/bulwark", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Allowed(roles, ck.perm)
			}
		})
		b.Run(ck.name+"/casbin", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = e.Enforce(ck.role, obj, act)
			}
		})
		b.Run(ck.name+"/casbin-cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Enforce(ck.role, obj, act)
			}
		})
	}
}

// BenchmarkRbacParallel is the same check from all CPUs at once.
func BenchmarkRbacParallel(b *testing.B) {
	a, c := rbacBulwark(b), rbacCasbinCached(b)
	roles := []string{"admin"}
	b.Run("bulwark", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				a.Allowed(roles, "res3:read")
			}
		})
	})
	b.Run("casbin-cached", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = c.Enforce("admin", "res3", "read")
			}
		})
	})
}
