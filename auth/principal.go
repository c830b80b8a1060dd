package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Method says how a [Principal] was authenticated.
type Method string

// The ways [New] authenticates a request.
const (
	MethodJWT           Method = "jwt"           // a signed JWT access token
	MethodAPIKey        Method = "api_key"       // an API key (a machine client, never a user)
	MethodIntrospection Method = "introspection" // an opaque token checked at an RFC 7662 endpoint
)

// Principal is who a request acts for, as proven by its credentials. [New] stores one in the
// request context; read it with [FromContext]. It is a value: the middleware builds a fresh
// one per token, and its slices must be treated as read-only, since the verified-token cache
// may hand the same slices to several requests.
type Principal struct {
	Method   Method
	Subject  string   // "sub": unique only within Issuer; use Key for a global identifier
	Issuer   string   // "iss", exactly as in the token; empty for API keys
	Audience []string // "aud"
	ClientID string   // "client_id" (RFC 9068), or "azp" when there is no client_id
	// Client is true when the credentials name a client acting for itself, not a user: an
	// API key, or a token whose "sub" equals its client id (a client-credentials grant,
	// RFC 9068 §2.2, RFC 9700 §4.15). Never treat such a principal as the user of that name.
	Client   bool
	Scopes   []string  // from "scope" (space separated) or "scp" (string or array)
	Roles    []string  // from the issuer's RolesClaim, "/roles" by default
	AMR      []string  // "amr": authentication methods, e.g. "pwd", "otp", "mfa"
	ACR      string    // "acr": authentication context class
	AuthTime time.Time // "auth_time": when the user last authenticated; zero if absent
	IssuedAt time.Time // "iat"; zero if absent
	Expiry   time.Time // "exp"; for API keys, the key's expiry (zero: none)
	TokenID  string    // "jti", or the API key id
	// SessionID is the "sid" claim: for tokens issued by [Refresher], the refresh-token
	// family, by which [MemoryRevocationStore] and the Redis store revoke a whole session.
	SessionID string

	claims []byte // the verified claims set, for Claim and RawClaims
}

// Key returns an identifier of the principal that is unique across issuers: issuer and
// subject together (ASVS5 10.3.3, 6.8.1), since two issuers may both have a user "alice".
// API keys give "api_key:" and the key id. Key is what [SubjectKey] returns.
func (p Principal) Key() string {
	if p.Method == MethodAPIKey {
		return "api_key:" + p.TokenID
	}
	// Length-prefixed so that no choice of issuer and subject can collide with another.
	return strconv.Itoa(len(p.Issuer)) + ":" + p.Issuer + p.Subject
}

// HasScope reports whether the principal was granted scope.
func (p Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// RawClaims returns a copy of the verified JWT claims set (or introspection response) as
// JSON, or nil for API keys.
func (p Principal) RawClaims() json.RawMessage {
	if p.claims == nil {
		return nil
	}
	return append(json.RawMessage(nil), p.claims...)
}

// Claim decodes the claim at pointer, a JSON Pointer (RFC 6901) such as "/tenant" or
// "/realm_access/roles", into v with [json.Unmarshal]. It returns an error if the pointer
// is malformed or names no claim.
func (p Principal) Claim(pointer string, v any) error {
	path, err := parseClaimPath(pointer)
	if err != nil {
		return err
	}
	raw, err := path.lookup(p.claims)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &p)
}

// FromContext returns the Principal stored by [New], and whether there was one. With
// Options.Optional, an anonymous request has none.
func FromContext(ctx context.Context) (Principal, bool) {
	// The context holds a pointer to a Principal nobody modifies, so that a cached
	// principal is shared rather than copied; FromContext hands out a copy.
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok && p != nil {
		return *p, true
	}
	return Principal{}, false
}

// Roles returns the roles of the request's principal, or nil if there is none. It is the glue
// for role checks in other packages: rbac.Options{Roles: auth.Roles}.
func Roles(r *http.Request) []string {
	p, _ := FromContext(r.Context())
	return p.Roles
}

// Scopes returns the scopes of the request's principal, or nil if there is none.
func Scopes(r *http.Request) []string {
	p, _ := FromContext(r.Context())
	return p.Scopes
}

// Subject returns the "sub" of the request's principal, or "" if there is none. It is only
// unique within one issuer; see [SubjectKey].
func Subject(r *http.Request) string {
	p, _ := FromContext(r.Context())
	return p.Subject
}

// SubjectKey returns [Principal.Key] of the request's principal, or "" if there is none (the
// fallback key of a rate limiter). It is the glue for per-user rate limits:
// ratelimit.Options{Key: auth.SubjectKey}.
func SubjectKey(r *http.Request) string {
	p, ok := FromContext(r.Context())
	if !ok {
		return ""
	}
	return p.Key()
}
