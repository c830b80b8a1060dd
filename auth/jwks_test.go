package auth_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// idp is an identity provider over real HTTPS (httptest.NewTLSServer): a JWKS, an OpenID
// Connect discovery document, and a counter per path.
type idp struct {
	srv          *httptest.Server
	jwks         atomic.Value // string
	cacheControl atomic.Value // string
	down         atomic.Bool
	discovery    atomic.Value // string; "" means 404
	mu           sync.Mutex
	hits         map[string]int
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	p := &idp{hits: map[string]int{}}
	p.jwks.Store("")
	p.cacheControl.Store("")
	p.discovery.Store("")
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		p.mu.Unlock()
		if p.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/jwks":
			if cc := p.cacheControl.Load().(string); cc != "" {
				w.Header().Set("Cache-Control", cc)
			}
			w.Header().Set("Content-Type", "application/jwk-set+json")
			fmt.Fprint(w, p.jwks.Load().(string))
		case "/big":
			fmt.Fprint(w, `{"keys":[`+strings.Repeat(" ", 300<<10)+`]}`)
		case "/redirect":
			http.Redirect(w, r, "/jwks", http.StatusFound)
		case "/.well-known/openid-configuration":
			if d := p.discovery.Load().(string); d != "" {
				fmt.Fprint(w, d)
				return
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// publish serves the public halves of keys, by kid.
func (p *idp) publish(t testing.TB, keysByKid map[string]any) {
	t.Helper()
	set := jwk.NewSet()
	for kid, pub := range keysByKid {
		k, err := jwk.FromRaw(pub)
		if err != nil {
			t.Fatal(err)
		}
		_ = k.Set(jwk.KeyIDKey, kid)
		_ = k.Set(jwk.KeyUsageKey, "sig")
		_ = set.AddKey(k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	p.jwks.Store(string(b))
}

// client trusts the server's certificate only through its pool, makes no keep-alive
// connections (so no goroutine outlives a synctest bubble), and never skips verification.
func (p *idp) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(p.srv.Certificate())
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
}

func (p *idp) options(logger *slog.Logger) auth.Options {
	return auth.Options{
		Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, JWKSURL: p.srv.URL + "/jwks",
			Algorithms: []string{"RS256", "ES256"}}},
		HTTPClient: p.client(),
		Logger:     logger,
	}
}

func tokenFor(t testing.TB, kid string, key any, alg string) string {
	return mint(t, alg, key, hdr(alg, kid), validClaims())
}

// Key rotation is picked up without a restart: a new kid triggers a refetch once KeyRefresh
// has passed, and a key removed from the set stops verifying.
func TestJWKSRotation(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, p.options(slog.New(slog.DiscardHandler)))
		old, rotated := tokenFor(t, "k1", k.rsa, "RS256"), tokenFor(t, "k2", k.ec, "ES256")
		if w := serve(h, bearerRequest(old)); w.Code != 200 {
			t.Fatalf("k1: status = %d, want 200", w.Code)
		}
		p.publish(t, map[string]any{"k2": &k.ec.PublicKey})
		if w := serve(h, bearerRequest(rotated)); w.Code != 401 {
			t.Errorf("k2 within KeyRefresh of the last fetch: status = %d, want 401", w.Code)
		}
		time.Sleep(61 * time.Second)
		if w := serve(h, bearerRequest(rotated)); w.Code != 200 {
			t.Errorf("k2 after KeyRefresh: status = %d, want 200", w.Code)
		}
		if w := serve(h, bearerRequest(old)); w.Code != 401 {
			t.Errorf("k1 after its removal: status = %d, want 401", w.Code)
		}
		if n := p.count("/jwks"); n != 2 {
			t.Errorf("JWKS fetched %d times, want 2", n)
		}
	})
}

