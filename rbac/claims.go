package rbac

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/internal/jsonpointer"
)

// ClaimRule maps one identity-provider claim to role names. Use the ready rules
// ([RolesClaim], [GroupsClaim], [ScopeClaim], [PermissionsClaim], [KeycloakRealmRoles],
// [EmailDomainClaim]) or write one.
type ClaimRule struct {
	// Claims are JSON Pointers (RFC 6901) to the claim, such as "/roles" or
	// "/realm_access/roles"; the first one present is used ("/scope", then "/scp").
	Claims []string
	// Split splits string values at spaces (the OAuth "scope" claim). Arrays of strings are
	// always accepted, and so is a single string.
	Split bool
	// Prefix is put before each value to make the role name, so that a scope or group never
	// collides with a role of the same name: with Prefix "scope:", scope "notes.read" gives
	// role "scope:notes.read". Not used with Map.
	Prefix string
	// Map, if set, gives the roles for each value; values not in it give none.
	Map map[string][]string
	// EmailDomain takes the domain of an e-mail address value, lower-cased, as the value
	// (then looked up in Map, which is required), and only if the "email_verified" claim is
	// true: an unverified address proves nothing about its domain.
	EmailDomain bool
}

// RolesClaim maps the "roles" claim (Microsoft Entra ID, many OIDC providers) to the roles
// of the same names.
func RolesClaim() ClaimRule { return ClaimRule{Claims: []string{"/roles"}} }

// GroupsClaim maps the "groups" claim through groups, from group name to roles. With a nil
// map, group g gives role "group:g".
func GroupsClaim(groups map[string][]string) ClaimRule {
	return ClaimRule{Claims: []string{"/groups"}, Prefix: "group:", Map: groups}
}

// ScopeClaim maps OAuth scopes, from "scope" (space-separated, RFC 9068) or "scp" (string or
// array), to roles "scope:<scope>".
func ScopeClaim() ClaimRule {
	return ClaimRule{Claims: []string{"/scope", "/scp"}, Split: true, Prefix: "scope:"}
}

// PermissionsClaim maps the "permissions" claim (Auth0 RBAC) to roles "permission:<value>".
func PermissionsClaim() ClaimRule {
	return ClaimRule{Claims: []string{"/permissions"}, Prefix: "permission:"}
}

// KeycloakRealmRoles maps Keycloak's "realm_access.roles" claim to the roles of the same
// names.
func KeycloakRealmRoles() ClaimRule {
	return ClaimRule{Claims: []string{"/realm_access/roles"}}
}

// EmailDomainClaim maps the domain of a verified "email" claim through domains, such as
// {"example.com": {"staff"}}.
func EmailDomainClaim(domains map[string][]string) ClaimRule {
	return ClaimRule{Claims: []string{"/email"}, EmailDomain: true, Map: domains}
}

// ErrClaimRule is returned by [NewClaimMapper] for an invalid rule.
var ErrClaimRule = errors.New("rbac: invalid claim rule")

// Bounds on the work one token's claims can cause.
const (
	maxClaimValues = 256
	maxMappedRoles = 256
)

// ClaimMapper maps verified token claims to role names in one place, so that every route and
// service uses the same mapping. Create it with [NewClaimMapper]; it is immutable and safe for
// concurrent use. Plug it in with rbac.Options{Roles: mapper.Roles}.
type ClaimMapper struct {
	claims func(*http.Request) map[string]any
	rules  []claimRule
}

type claimRule struct {
	ClaimRule
	paths [][]string
}

// NewClaimMapper returns a mapper that reads the request's verified claims with claims and
// applies rules in order, collecting the roles of all of them. claims must return only
// claims whose signature was checked (nil when there are none); a JWT library's map claims
// (map[string]any) fit. It reports every invalid rule, joined, and never panics.
func NewClaimMapper(claims func(*http.Request) map[string]any, rules ...ClaimRule) (*ClaimMapper, error) {
	var errs []error
	if claims == nil {
		errs = append(errs, fmt.Errorf("%w: the claims function is required", ErrClaimRule))
	}
	if len(rules) == 0 {
		errs = append(errs, fmt.Errorf("%w: at least one rule is required", ErrClaimRule))
	}
	m := &ClaimMapper{claims: claims}
	for i, r := range rules {
		cr := claimRule{ClaimRule: r}
		if len(r.Claims) == 0 {
			errs = append(errs, fmt.Errorf("%w: rule %d: Claims is empty", ErrClaimRule, i))
		}
		for _, c := range r.Claims {
			p, err := jsonpointer.Parse(c)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: rule %d: claim %q: %v", ErrClaimRule, i, c, err))
				continue
			}
			cr.paths = append(cr.paths, p)
		}
		if r.EmailDomain && r.Map == nil {
			errs = append(errs, fmt.Errorf("%w: rule %d: EmailDomain needs Map", ErrClaimRule, i))
		}
		if r.Map != nil {
			cr.Map = make(map[string][]string, len(r.Map))
			for k, roles := range r.Map {
				if r.EmailDomain {
					k = strings.ToLower(k)
				}
				for _, role := range roles {
					if !validRoleName(role) {
						errs = append(errs, fmt.Errorf("%w: rule %d: %q maps to malformed role %q", ErrClaimRule, i, k, role))
					}
				}
				cr.Map[k] = append([]string(nil), roles...)
			}
		}
		m.rules = append(m.rules, cr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Roles returns the roles the request's claims map to, or nil. It is the glue for
// Options.Roles.
func (m *ClaimMapper) Roles(r *http.Request) []string {
	return m.Map(m.claims(r))
}

// Map returns the roles claims map to, without duplicates, in rule order. Values that are
// not strings are ignored, and so is anything past 256 values per claim or 256 roles.
func (m *ClaimMapper) Map(claims map[string]any) []string {
	if claims == nil {
		return nil
	}
	var roles []string
	add := func(role string) {
		if len(roles) < maxMappedRoles && validRoleName(role) && !contains(roles, role) {
			roles = append(roles, role)
		}
	}
	for _, rule := range m.rules {
		v, ok := any(nil), false
		for _, p := range rule.paths {
			if v, ok = lookupClaim(claims, p); ok {
				break
			}
		}
		if !ok {
			continue
		}
		if rule.EmailDomain && claims["email_verified"] != true {
			continue
		}
		n := 0
		eachString(v, rule.Split, func(s string) bool {
			n++
			if n > maxClaimValues {
				return false
			}
			if rule.EmailDomain {
				at := strings.LastIndexByte(s, '@')
				if at < 1 || at == len(s)-1 {
					return true
				}
				s = strings.ToLower(s[at+1:])
			}
			if rule.Map != nil {
				for _, role := range rule.Map[s] {
					add(role)
				}
				return true
			}
			add(rule.Prefix + s)
			return true
		})
	}
	return roles
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// eachString calls fn for each string in v (a string or an array of values) until it
// returns false.
func eachString(v any, split bool, fn func(string) bool) {
	switch v := v.(type) {
	case string:
		if !split {
			fn(v)
			return
		}
		for s := range strings.FieldsSeq(v) {
			if !fn(s) {
				return
			}
		}
	case []string:
		for _, s := range v {
			if !fn(s) {
				return
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && !fn(s) {
				return
			}
		}
	}
}

func lookupClaim(claims map[string]any, path []string) (any, bool) {
	var cur any = claims
	for _, name := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}
