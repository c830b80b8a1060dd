package rbac

import "strings"

// Limits on names, so that a policy or a claim cannot make a check do unbounded work.
const (
	maxNameLen     = 128 // bytes in a role name or a permission
	maxSegments    = 8   // segments in a permission
	maxPolicyBytes = 4 << 20
)

// validPermission reports whether p is a well-formed permission: one to eight segments
// separated by ':', each made of ASCII letters, digits, '_', '-' or '.'. If wildcard is true,
// the last segment may be "*", which stands for one or more further segments: "notes:*"
// covers "notes:read" and "notes:read:own" but neither "notes" nor "notesx:read", and "*"
// alone covers every permission.
func validPermission(p string, wildcard bool) bool {
	if p == "" || len(p) > maxNameLen {
		return false
	}
	if p == "*" {
		return wildcard
	}
	segs, segLen := 1, 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == ':':
			if segLen == 0 {
				return false
			}
			segs, segLen = segs+1, 0
			if segs > maxSegments {
				return false
			}
		case c == '*':
			// Only a whole last segment: "notes:*", never "notes*" or "notes:*:own".
			if !wildcard || segLen != 0 || i != len(p)-1 {
				return false
			}
			segLen++
		case isNameByte(c):
			segLen++
		default:
			return false
		}
	}
	return segLen > 0
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// validRoleName reports whether s may name a role: 1 to 128 bytes of ASCII letters, digits
// and "_-.:/@" (so that mapped claims such as "scope:notes.read" or "group:/staff" fit).
func validRoleName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isNameByte(c) && c != ':' && c != '/' && c != '@' {
			return false
		}
	}
	return true
}

// wildcardPrefix returns, for a wildcard permission, the prefix every covered permission
// starts with ("notes:" for "notes:*", "" for "*"), and whether p is a wildcard at all.
func wildcardPrefix(p string) (string, bool) {
	if !strings.HasSuffix(p, "*") {
		return "", false
	}
	return p[:len(p)-1], true
}

// covers reports whether the grant or deny pattern covers the concrete permission perm.
// Matching is by whole segments, never by substring.
func covers(pattern, perm string) bool {
	prefix, ok := wildcardPrefix(pattern)
	if !ok {
		return pattern == perm
	}
	return len(perm) > len(prefix) && strings.HasPrefix(perm, prefix)
}