// The JWKS host going down keeps the cached keys working, also past their max-age; the
// failed refresh is logged.
func TestJWKSHostDown(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	p.cacheControl.Store("public, max-age=120")
	var logs logBuffer
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, p.options(slog.New(slog.NewTextHandler(&logs, nil))))
		c := validClaims()
		c["exp"] = time.Now().Add(time.Hour).Unix()
		tok := mint(t, "RS256", k.rsa, hdr("RS256", "k1"), c)
		if w := serve(h, bearerRequest(tok)); w.Code != 200 {
			t.Fatalf("status = %d, want 200", w.Code)
		}
		p.down.Store(true)
		for range 3 {
			time.Sleep(5 * time.Minute) // past max-age: each request starts a background refresh
			if w := serve(h, bearerRequest(tok)); w.Code != 200 {
				t.Errorf("host down: status = %d, want 200 from cached keys", w.Code)
			}
			synctest.Wait() // let the background refresh finish
		}
		if n := p.count("/jwks"); n != 4 {
			t.Errorf("JWKS fetched %d times, want 4 (one per refresh)", n)
		}
	})
	if !strings.Contains(logs.String(), "authn_jwks_fetch_fail") || !strings.Contains(logs.String(), "status 502") {
		t.Errorf("fetch failure not logged: %s", logs.String())
	}
}

// Cache-Control max-age decides when keys are refreshed, before they expire.
func TestJWKSCacheControl(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	p.cacheControl.Store("max-age=400")
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, p.options(slog.New(slog.DiscardHandler)))
		tok := tokenFor(t, "k1", k.rsa, "RS256")
		serve(h, bearerRequest(tok))
		time.Sleep(290 * time.Second) // before 3/4 of max-age
		serve(h, bearerRequest(tok))
		synctest.Wait()
		if n := p.count("/jwks"); n != 1 {
			t.Errorf("after 290 s: %d fetches, want 1", n)
		}
		time.Sleep(20 * time.Second) // past 3/4 of max-age, before it ends
		serve(h, bearerRequest(tok))
		synctest.Wait()
		if n := p.count("/jwks"); n != 2 {
			t.Errorf("after 310 s: %d fetches, want 2", n)
		}
	})
}

// An unknown-kid flood triggers at most one refetch per KeyRefresh, and concurrent cold
// starts share one fetch (single flight).
func TestJWKSUnknownKidFlood(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, p.options(slog.New(slog.DiscardHandler)))
		good := tokenFor(t, "k1", k.rsa, "RS256")
		flood := func(n int) {
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					var tok string
					if i%2 == 0 {
						tok = good
					} else {
						tok = tokenFor(t, fmt.Sprintf("evil-%d", i), k.attacker, "RS256")
					}
					w := serve(h, bearerRequest(tok))
					if want := map[bool]int{true: 200, false: 401}[i%2 == 0]; w.Code != want {
						t.Errorf("request %d: status = %d, want %d", i, w.Code, want)
					}
				})
			}
			wg.Wait()
		}
		flood(100) // cold start: one fetch for everyone
		if n := p.count("/jwks"); n != 1 {
			t.Errorf("cold flood: %d fetches, want 1", n)
		}
		flood(100)
		if n := p.count("/jwks"); n != 1 {
			t.Errorf("second flood within KeyRefresh: %d fetches, want 1", n)
		}
		time.Sleep(61 * time.Second)
		flood(100)
		if n := p.count("/jwks"); n != 2 {
			t.Errorf("flood after KeyRefresh: %d fetches, want 2", n)
		}
	})
}

func TestJWKSFetchRefusals(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	tok := tokenFor(t, "k1", k.rsa, "RS256")
	other := newIDP(t)
	other.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	for _, tt := range []struct {
		name   string
		mutate func(*auth.Options)
	}{
		{"response over the size cap", func(o *auth.Options) { o.Issuers[0].JWKSURL = p.srv.URL + "/big" }},
		{"redirect not followed", func(o *auth.Options) { o.Issuers[0].JWKSURL = p.srv.URL + "/redirect" }},
		{"untrusted certificate", func(o *auth.Options) { o.HTTPClient = nil }},
		{"discovery names another issuer", func(o *auth.Options) {
			p.discovery.Store(`{"issuer":"https://evil.test","jwks_uri":"` + p.srv.URL + `/jwks"}`)
			o.Issuers[0] = auth.Issuer{Issuer: p.srv.URL, Audience: testAudience, Discovery: true, Algorithms: []string{"RS256"}}
		}},
		{"discovery jwks_uri on another origin", func(o *auth.Options) {
			p.discovery.Store(`{"issuer":"` + p.srv.URL + `","jwks_uri":"` + other.srv.URL + `/jwks"}`)
			o.Issuers[0] = auth.Issuer{Issuer: p.srv.URL, Audience: testAudience, Discovery: true, Algorithms: []string{"RS256"}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := p.options(slog.New(slog.DiscardHandler))
			tt.mutate(&opts)
			c := validClaims()
			c["iss"] = opts.Issuers[0].Issuer
			w := serve(newHandler(t, opts), bearerRequest(mint(t, "RS256", k.rsa, hdr("RS256", "k1"), c)))
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503 (fail closed)", w.Code)
			}
		})
	}
	_ = tok
	if n := other.count("/jwks"); n != 0 {
		t.Errorf("the other origin's JWKS was fetched %d times, want 0", n)
	}
	if n := p.count("/jwks"); n != 0 {
		t.Errorf("the redirect target was fetched %d times, want 0", n)
	}
}

