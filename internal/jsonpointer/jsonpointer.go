// Package jsonpointer reads and writes RFC 6901 JSON Pointers, the one syntax bulwark uses to
// name a claim (auth, rbac) or a field of a request body (validate). JSON Pointer rather than a
// dotted path, because claim names often hold dots and slashes ("https://example.com/roles"),
// which a pointer escapes: "~1" is "/" and "~0" is "~".
package jsonpointer

import (
	"errors"
	"strings"
)

// ErrSyntax is returned by [Parse] for a string that is not a non-empty JSON Pointer.
var ErrSyntax = errors.New("jsonpointer: want a JSON Pointer such as /realm_access/roles, with '~' only in ~0 or ~1")

// Parse splits a pointer into its reference tokens, unescaped. The empty pointer, which names
// the whole document, is refused: no caller of bulwark should need it.
func Parse(s string) ([]string, error) {
	if s == "" || s[0] != '/' {
		return nil, ErrSyntax
	}
	tokens := strings.Split(s[1:], "/")
	for i, t := range tokens {
		if !strings.Contains(t, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(t); j++ {
			if t[j] != '~' {
				b.WriteByte(t[j])
				continue
			}
			if j+1 >= len(t) || (t[j+1] != '0' && t[j+1] != '1') {
				return nil, ErrSyntax
			}
			if t[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		tokens[i] = b.String()
	}
	return tokens, nil
}

// Format returns the pointer made of tokens: "/" before each, escaped.
func Format(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		WriteToken(&b, t)
	}
	return b.String()
}

// WriteToken writes one reference token to b, escaped (RFC 6901 §3): "~" as "~0", "/" as "~1".
func WriteToken(b *strings.Builder, token string) {
	for i := 0; i < len(token); i++ {
		switch c := token[i]; c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
}
