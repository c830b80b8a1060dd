package rbac_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
)

// naiveAllowed is the specification, written the slow obvious way: collect every rule of
// every role reachable from roles; any covering deny refuses, else any covering allow grants.
func naiveAllowed(p rbac.Policy, roles []string, perm string) bool {
	byName := map[string]rbac.Role{}
	for _, r := range p.Roles {
		byName[r.Name] = r
	}
	covers := func(pattern string) bool {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
			return len(perm) > len(prefix) && strings.HasPrefix(perm, prefix)
		}
		return pattern == perm
	}
	seen := map[string]bool{}
	stack := slices.Clone(roles)
	allowed := false
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r, ok := byName[name]
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		for _, d := range r.Deny {
			if covers(d) {
				return false
			}
		}
		for _, a := range r.Allow {
			allowed = allowed || covers(a)
		}
		stack = append(stack, r.Inherits...)
	}
	return allowed
}

// Random policies (inheritance DAGs, wildcards at every depth, denials) decide exactly as
// the naive specification, through both Allowed and Explain.
func TestAllowed_MatchesSpecification(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"notes", "notesx", "admin", "a"}
	acts := []string{"read", "write", "any", "x"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	randPerm := func(wild bool) string {
		segs := []string{pick(vocab)}
		for range rng.IntN(3) {
			segs = append(segs, pick(acts))
		}
		if wild && rng.IntN(3) == 0 {
			if rng.IntN(4) == 0 {
				return "*"
			}
			segs = append(segs[:rng.IntN(len(segs))+1], "*")
		}
		return strings.Join(segs, ":")
	}
	for iter := range 300 {
		var p rbac.Policy
		n := 1 + rng.IntN(8)
		for i := range n {
			r := rbac.Role{Name: fmt.Sprintf("r%d", i)}
			for j := range i { // inherit only lower-numbered roles: no cycles
				if rng.IntN(3) == 0 {
					r.Inherits = append(r.Inherits, fmt.Sprintf("r%d", j))
				}
			}
			for range rng.IntN(4) {
				if perm := randPerm(true); !slices.Contains(r.Allow, perm) {
					r.Allow = append(r.Allow, perm)
				}
			}
			if rng.IntN(3) == 0 {
				r.Deny = append(r.Deny, randPerm(true))
			}
			p.Roles = append(p.Roles, r)
		}
		a := mustAuthorizer(t, rbac.Options{Policy: p})
		for range 40 {
			var roles []string
			for range rng.IntN(3) + 1 {
				roles = append(roles, fmt.Sprintf("r%d", rng.IntN(n+1))) // r<n> is unknown
			}
			perm := randPerm(false)
			want := naiveAllowed(p, roles, perm)
			if got := a.Allowed(roles, perm); got != want {
				t.Fatalf("iteration %d: policy %+v\nAllowed(%q, %q) = %v, want %v", iter, p.Roles, roles, perm, got, want)
			}
			if got := a.Explain(roles, perm); got.Allowed != want {
				t.Fatalf("iteration %d: policy %+v\nExplain(%q, %q) = %v, want allowed %v", iter, p.Roles, roles, perm, got, want)
			}
		}
	}
}
