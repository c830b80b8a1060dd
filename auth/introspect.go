package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Introspection configures RFC 7662 token introspection for opaque (non-JWT) tokens.
type Introspection struct {
	// URL is the introspection endpoint: https, or http on a loopback host. Required.
	URL string
	// ClientID and ClientSecret authenticate this API to the endpoint with HTTP Basic
	// (RFC 7662 §2.1 requires the resource server to authenticate). Both required; load the
	// secret from a secret store.
	ClientID, ClientSecret string
	// Audience is this API's identifier; the response's "aud" must contain it. Required.
	Audience string
	// Issuer, if set, must equal the response's "iss".
	Issuer string
	// RolesClaim is a JSON Pointer to roles in the response. If empty, "/roles".
	RolesClaim string
	// CacheTTL, if positive, caches active responses for that long, never past the token's
	// "exp", keyed by endpoint, client and token hash. A cached answer only stands for who
	// the token names: scope and role checks still run on every request. If zero, every
	// request is introspected. At most 5 minutes: a revoked token stays usable that long.
	CacheTTL time.Duration
	// CacheSize bounds the cache. If zero, 10000 entries.
	CacheSize int
}

const maxIntrospectionTTL = 5 * time.Minute

type introspector struct {
	url, clientID, secret, audience, issuer string
	roles                                   claimPath
	client                                  *http.Client
	cache                                   *tokenCache
	cachePrefix                             string
}

func newIntrospector(in Introspection, client *http.Client) (*introspector, error) {
	var errs []error
	if err := checkFetchURL(in.URL); err != nil {
		errs = append(errs, fmt.Errorf("auth: Introspection.URL: %w", err))
	}
	if in.ClientID == "" || in.ClientSecret == "" {
		errs = append(errs, errors.New("auth: Introspection.ClientID and ClientSecret are required"))
	}
	if in.Audience == "" {
		errs = append(errs, errors.New("auth: Introspection.Audience is required"))
	}
	path, err := rolesPath(in.RolesClaim)
	if err != nil {
		errs = append(errs, fmt.Errorf("auth: Introspection.RolesClaim: %w", err))
	}
	if in.CacheTTL < 0 || in.CacheTTL > maxIntrospectionTTL {
		errs = append(errs, fmt.Errorf("auth: Introspection.CacheTTL must be between 0 and %v", maxIntrospectionTTL))
	}
	if in.CacheSize < 0 {
		errs = append(errs, errors.New("auth: Introspection.CacheSize must not be negative"))
	}
	it := &introspector{
		url: in.URL, clientID: in.ClientID, secret: in.ClientSecret,
		audience: in.Audience, issuer: in.Issuer, roles: path, client: client,
		cachePrefix: in.URL + "\x00" + in.ClientID + "\x00",
	}
	if in.CacheTTL > 0 {
		size := in.CacheSize
		if size == 0 {
			size = 10000
		}
		it.cache = newTokenCache(size, in.CacheTTL)
	}
	return it, errors.Join(errs...)
}

func (in *introspector) principal(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	var key [sha256.Size]byte
	if in.cache != nil {
		key = sha256.Sum256([]byte(in.cachePrefix + tok))
		if p, ok := in.cache.get(key, now); ok {
			return p, nil
		}
	}
	p, err := in.introspect(ctx, tok, now)
	if err != nil {
		return nil, err
	}
	if in.cache != nil {
		in.cache.put(key, p, now)
	}
	return p, nil
}

func (in *introspector) introspect(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: form-encode the credentials before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.secret))
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %s", ErrUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: introspection: status %d", ErrUnavailable, resp.StatusCode)
	}
	body, err := readCapped(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}

	var c claims
	active, activeSeen := false, false
	var username string
	err = eachMember(body, func(name string, v []byte) error {
		switch name {
		case "active":
			activeSeen = true
			active = string(v) == "true" // only the JSON literal true counts
		case "username":
			username, _ = jsonString(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: introspection response", ErrMalformed)
	}
	if !activeSeen || !active {
		return nil, ErrInactive
	}
	if c, err = parseClaims(body, nil); err != nil {
		return nil, err
	}
	nowSec := float64(now.UnixNano()) / 1e9
	switch {
	case c.hasExp && nowSec >= c.exp:
		return nil, ErrExpired
	case c.hasNbf && nowSec < c.nbf:
		return nil, ErrNotYetValid
	case !contains(c.aud, in.audience):
		return nil, ErrAudience
	case in.issuer != "" && c.iss != in.issuer:
		return nil, ErrIssuer
	}
	roles, err := in.roles.stringsAt(body)
	if err != nil {
		return nil, fmt.Errorf("%w: roles", ErrClaims)
	}
	p := &Principal{
		Method:   MethodIntrospection,
		Subject:  c.sub,
		Issuer:   c.iss,
		Audience: c.aud,
		ClientID: c.clientID,
		Scopes:   c.scope,
		Roles:    roles,
		TokenID:  c.jti,
		claims:   body,
	}
	if p.Subject == "" {
		p.Subject = username
	}
	if p.Subject == "" {
		p.Subject = p.ClientID
	}
	if p.Subject == "" {
		return nil, fmt.Errorf("%w: no sub, username or client_id", ErrClaims)
	}
	p.Client = p.ClientID != "" && p.Subject == p.ClientID
	if c.hasExp {
		p.Expiry = numericDate(c.exp)
	} else {
		// No exp: the cache may keep it only for CacheTTL.
		p.Expiry = now.Add(maxIntrospectionTTL)
	}
	if c.hasIat {
		p.IssuedAt = numericDate(c.iat)
	}
	return p, nil
}

// redactURLError keeps the operation and cause of a client error but not the URL, which
// could carry credentials in a misconfiguration.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
