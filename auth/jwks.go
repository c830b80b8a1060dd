package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// This file fetches and caches an issuer's JSON Web Key Set. It uses jwx to parse keys, and
// its own small cache rather than jwk.Cache, because jwk.Cache has no response size cap, no
// single flight for the forced refreshes an unknown kid triggers, no bound on how often they
// happen, and it needs a long-lived goroutine tied to a context that Options has no place
// for. Here there is no goroutine except a fetch in progress, and every fetch is one of:
// the first, a refresh before the keys expire (while the old keys keep serving), or a
// refetch for an unknown kid, at most once per KeyRefresh.

const (
	maxFetchBytes     = 256 << 10 // a JWKS or discovery document larger than this is refused
	defaultKeysMaxAge = time.Hour // when the response has no usable Cache-Control max-age
	maxKeysMaxAge     = 24 * time.Hour
	maxUnknownKids    = 1024 // negative cache bound: attackers choose kids
)

// keySnapshot is one fetched key set; it is never modified after it is published.
type keySnapshot struct {
	keys      map[string]*verifyKey
	refreshAt time.Time
}

// remoteKeys is an issuer's keys from a JWKS URL, found directly or by discovery.
type remoteKeys struct {
	issuer    string
	jwksURL   string // configured; with discovery, "" until found
	discovery bool
	algs      []string
	client    *http.Client
	refresh   time.Duration
	logger    *slog.Logger

	snap atomic.Pointer[keySnapshot]

	mu       sync.Mutex
	inflight chan struct{} // closed when the running fetch ends; nil when none runs
	lastTry  time.Time     // start of the last fetch
	unknown  map[string]time.Time
	// discovered is only touched by the one running fetch.
	discovered string
}

func newRemoteKeys(is Issuer, client *http.Client, refresh time.Duration, logger *slog.Logger) (*remoteKeys, error) {
	var errs []error
	r := &remoteKeys{
		issuer:    is.Issuer,
		jwksURL:   is.JWKSURL,
		discovery: is.Discovery,
		client:    client,
		refresh:   refresh,
		logger:    logger,
		unknown:   make(map[string]time.Time),
	}
	if is.Discovery {
		if err := checkFetchURL(is.Issuer); err != nil {
			errs = append(errs, fmt.Errorf("field Issuer: %w", err))
		} else if u, _ := url.Parse(is.Issuer); u.RawQuery != "" || u.ForceQuery {
			errs = append(errs, errors.New("field Issuer: an issuer URL has no query (RFC 8414 §2)"))
		}
	} else if err := checkFetchURL(is.JWKSURL); err != nil {
		errs = append(errs, fmt.Errorf("field JWKSURL: %w", err))
	}
	if len(is.Algorithms) == 0 {
		errs = append(errs, errors.New("field Algorithms is required with JWKSURL or Discovery"))
	}
	for _, alg := range is.Algorithms {
		info, ok := algorithm(alg)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("field Algorithms: %q is not supported", alg))
		case info.kind == kindHMAC:
			errs = append(errs, fmt.Errorf("field Algorithms: %s needs a shared secret, which a JWKS never carries", alg))
		default:
			r.algs = append(r.algs, alg)
		}
	}
	return r, errors.Join(errs...)
}

// checkFetchURL accepts https URLs, and http only for loopback hosts (development).
func checkFetchURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return errors.New("not an absolute URL")
	case u.User != nil:
		return errors.New("URL must not carry credentials")
	case u.Fragment != "":
		return errors.New("URL must not have a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("URL must be https (http only for loopback hosts)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeClient copies c (or makes a default client) so that it follows no redirects and sends
// no cookies: a fetcher that follows redirects can be steered anywhere (API7, API10).
func safeClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.Jar = nil
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if out.Timeout == 0 {
		out.Timeout = defaultHTTPTimeout
	}
	return &out
}

