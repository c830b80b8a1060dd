package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"
)

// b64 is strict base64url without padding: it refuses non-zero trailing bits, so a token
// has exactly one encoding (RFC 7515 §2, RFC 8725bis §3.14). Whitespace never reaches it:
// jwtParts refuses every character outside the base64url alphabet first, because the
// decoder itself skips newlines.
var b64 = base64.RawURLEncoding.Strict()

// issuer is a trusted issuer, ready for the request path.
type issuer struct {
	name         string
	audience     string
	keys         keySource
	allowUntyped bool
	roles        claimPath
	roleHead     int // index of roles[0] in authenticator.roleHeads, or -1
}

func newIssuer(is Issuer, client *http.Client, refresh time.Duration, logger *slog.Logger) (*issuer, error) {
	var errs []error
	if is.Issuer == "" {
		errs = append(errs, errors.New("field Issuer is required"))
	}
	if is.Audience == "" {
		errs = append(errs, errors.New("field Audience is required"))
	}
	path, err := rolesPath(is.RolesClaim)
	if err != nil {
		errs = append(errs, fmt.Errorf("field RolesClaim: %w", err))
	}
	it := &issuer{name: is.Issuer, audience: is.Audience, allowUntyped: is.AllowUntypedTokens, roles: path, roleHead: -1}

	sources := 0
	for _, set := range []bool{len(is.Keys) > 0, is.JWKSURL != "", is.Discovery} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		errs = append(errs, errors.New("set exactly one of Keys, JWKSURL or Discovery"))
		return nil, errors.Join(errs...)
	}
	switch {
	case len(is.Keys) > 0:
		if len(is.Algorithms) > 0 {
			errs = append(errs, errors.New("field Algorithms is for JWKSURL or Discovery; static Keys carry their own Algorithm"))
		}
		keys, err := newStaticKeys(is.Keys)
		if err != nil {
			errs = append(errs, err)
		}
		it.keys = keys
	default:
		src, err := newRemoteKeys(is, client, refresh, logger)
		if err != nil {
			errs = append(errs, err)
		}
		it.keys = src
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return it, nil
}

func newStaticKeys(keys []Key) (staticKeys, error) {
	var errs []error
	set := make(staticKeys, len(keys))
	hmac, public := false, false
	for i, k := range keys {
		vk, err := newVerifyKey(k.ID, k.Algorithm, k.Public, k.Secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("field Keys[%d]: %w", i, err))
			continue
		}
		if _, dup := set[k.ID]; dup {
			errs = append(errs, fmt.Errorf("field Keys[%d]: key id %q used twice", i, k.ID))
			continue
		}
		if info, _ := algorithm(k.Algorithm); info.kind == kindHMAC {
			hmac = true
		} else {
			public = true
		}
		set[k.ID] = vk
	}
	if hmac && public {
		// RFC 8725 §2.1, ASVS5 9.1.2: mixing MAC and signature keys for one issuer is how key
		// confusion starts; give each its own issuer.
		errs = append(errs, errors.New("field Keys mixes HMAC secrets and public keys"))
	}
	return set, errors.Join(errs...)
}

// header is what the JOSE header may say that matters here.
type header struct {
	alg, kid, typ  string
	hasKid, hasTyp bool
}

