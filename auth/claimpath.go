package auth

import (
	"errors"
	"strconv"
	"strings"

	"github.com/bulwark-go/bulwark/internal/jsonpointer"
)

// ErrClaimPath is returned for a claim path that is not a JSON Pointer (RFC 6901).
var ErrClaimPath = errors.New("auth: claim path must be a JSON Pointer such as /realm_access/roles")

var errNoClaim = errors.New("auth: no such claim")

// claimPath is a parsed JSON Pointer (RFC 6901): the member names or array indexes to follow
// from the claims object. JSON Pointer rather than a dotted path because claim names often
// hold dots and slashes ("https://example.com/roles"), which it can escape: "~1" is "/" and
// "~0" is "~".
type claimPath []string

// parseClaimPath parses a JSON Pointer. The empty pointer (the whole claims set) is refused:
// no claim path should name it.
func parseClaimPath(s string) (claimPath, error) {
	tokens, err := jsonpointer.Parse(s)
	if err != nil {
		return nil, ErrClaimPath
	}
	return claimPath(tokens), nil
}

// defaultRolesClaim is where roles are read from when an issuer names no RolesClaim.
const defaultRolesClaim = "/roles"

// rolesPath parses a RolesClaim setting, "" meaning defaultRolesClaim.
func rolesPath(claim string) (claimPath, error) {
	if claim == "" {
		claim = defaultRolesClaim
	}
	return parseClaimPath(claim)
}

// String returns the JSON Pointer form of p.
func (p claimPath) String() string { return jsonpointer.Format(p) }

// lookup returns the raw JSON value that p names in doc, a claims object.
func (p claimPath) lookup(doc []byte) ([]byte, error) {
	cur := doc
	for _, name := range p {
		cur = trimSpace(cur)
		if len(cur) == 0 {
			return nil, errNoClaim
		}
		var next []byte
		var err error
		switch cur[0] {
		case '{':
			err = eachMember(cur, func(n string, v []byte) error {
				if n == name {
					next = v
				}
				return nil
			})
		case '[':
			idx, ok := arrayIndex(name)
			if !ok {
				return nil, errNoClaim
			}
			i := 0
			err = eachElement(cur, func(v []byte) error {
				if i == idx {
					next = v
				}
				i++
				return nil
			})
		default:
			return nil, errNoClaim
		}
		if err != nil {
			return nil, err
		}
		if next == nil {
			return nil, errNoClaim
		}
		cur = next
	}
	return cur, nil
}

// arrayIndex parses an RFC 6901 array index: decimal digits without leading zeros.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func trimSpace(b []byte) []byte {
	i := skipSpace(b, 0)
	j := len(b)
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// stringsAt returns the strings at p in doc: a JSON array of strings, or one string, which is
// split on spaces (as "scope" is). A missing claim gives nil and no error; a claim of another
// type is an error, so that a misconfigured path is noticed rather than read as "no roles".
func (p claimPath) stringsAt(doc []byte) ([]string, error) {
	if doc == nil {
		return nil, nil // the claim's first member is absent
	}
	v, err := p.lookup(doc)
	if errors.Is(err, errNoClaim) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s, ok := jsonString(v); ok {
		return strings.Fields(s), nil
	}
	if ss, ok := jsonStrings(v); ok {
		return ss, nil
	}
	if string(v) == "null" {
		return nil, nil
	}
	return nil, errJSON
}