func (r *remoteKeys) key(ctx context.Context, kid string, now time.Time) (*verifyKey, error) {
	s := r.snap.Load()
	if s != nil {
		if k, ok := s.keys[kid]; ok {
			if !now.Before(s.refreshAt) {
				r.refreshEarly(now)
			}
			return k, nil
		}
	}

	r.mu.Lock()
	if s != nil {
		if t, ok := r.unknown[kid]; ok && now.Sub(t) < r.refresh {
			r.mu.Unlock()
			return nil, ErrUnknownKey // asked recently: no new fetch, no waiting
		}
	}
	done := r.inflight
	if done == nil {
		if !r.lastTry.IsZero() && now.Sub(r.lastTry) < r.refresh {
			// Fetched recently: an unknown kid does not get another fetch before
			// KeyRefresh has passed, however many requests carry it.
			r.rememberUnknown(kid, now)
			r.mu.Unlock()
			if s == nil {
				return nil, fmt.Errorf("%w: no keys fetched yet", ErrUnavailable)
			}
			return nil, ErrUnknownKey
		}
		done = r.startFetch(now)
	}
	r.mu.Unlock()

	// Wait for the fetch that is running (single flight), or give up with the request.
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	s = r.snap.Load()
	if s == nil {
		return nil, fmt.Errorf("%w: keys could not be fetched", ErrUnavailable)
	}
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	r.mu.Lock()
	r.rememberUnknown(kid, now)
	r.mu.Unlock()
	return nil, ErrUnknownKey
}

// rememberUnknown adds kid to the negative cache. Called with r.mu held.
func (r *remoteKeys) rememberUnknown(kid string, now time.Time) {
	if len(r.unknown) >= maxUnknownKids {
		for k, t := range r.unknown {
			if now.Sub(t) >= r.refresh {
				delete(r.unknown, k)
			}
		}
		if len(r.unknown) >= maxUnknownKids {
			clear(r.unknown) // all fresh: a flood; the fetch rate limit still holds
		}
	}
	r.unknown[kid] = now
}

// refreshEarly starts a background fetch when the keys are due for refresh, unless one runs
// or ran within KeyRefresh. The current keys keep serving meanwhile.
func (r *remoteKeys) refreshEarly(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil && now.Sub(r.lastTry) >= r.refresh {
		r.startFetch(now)
	}
}

// startFetch runs one fetch in its own goroutine, so that waiters can give up without
// cancelling it for the others. Called with r.mu held.
func (r *remoteKeys) startFetch(now time.Time) chan struct{} {
	done := make(chan struct{})
	r.inflight = done
	r.lastTry = now
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), r.client.Timeout)
		keys, maxAge, err := r.fetch(ctx)
		cancel()
		if err != nil {
			// Keep serving the keys we have: an IdP outage must not become ours
			// (ASVS5 16.3.4: the failure is logged).
			r.logger.LogAttrs(context.Background(), slog.LevelError, "authn_jwks_fetch_fail",
				slog.String("issuer", r.issuer), slog.String("error", err.Error()))
		} else {
			r.snap.Store(&keySnapshot{keys: keys, refreshAt: time.Now().Add(maxAge * 3 / 4)})
		}
		r.mu.Lock()
		r.inflight = nil
		clear(r.unknown) // the key set changed: unknown kids may be known now
		r.mu.Unlock()
		close(done)
	}()
	return done
}

// fetch gets and parses the key set, returning the usable keys and how long they may be cached.
func (r *remoteKeys) fetch(ctx context.Context) (map[string]*verifyKey, time.Duration, error) {
	jwksURL := r.jwksURL
	if r.discovery {
		if r.discovered == "" {
			u, err := discover(ctx, r.client, r.issuer)
			if err != nil {
				return nil, 0, err
			}
			r.discovered = u
		}
		jwksURL = r.discovered
	}
	body, header, err := get(ctx, r.client, jwksURL)
	if err != nil {
		return nil, 0, err
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: JWKS: %w", err)
	}
	keys := make(map[string]*verifyKey, set.Len())
	dup := make(map[string]bool)
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		vk, ok := r.usable(k)
		if !ok {
			continue
		}
		if _, seen := keys[vk.id]; seen || dup[vk.id] {
			// Two signing keys under one kid: which is meant cannot be known; use neither.
			delete(keys, vk.id)
			dup[vk.id] = true
			continue
		}
		keys[vk.id] = vk
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("auth: JWKS has no usable signing key")
	}
	return keys, cacheLifetime(header.Get("Cache-Control"), r.refresh), nil
}

