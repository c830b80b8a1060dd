package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Errors of policies, wrapped in a [*PolicyError] that says where the problem is. Match them
// with [errors.Is].
var (
	ErrSyntax        = errors.New("rbac: malformed policy file")
	ErrUnknownKey    = errors.New("rbac: unknown key")
	ErrBadRoleName   = errors.New("rbac: malformed role name")
	ErrDuplicate     = errors.New("rbac: duplicate definition")
	ErrUnknownRole   = errors.New("rbac: unknown role")
	ErrCycle         = errors.New("rbac: roles inherit in a cycle")
	ErrBadPermission = errors.New("rbac: malformed permission")
	ErrBadRoute      = errors.New("rbac: malformed route")
)

// Policy is the whole authorization model: the roles and, optionally, the permissions each
// ServeMux route needs. Build it in code or read it with [ParsePolicy]; the zero value grants
// nothing. A Policy is only data; [New] and [Authorizer.SetPolicy] check and compile it.
type Policy struct {
	Roles  []Role
	Routes []Route

	src *source // where each item was read from, for line-precise errors; nil in code
}

// Role is a named set of permissions.
//
// A permission is one to eight segments separated by ':' ("notes:read", "admin:users:delete"),
// each of ASCII letters, digits, '_', '-' and '.'. In Allow and Deny the last segment may be
// "*", covering one or more further segments: "notes:*" grants "notes:read" and
// "notes:read:own", never "notes" itself nor "notesx:read"; "*" alone covers everything.
// Matching is by whole segments, never by substring, and is case-sensitive.
type Role struct {
	// Name is 1 to 128 ASCII letters, digits and "_-.:/@", unique within the policy.
	Name string
	// Inherits names roles whose grants and denials this role also has. Cycles are refused.
	Inherits []string
	// Allow lists the permissions the role grants.
	Allow []string
	// Deny lists permissions the role refuses, whatever any role allows: a subject holding
	// (directly or by inheritance) a role that denies a permission never has it.
	Deny []string
}

// Route gives the permissions a ServeMux pattern needs. The pattern must equal, byte for
// byte, the one the route was registered with ("GET /notes/{id}"), since that is what
// [http.Request.Pattern] holds. Patterns in no Route are refused (deny by default) unless
// their handler is wrapped by [Require] or [RequireAny].
type Route struct {
	Pattern string
	// Require lists permissions that are all needed. Empty only when Public is true.
	Require []string
	// Public lets every request through the route, with or without a subject.
	Public bool
}

// PolicyError is one problem found in a policy: what is wrong and where.
type PolicyError struct {
	File   string // file name given to ParsePolicy; empty for policies built in code
	Line   int    // 1-based line in the file; 0 when unknown or built in code
	Detail string // what is wrong, e.g. `role "editor" inherits unknown role "writer"`
	Err    error  // one of the ErrXxx sentinels
}