func parseHeader(b []byte) (header, error) {
	var h header
	err := eachMember(b, func(name string, v []byte) error {
		var ok bool
		switch name {
		case "alg":
			h.alg, ok = jsonString(v)
		case "kid":
			h.kid, ok = jsonString(v)
			h.hasKid = true
		case "typ":
			h.typ, ok = jsonString(v)
			h.hasTyp = true
		case "crit":
			// RFC 7515 §4.1.11: a JWS whose crit lists an extension the recipient does not
			// understand is invalid. This package understands none, and an empty list is
			// not allowed either: refuse every crit.
			return fmt.Errorf("%w: crit", ErrUnsupported)
		case "cty":
			cty, isString := jsonString(v)
			if !isString {
				return ErrMalformed
			}
			// A nested JWT (RFC 7519 §5.2) is not accepted: only one signed layer.
			if strings.EqualFold(strings.TrimPrefix(strings.ToLower(cty), "application/"), "jwt") {
				return fmt.Errorf("%w: nested JWT", ErrUnsupported)
			}
			ok = true
		case "enc", "zip", "b64":
			// JWE (RFC 7516) and unencoded payloads (RFC 7797) are not accepted.
			return fmt.Errorf("%w: %s", ErrUnsupported, name)
		default:
			// Everything else, including jwk, jku, x5u, x5c and x5t, is ignored: keys come
			// only from the issuer's configuration, never from the token (RFC 8725 §3.10).
			ok = true
		}
		if !ok {
			return ErrMalformed
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errJSON) {
			return h, ErrMalformed
		}
		return h, err
	}
	if h.alg == "" {
		return h, ErrMalformed
	}
	return h, nil
}

// claims is the typed view of a claims set, read without encoding/json's case folding.
type claims struct {
	iss, sub, jti, clientID, azp, acr string
	sid                               string
	aud, scope, amr                   []string
	exp, nbf, iat, authTime           float64
	hasExp, hasNbf, hasIat, hasAuth   bool
	hasAud                            bool
	// heads holds the raw values of the members named by roleHeads, so that the roles
	// claim is found in the same pass.
	heads [maxRoleHeads][]byte
}

// maxRoleHeads bounds how many distinct first members of RolesClaim paths are captured
// in the single pass; issuers beyond it look their roles up in a second pass.
const maxRoleHeads = 4

func parseClaims(b []byte, roleHeads []string) (claims, error) {
	var c claims
	var scope, scp []string
	err := eachMember(b, func(name string, v []byte) error {
		var ok bool
		switch name {
		case "iss":
			c.iss, ok = jsonString(v)
		case "sub":
			c.sub, ok = jsonString(v)
		case "jti":
			c.jti, ok = jsonString(v)
		case "client_id":
			c.clientID, ok = jsonString(v)
		case "azp":
			c.azp, ok = jsonString(v)
		case "acr":
			c.acr, ok = jsonString(v)
		case "sid":
			c.sid, ok = jsonString(v)
		case "aud":
			c.hasAud = true
			var s string
			if s, ok = jsonString(v); ok {
				c.aud = []string{s}
			} else {
				c.aud, ok = jsonStrings(v)
			}
		case "exp":
			c.exp, ok = jsonNumber(v)
			c.hasExp = true
		case "nbf":
			c.nbf, ok = jsonNumber(v)
			c.hasNbf = true
		case "iat":
			c.iat, ok = jsonNumber(v)
			c.hasIat = true
		case "auth_time":
			c.authTime, ok = jsonNumber(v)
			c.hasAuth = true
		case "scope": // RFC 8693 §4.2, RFC 9068 §2.2.3: space-delimited string
			var s string
			if s, ok = jsonString(v); ok {
				scope = strings.Fields(s)
			}
		case "scp": // common alternative: string or array
			var s string
			if s, ok = jsonString(v); ok {
				scp = strings.Fields(s)
			} else {
				scp, ok = jsonStrings(v)
			}
		case "amr":
			c.amr, ok = jsonStrings(v)
		default:
			ok = true
		}
		for i, h := range roleHeads {
			if h == name {
				c.heads[i] = v
			}
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrClaims, name)
		}
		return nil
	})
	if errors.Is(err, errJSON) {
		return c, ErrMalformed
	}
	c.scope = scope
	if c.scope == nil {
		c.scope = scp
	}
	return c, err
}

// scratch holds a request's temporary bytes: the token, its decoded header and signature.
// Pooled per authenticator, so that a verification copies the token once and allocates
// only what the Principal keeps.
type scratch struct {
	tok, header, sig []byte
}

// maxPooledScratch keeps the pool from hoarding buffers grown by a rare large token.
const maxPooledScratch = 16 << 10

func (a *authenticator) getScratch(tok string) *scratch {
	sc, _ := a.scratch.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	sc.tok = append(sc.tok[:0], tok...)
	return sc
}

func (a *authenticator) putScratch(sc *scratch) {
	if cap(sc.tok) <= maxPooledScratch {
		a.scratch.Put(sc)
	}
}

// decodeInto decodes the base64url segment src into buf, reusing its memory.
func decodeInto(buf *[]byte, src []byte) ([]byte, error) {
	n := b64.DecodedLen(len(src))
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	m, err := b64.Decode((*buf)[:n], src)
	return (*buf)[:m], err
}