func TestDiscovery(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	p.discovery.Store(`{"issuer":"` + p.srv.URL + `","jwks_uri":"` + p.srv.URL + `/jwks","id_token_signing_alg_values_supported":["RS256"]}`)
	opts := p.options(slog.New(slog.DiscardHandler))
	opts.Issuers[0] = auth.Issuer{Issuer: p.srv.URL, Audience: testAudience, Discovery: true, Algorithms: []string{"RS256"}}
	h := newHandler(t, opts)
	c := validClaims()
	c["iss"] = p.srv.URL
	for range 3 {
		if w := serve(h, bearerRequest(mint(t, "RS256", k.rsa, hdr("RS256", "k1"), c))); w.Code != 200 {
			t.Fatalf("status = %d, want 200", w.Code)
		}
	}
	if d, j := p.count("/.well-known/openid-configuration"), p.count("/jwks"); d != 1 || j != 1 {
		t.Errorf("discovery fetched %d times, JWKS %d times; want 1 and 1", d, j)
	}
}

// jku and x5u on the trusted JWKS host, another path: never fetched (§4 rows 5 and 6).
func TestJWKSIgnoresJKUAndX5U(t *testing.T) {
	p := newIDP(t)
	k := keys()
	p.publish(t, map[string]any{"k1": &k.rsa.PublicKey})
	h := newHandler(t, p.options(slog.New(slog.DiscardHandler)))
	for _, name := range []string{"jku", "x5u"} {
		hd := hdr("RS256", "evil")
		hd[name] = p.srv.URL + "/attacker/" + name
		w := serve(h, bearerRequest(mint(t, "RS256", k.attacker, hd, validClaims())))
		wantInvalidToken(t, w, "")
	}
	if n := p.count("/attacker/jku") + p.count("/attacker/x5u"); n != 0 {
		t.Errorf("attacker paths fetched %d times, want 0", n)
	}
}

// JWKS keys are bound to one algorithm: a JWK's own alg must be allowed, encryption keys and
// symmetric keys are never used, and a duplicate kid is dropped.
func TestJWKSKeySelection(t *testing.T) {
	p := newIDP(t)
	k := keys()
	rsaJWK := func(kid, extra string) string {
		return `{"kty":"RSA","kid":"` + kid + `","n":"` + b64(k.rsa.N.Bytes()) + `","e":"AQAB"` + extra + `}`
	}
	p.jwks.Store(`{"keys":[` + strings.Join([]string{
		rsaJWK("ok", `,"alg":"RS256"`),
		rsaJWK("ps", `,"alg":"PS256"`),
		rsaJWK("enc", `,"use":"enc"`),
		rsaJWK("ops", `,"key_ops":["encrypt"]`),
		rsaJWK("dup", ""), rsaJWK("dup", ""),
		`{"kty":"oct","kid":"oct","k":"` + b64(k.hmac) + `"}`,
	}, ",") + `]}`)
	opts := p.options(slog.New(slog.DiscardHandler))
	opts.Issuers[0].Algorithms = []string{"RS256"}
	h := newHandler(t, opts)
	for _, tt := range []struct {
		kid, alg string
		key      any
		want     int
	}{
		{"ok", "RS256", k.rsa, 200},
		{"ps", "PS256", k.rsa, 401},
		{"enc", "RS256", k.rsa, 401},
		{"ops", "RS256", k.rsa, 401},
		{"dup", "RS256", k.rsa, 401},
		{"oct", "HS256", k.hmac, 401},
	} {
		if w := serve(h, bearerRequest(tokenFor(t, tt.kid, tt.key, tt.alg))); w.Code != tt.want {
			t.Errorf("kid %s: status = %d, want %d", tt.kid, w.Code, tt.want)
		}
	}
}
