package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// defaultQueryParam is the RFC 6750 §2.3 query parameter. Its presence is refused unless
// Options.UnsafeQueryParam names the parameter to read.
const defaultQueryParam = "access_token"

// extractor finds the one token of a request. It is read-only after construction.
type extractor struct {
	cookie  string // cookie name, or "" for none
	query   string // query parameter name to read, or "" to refuse access_token
	maxSize int
}

// token returns the request's token. It returns ErrNoCredentials when the request carries
// none, ErrInvalidRequest when it carries several or a malformed Authorization header, and
// ErrTooLarge or ErrMalformed (both invalid_token) when the token fails the checks that come
// before any parsing: its size and RFC 6750's b64token character set.
func (e *extractor) token(r *http.Request) (string, error) {
	var tok string
	found := 0

	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		t, ok, err := bearer(hs[0])
		if err != nil {
			return "", err
		}
		if ok {
			tok, found = t, found+1
		}
	default:
		// Two Authorization headers: which one would a proxy or a peer library read?
		return "", ErrInvalidRequest
	}

	if e.cookie != "" {
		switch cs := r.CookiesNamed(e.cookie); len(cs) {
		case 0:
		case 1:
			if cs[0].Value != "" {
				tok, found = cs[0].Value, found+1
			}
		default:
			// Several cookies of one name: a sibling subdomain may have planted one.
			return "", ErrInvalidRequest
		}
	}

	if r.URL != nil && r.URL.RawQuery != "" {
		name := e.query
		if name == "" {
			name = defaultQueryParam
		}
		if strings.Contains(r.URL.RawQuery, name) {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				return "", ErrInvalidRequest
			}
			switch vs := q[name]; {
			case len(vs) == 0:
			case e.query == "":
				// A token in the URL ends up in logs, history and Referer headers
				// (RFC 6750 §2.3, RFC 9700 §4.3.2): refuse it rather than ignore it, so
				// that the client learns.
				return "", ErrInvalidRequest
			case len(vs) > 1:
				return "", ErrInvalidRequest
			default:
				tok, found = vs[0], found+1
			}
		}
	}

	switch {
	case found == 0:
		return "", ErrNoCredentials
	case found > 1:
		return "", ErrInvalidRequest // RFC 6750 §3.1: more than one method
	case len(tok) > e.maxSize:
		return "", ErrTooLarge
	case !isB64Token(tok):
		return "", ErrMalformed
	}
	return tok, nil
}

// bearer parses an Authorization header value. It returns ok false for another scheme,
// which is not ours to judge, and ErrInvalidRequest for a Bearer header without a token.
// The scheme is case-insensitive (RFC 9110 §11.1) and followed by one or more spaces
// (RFC 6750 §2.1).
func bearer(v string) (tok string, ok bool, err error) {
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", false, ErrInvalidRequest
	}
	return rest, true, nil
}

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". It rules out whitespace,
// commas (two tokens joined), quotes and braces (JSON serialization) before any parsing.
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for i < len(s) && charClass[s[i]]&classB64Token != 0 {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// jwtParts splits a compact JWS into its three segments. It accepts only what RFC 8725bis
// §3.14 allows: exactly three segments of base64url characters (no padding), the first two
// non-empty.
func jwtParts(tok string) (header, payload, sig string, ok bool) {
	d1 := strings.IndexByte(tok, '.')
	if d1 <= 0 {
		return "", "", "", false
	}
	d2 := strings.IndexByte(tok[d1+1:], '.')
	if d2 <= 0 {
		return "", "", "", false
	}
	d2 += d1 + 1
	header, payload, sig = tok[:d1], tok[d1+1:d2], tok[d2+1:]
	if !isBase64URL(header) || !isBase64URL(payload) || !isBase64URL(sig) {
		return "", "", "", false
	}
	return header, payload, sig, true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&classBase64URL == 0 {
			return false
		}
	}
	return true
}

// Character classes, by table: these loops run over every byte of every token.
const (
	classBase64URL = 1 << iota // A-Z a-z 0-9 - _
	classB64Token              // base64url and . ~ + /
)

// charClass is a constant table, built once; nothing writes to it afterwards.
var charClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			t[c] = classBase64URL | classB64Token
		case c == '.', c == '~', c == '+', c == '/':
			t[c] = classB64Token
		}
	}
	return t
}()