// verifyJWT checks a compact JWS completely and returns its principal. It is the request
// path; sc.tok holds the token's bytes.
func (a *authenticator) verifyJWT(ctx context.Context, tok string, sc *scratch, now time.Time) (*Principal, error) {
	h64, p64, s64, ok := jwtParts(tok)
	if !ok || s64 == "" {
		// Unsigned ("alg":"none" has an empty signature), JWE (five parts), JSON
		// serialization, padding, whitespace: all refused here, before any decoding.
		return nil, ErrMalformed
	}
	inputLen := len(h64) + 1 + len(p64)
	hb, err := decodeInto(&sc.header, sc.tok[:len(h64)])
	if err != nil {
		return nil, ErrMalformed
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(h.alg, "none") {
		return nil, ErrAlgorithm
	}
	payload := make([]byte, b64.DecodedLen(len(p64))) // kept: Principal.RawClaims
	n, err := b64.Decode(payload, sc.tok[len(h64)+1:inputLen])
	if err != nil {
		return nil, ErrMalformed
	}
	payload = payload[:n]
	// The claims are parsed before the signature is checked only to pick the issuer, whose
	// keys then verify it; nothing else in them is used until the signature holds.
	c, err := parseClaims(payload, a.roleHeads)
	if err != nil {
		return nil, err
	}
	is, ok := a.issuers[c.iss]
	if !ok {
		return nil, ErrIssuer
	}
	key, err := is.keys.key(ctx, h.kid, now)
	if err != nil {
		return nil, err
	}
	// RFC 8725 §3.1: the header's alg must be the key's. jwx's verifier uses the algorithm
	// it was built for and never looks at the header, so this comparison is ours.
	if h.alg != key.alg {
		return nil, ErrAlgorithm
	}
	sig, err := decodeInto(&sc.sig, sc.tok[inputLen+1:])
	if err != nil {
		return nil, ErrMalformed
	}
	if err := key.verify(sc.tok[:inputLen], sig); err != nil {
		return nil, err
	}
	if err := a.validate(is, h, &c, now); err != nil {
		return nil, err
	}
	var roles []string
	if is.roleHead >= 0 {
		roles, err = is.roles[1:].stringsAt(c.heads[is.roleHead])
	} else {
		roles, err = is.roles.stringsAt(payload)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: roles", ErrClaims)
	}
	p := &Principal{
		Method:    MethodJWT,
		Subject:   c.sub,
		Issuer:    c.iss,
		Audience:  c.aud,
		ClientID:  c.clientID,
		Scopes:    c.scope,
		Roles:     roles,
		AMR:       c.amr,
		ACR:       c.acr,
		Expiry:    numericDate(c.exp),
		TokenID:   c.jti,
		claims:    payload,
		SessionID: c.sid,
	}
	if p.ClientID == "" {
		p.ClientID = c.azp
	}
	p.Client = p.ClientID != "" && p.ClientID == p.Subject
	if c.hasIat {
		p.IssuedAt = numericDate(c.iat)
	}
	if c.hasAuth {
		p.AuthTime = numericDate(c.authTime)
	}
	return p, nil
}

// validate applies the claim rules of RFC 7519 §4.1, RFC 8725 and RFC 9068 §4 to a token
// whose signature has been verified.
func (a *authenticator) validate(is *issuer, h header, c *claims, now time.Time) error {
	typed := false
	if h.hasTyp {
		// RFC 7515 §4.1.9: a typ without "/" means "application/" + typ; compare case-insensitively.
		t := strings.ToLower(h.typ)
		t = strings.TrimPrefix(t, "application/")
		switch {
		case t == "at+jwt":
			typed = true
		case t == "jwt" && is.allowUntyped:
		default:
			return ErrTokenType
		}
	} else if !is.allowUntyped {
		return ErrTokenType
	}

	nowSec := float64(now.UnixNano()) / 1e9
	leeway := a.leeway.Seconds()
	if !c.hasExp {
		return fmt.Errorf("%w: exp is required", ErrClaims)
	}
	if nowSec >= c.exp+leeway {
		return ErrExpired
	}
	if c.hasNbf && nowSec+leeway < c.nbf {
		return ErrNotYetValid
	}
	if c.hasIat && nowSec+leeway < c.iat {
		return ErrNotYetValid // issued in the future
	}
	if !contains(c.aud, is.audience) {
		return ErrAudience
	}
	if c.sub == "" {
		return fmt.Errorf("%w: sub is required", ErrClaims)
	}
	if typed && (c.clientID == "" || !c.hasIat || c.jti == "") {
		return fmt.Errorf("%w: RFC 9068 requires client_id, iat and jti", ErrClaims)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// maxNumericDate is 9999-12-31T23:59:59Z; later dates are clamped so conversions cannot overflow.
const maxNumericDate = 253402300799

func numericDate(f float64) time.Time {
	switch {
	case math.IsNaN(f) || f < 0:
		return time.Unix(0, 0)
	case f > maxNumericDate:
		f = maxNumericDate
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
