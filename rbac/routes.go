package rbac

import (
	"slices"
	"strings"
)

// RouteReport compares the routes an application registers with the policy's routes, for a
// startup check (log it, or fail a test on it).
type RouteReport struct {
	// Unlisted are registered patterns the policy has no route for. They are refused (deny
	// by default) unless their handler is wrapped by [Require] or [RequireAny].
	Unlisted []string
	// Unregistered are policy routes no registered pattern equals: usually a typo, since a
	// rule must name the pattern byte for byte.
	Unregistered []string
	// AnyMethod are registered, non-public patterns without a method ("/admin/users"
	// rather than "DELETE /admin/users"): they serve every method, including GET, HEAD and
	// TRACE, so a state-changing function is reachable by a safe method (ASVS5 3.5.3) and
	// unsupported methods are not refused with 405 (ASVS5 4.1.4).
	AnyMethod []string
}

// OK reports whether the report found nothing.
func (r RouteReport) OK() bool {
	return len(r.Unlisted) == 0 && len(r.Unregistered) == 0 && len(r.AnyMethod) == 0
}

// RouteReport checks patterns, the ServeMux patterns the application registers (the
// ServeMux cannot list them, so the caller passes the same list it registers), against the
// policy in use. The lists in the result are sorted.
func (a *Authorizer) RouteReport(patterns []string) RouteReport {
	c := a.cur.Load()
	var rep RouteReport
	registered := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		if registered[p] {
			continue
		}
		registered[p] = true
		rt := c.routes[p]
		if rt == nil {
			rep.Unlisted = append(rep.Unlisted, p)
		}
		if (rt == nil || !rt.public) && !strings.Contains(p, " ") {
			rep.AnyMethod = append(rep.AnyMethod, p)
		}
	}
	for p := range c.routes {
		if !registered[p] {
			rep.Unregistered = append(rep.Unregistered, p)
		}
	}
	slices.Sort(rep.Unlisted)
	slices.Sort(rep.Unregistered)
	slices.Sort(rep.AnyMethod)
	return rep
}