// usable turns a JWK into a verification key bound to one allowed algorithm, or reports
// that it is not one: an encryption key, a symmetric key, a key whose "alg" is not allowed,
// or one whose algorithm is ambiguous.
func (r *remoteKeys) usable(k jwk.Key) (*verifyKey, bool) {
	if use := k.KeyUsage(); use != "" && use != "sig" {
		return nil, false
	}
	if ops := k.KeyOps(); len(ops) > 0 {
		verify := false
		for _, op := range ops {
			verify = verify || op == jwk.KeyOpVerify
		}
		if !verify {
			return nil, false
		}
	}
	raw, err := jwk.PublicRawKeyOf(k)
	if err != nil {
		return nil, false
	}
	switch raw.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, false // symmetric keys, X25519, ...: never from a JWKS
	}
	alg := ""
	if a := k.Algorithm(); a != nil && a.String() != "" {
		if !contains(r.algs, a.String()) {
			return nil, false
		}
		alg = a.String()
	} else {
		for _, cand := range r.algs {
			if _, err := newVerifyKey("", cand, raw, nil); err == nil {
				if alg != "" {
					return nil, false // fits two allowed algorithms: not bound to one
				}
				alg = cand
			}
		}
		if alg == "" {
			return nil, false
		}
	}
	vk, err := newVerifyKey(k.KeyID(), alg, raw, nil)
	return vk, err == nil
}

// cacheLifetime reads max-age from a Cache-Control value and bounds it to [floor, 24h].
func cacheLifetime(cc string, floor time.Duration) time.Duration {
	life := defaultKeysMaxAge
	for _, d := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			life = 0
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				if n > int64(maxKeysMaxAge/time.Second) {
					n = int64(maxKeysMaxAge / time.Second)
				}
				life = time.Duration(n) * time.Second
			}
		}
	}
	return max(floor, min(life, maxKeysMaxAge))
}

// get fetches u, refusing anything but a 200 within maxFetchBytes.
func get(ctx context.Context, client *http.Client, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("auth: fetch %s: status %d", redact(u), resp.StatusCode)
	}
	body, err := readCapped(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	return body, resp.Header, nil
}

func readCapped(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxFetchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: fetch: %w", err)
	}
	if len(body) > maxFetchBytes {
		return nil, fmt.Errorf("auth: fetch: response larger than %d bytes", maxFetchBytes)
	}
	return body, nil
}

// redact returns u without its query, for logs.
func redact(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// discover reads the issuer's OpenID Connect discovery document and returns its jwks_uri,
// after checking that the document is the issuer's own (OIDC Discovery §4.3, RFC 8414 §3.3,
// ASVS5 10.5.3) and that the JWKS lives on the issuer's origin.
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	body, _, err := get(ctx, client, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return "", err
	}
	var docIssuer, jwksURI string
	err = eachMember(body, func(name string, v []byte) error {
		switch name {
		case "issuer":
			docIssuer, _ = jsonString(v)
		case "jwks_uri":
			jwksURI, _ = jsonString(v)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("auth: discovery document: %w", err)
	}
	if docIssuer != issuer {
		return "", errors.New("auth: discovery document names another issuer")
	}
	if err := checkFetchURL(jwksURI); err != nil {
		return "", fmt.Errorf("auth: discovery jwks_uri: %w", err)
	}
	iu, _ := url.Parse(issuer)
	ju, _ := url.Parse(jwksURI)
	if !strings.EqualFold(iu.Scheme, ju.Scheme) || !strings.EqualFold(iu.Host, ju.Host) {
		return "", errors.New("auth: discovery jwks_uri is not on the issuer's origin")
	}
	return jwksURI, nil
}