// Error returns "rbac: file:line: detail".
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("rbac: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		if e.File == "" {
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	} else if e.File != "" {
		b.WriteString(" ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *PolicyError) Unwrap() error { return e.Err }

// source records the lines items were read from. Keys hold the item's content rather than
// its index, so they stay right even if the caller edits the slices of a parsed Policy.
type source struct {
	file  string
	lines map[string]int
}

func lineKey(parts ...string) string { return strings.Join(parts, "\x00") }

func (s *source) line(parts ...string) int {
	if s == nil {
		return 0
	}
	return s.lines[lineKey(parts...)]
}

func (s *source) set(line int, parts ...string) {
	k := lineKey(parts...)
	if _, ok := s.lines[k]; !ok {
		s.lines[k] = line
	}
}

// Validate reports every problem of p, joined with [errors.Join], each a [*PolicyError].
func (p Policy) Validate() error {
	_, err := compile(p)
	return err
}

// clone returns a deep copy, so that a compiled policy never shares slices with the caller.
func (p Policy) clone() Policy {
	c := Policy{src: p.src, Roles: make([]Role, len(p.Roles)), Routes: make([]Route, len(p.Routes))}
	for i, r := range p.Roles {
		c.Roles[i] = Role{Name: r.Name, Inherits: slices.Clone(r.Inherits), Allow: slices.Clone(r.Allow), Deny: slices.Clone(r.Deny)}
	}
	for i, r := range p.Routes {
		c.Routes[i] = Route{Pattern: r.Pattern, Require: slices.Clone(r.Require), Public: r.Public}
	}
	return c
}

// Rule is one Allow or Deny entry of a role: what [Authorizer.Explain] reports as the reason
// of a decision.
type Rule struct {
	Role       string // the role that declares the rule
	Permission string // as written, e.g. "notes:*"
	Deny       bool
	Line       int // line in the policy file; 0 for policies built in code
}

// String returns a short form such as `allow notes:* (role editor, line 12)`.
func (r Rule) String() string {
	if r.Role == "" {
		return "no rule (deny by default)"
	}
	s := "allow "
	if r.Deny {
		s = "deny "
	}
	s += r.Permission + " (role " + r.Role
	if r.Line > 0 {
		s += ", line " + strconv.Itoa(r.Line)
	}
	return s + ")"
}

// bitset is a set of role ids.
type bitset []uint64

func (b bitset) has(id int) bool {
	w := id >> 6
	return w < len(b) && b[w]&(1<<(uint(id)&63)) != 0
}

func (b bitset) add(id int) { b[id>>6] |= 1 << (uint(id) & 63) }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

// entry says which roles are allowed and which denied one permission key.
type entry struct {
	allow, deny bitset
}

// compiled is a checked policy, flattened for the request path: for every permission that
// any rule names exactly, and for every wildcard prefix, the set of roles that are allowed
// and denied it after inheritance and wildcards. A check is then one map lookup for the
// permission (a few more when only a wildcard covers it) and one per role of the subject,
// with no allocation.
type compiled struct {
	policy Policy
	roleID map[string]int
	roles  []*crole
	exact  map[string]*entry // concrete permissions named by some rule
	prefix map[string]*entry // "notes:" for rules "notes:*"; "" for "*"
	routes map[string]*croute
}

type crole struct {
	name      string
	rules     []Rule // own rules first, then inherited ones, nearest role first
	ancestors []int  // itself and every role it inherits, nearest first
}

type croute struct {
	pattern string
	perms   []string
	public  bool
}

// lookup returns the entry deciding perm: its exact entry, or the entry of the longest
// wildcard prefix covering it, or nil when no rule covers it.
func (c *compiled) lookup(perm string) *entry {
	if e := c.exact[perm]; e != nil {
		return e
	}
	if len(c.prefix) == 0 {
		return nil
	}
	for i := len(perm) - 1; i > 0; i-- {
		if perm[i] == ':' {
			if e := c.prefix[perm[:i+1]]; e != nil {
				return e
			}
		}
	}
	return c.prefix[""]
}

// allowed is the check: deny beats allow, and nothing is allowed unless some role of the
// subject is granted perm. Unknown role names are ignored.
func (c *compiled) allowed(roles []string, perm string) bool {
	e := c.lookup(perm)
	if e == nil {
		return false
	}
	granted := false
	for _, name := range roles {
		id, ok := c.roleID[name]
		if !ok {
			continue
		}
		if e.deny.has(id) {
			return false
		}
		if e.allow.has(id) {
			granted = true
		}
	}
	return granted
}

// explain finds the rule deciding perm for roles: the first deny that covers it, else the
// first allow, else none.
func (c *compiled) explain(roles []string, perm string) Decision {
	d := Decision{Permission: perm}
	if !validPermission(perm, false) {
		return d
	}
	var allow Decision
	for _, name := range roles {
		id, ok := c.roleID[name]
		if !ok {
			continue
		}
		for _, r := range c.roles[id].rules {
			if !covers(r.Permission, perm) {
				continue
			}
			if r.Deny {
				return Decision{Permission: perm, Role: name, Rule: r}
			}
			if allow.Role == "" {
				allow = Decision{Allowed: true, Permission: perm, Role: name, Rule: r}
			}
		}
	}
	if allow.Allowed {
		return allow
	}
	return d
}

// compile checks p and flattens it. It reports every problem, not just the first.
func compile(p Policy) (*compiled, error) {
	p = p.clone()
	src := p.src
	var errs []error
	bad := func(sentinel error, line int, format string, args ...any) {
		file := ""
		if src != nil {
			file = src.file
		}
		errs = append(errs, &PolicyError{File: file, Line: line, Detail: fmt.Sprintf(format, args...), Err: sentinel})
	}

	c := &compiled{
		policy: p,
		roleID: make(map[string]int, len(p.Roles)),
		exact:  make(map[string]*entry),
		prefix: make(map[string]*entry),
		routes: make(map[string]*croute, len(p.Routes)),
	}
	for _, r := range p.Roles {
		line := src.line("role", r.Name)
		if !validRoleName(r.Name) {
			bad(ErrBadRoleName, line, "role %q: name must be 1 to %d ASCII letters, digits or _-.:/@", r.Name, maxNameLen)
			continue
		}
		if _, dup := c.roleID[r.Name]; dup {
			bad(ErrDuplicate, line, "role %q is defined twice", r.Name)
			continue
		}
		c.roleID[r.Name] = len(c.roles)
		c.roles = append(c.roles, &crole{name: r.Name})
	}
	defs := make([]*Role, len(c.roles))
	for i := range p.Roles {
		r := &p.Roles[i]
		if id, ok := c.roleID[r.Name]; ok && defs[id] == nil {
			defs[id] = r
		}
	}
	for _, r := range defs {
		for _, in := range r.Inherits {
			if _, ok := c.roleID[in]; !ok {
				bad(ErrUnknownRole, src.line("inherits", r.Name, in), "role %q inherits unknown role %q", r.Name, in)
			}
		}
		for _, kind := range []string{"allow", "deny"} {
			list := r.Allow
			if kind == "deny" {
				list = r.Deny
			}
			for _, perm := range list {
				if !validPermission(perm, true) {
					bad(ErrBadPermission, src.line(kind, r.Name, perm), "role %q: %s %q: want segments like notes:read or notes:*", r.Name, kind, perm)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Cycles: depth-first search, reporting each cycle once with its path.
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(defs))
	var stack []string
	var visit func(id int)
	visit = func(id int) {
		color[id] = grey
		stack = append(stack, defs[id].Name)
		for _, in := range defs[id].Inherits {
			j := c.roleID[in]
			switch color[j] {
			case white:
				visit(j)
			case grey:
				start := slices.Index(stack, in)
				path := append(slices.Clone(stack[start:]), in)
				bad(ErrCycle, src.line("inherits", defs[id].Name, in), "roles inherit in a cycle: %s", strings.Join(path, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	for id := range defs {
		if color[id] == white {
			visit(id)
		}
	}

	c.compileRoutes(p.Routes, bad)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.flatten(defs)
	return c, nil
}

// flatten computes each role's inherited rules and the per-permission role sets.
func (c *compiled) flatten(defs []*Role) {
	src := c.policy.src
	n := len(defs)
	words := (n + 63) / 64
	// descendants[d] holds every role that has d's rules: d itself and all roles that inherit
	// it, directly or not.
	descendants := make([]bitset, n)
	for id := range descendants {
		descendants[id] = make(bitset, words)
	}
	for id := range defs {
		// Breadth-first over ancestors, nearest first, so Explain reports the closest rule.
		seen := make([]bool, n)
		queue := []int{id}
		seen[id] = true
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			descendants[a].add(id)
			c.roles[id].ancestors = append(c.roles[id].ancestors, a)
			for _, perm := range defs[a].Deny {
				c.roles[id].rules = append(c.roles[id].rules, Rule{Role: defs[a].Name, Permission: perm, Deny: true, Line: src.line("deny", defs[a].Name, perm)})
			}
			for _, perm := range defs[a].Allow {
				c.roles[id].rules = append(c.roles[id].rules, Rule{Role: defs[a].Name, Permission: perm, Line: src.line("allow", defs[a].Name, perm)})
			}
			for _, in := range defs[a].Inherits {
				if j := c.roleID[in]; !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}

	// Every key a check can land on: concrete permissions and wildcard prefixes.
	type declared struct {
		role int
		deny bool
	}
	byPattern := make(map[string][]declared)
	for id, def := range defs {
		for _, perm := range def.Allow {
			byPattern[perm] = append(byPattern[perm], declared{id, false})
		}
		for _, perm := range def.Deny {
			byPattern[perm] = append(byPattern[perm], declared{id, true})
		}
	}
	newEntry := func(candidates []string) *entry {
		e := &entry{allow: make(bitset, words), deny: make(bitset, words)}
		for _, pat := range candidates {
			for _, d := range byPattern[pat] {
				if d.deny {
					e.deny.or(descendants[d.role])
				} else {
					e.allow.or(descendants[d.role])
				}
			}
		}
		return e
	}
	for pat := range byPattern {
		if prefix, ok := wildcardPrefix(pat); ok {
			if c.prefix[prefix] == nil {
				c.prefix[prefix] = newEntry(coveringWildcards(prefix, nil))
			}
			continue
		}
		if c.exact[pat] == nil {
			c.exact[pat] = newEntry(coveringWildcards(pat, []string{pat}))
		}
	}
}

// coveringWildcards appends to dst every wildcard pattern that covers all permissions
// starting with s (when s ends in ':') or the permission s itself.
func coveringWildcards(s string, dst []string) []string {
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == ':' {
			dst = append(dst, s[:i+1]+"*")
		}
	}
	return append(dst, "*")
}

func (c *compiled) compileRoutes(routes []Route, bad func(error, int, string, ...any)) {
	src := c.policy.src
	for _, rt := range routes {
		line := src.line("route", rt.Pattern)
		if !validPattern(rt.Pattern) {
			bad(ErrBadRoute, line, "route %q: want a ServeMux pattern such as \"GET /notes/{id}\"", rt.Pattern)
			continue
		}
		if _, dup := c.routes[rt.Pattern]; dup {
			bad(ErrDuplicate, line, "route %q is defined twice", rt.Pattern)
			continue
		}
		switch {
		case rt.Public && len(rt.Require) > 0:
			bad(ErrBadRoute, line, "route %q: public routes need no permissions", rt.Pattern)
			continue
		case !rt.Public && len(rt.Require) == 0:
			bad(ErrBadRoute, line, "route %q: list the permissions it needs, or mark it public", rt.Pattern)
			continue
		}
		ok := true
		for _, perm := range rt.Require {
			if !validPermission(perm, false) {
				bad(ErrBadPermission, src.line("require", rt.Pattern, perm), "route %q: permission %q: want segments like notes:read, without wildcards", rt.Pattern, perm)
				ok = false
			}
		}
		if ok {
			c.routes[rt.Pattern] = &croute{pattern: rt.Pattern, perms: slices.Clone(rt.Require), public: rt.Public}
		}
	}
}

// validPattern checks the shape of a ServeMux pattern, "[METHOD ][HOST]/[PATH]", without
// registering it (which panics on errors): an optional upper-case method, then a path that
// starts with '/' (possibly after a host), with no spaces, controls or '?' or '#'.
func validPattern(p string) bool {
	if p == "" || len(p) > 1024 {
		return false
	}
	rest := p
	if i := strings.IndexByte(p, ' '); i >= 0 {
		method := p[:i]
		if method == "" {
			return false
		}
		for j := 0; j < len(method); j++ {
			if method[j] < 'A' || method[j] > 'Z' {
				return false
			}
		}
		rest = p[i+1:]
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return false
	}
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return false
		}
	}
	return true
}
