package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

func TestValidTokenPrincipal(t *testing.T) {
	k := keys()
	c := validClaims()
	c["amr"] = []string{"pwd", "otp"}
	c["acr"] = "urn:mace:incommon:iap:silver"
	c["auth_time"] = time.Now().Add(-time.Minute).Unix()
	c["tenant"] = map[string]any{"id": "t-42"}
	var got auth.Principal
	mw, err := auth.New(baseOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.FromContext(r.Context())
	}))
	for _, alg := range []string{"RS256", "ES256"} {
		key, kid := any(k.rsa), "rsa1"
		if alg == "ES256" {
			key, kid = k.ec, "ec1"
		}
		tok := mint(t, alg, key, hdr(alg, kid), c)
		if w := serve(h, bearerRequest(tok)); w.Code != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", alg, w.Code)
		}
		if got.Method != auth.MethodJWT || got.Subject != "alice" || got.Issuer != testIssuer || got.ClientID != "app" || got.Client {
			t.Errorf("%s: principal = %+v", alg, got)
		}
		if !slices.Equal(got.Audience, []string{testAudience}) || !slices.Equal(got.Scopes, []string{"notes:read", "notes:write"}) ||
			!slices.Equal(got.Roles, []string{"editor"}) || !slices.Equal(got.AMR, []string{"pwd", "otp"}) {
			t.Errorf("%s: lists = %q %q %q %q", alg, got.Audience, got.Scopes, got.Roles, got.AMR)
		}
		if got.ACR != c["acr"] || got.TokenID != "jti-1" || got.AuthTime.Unix() != c["auth_time"] ||
			got.Expiry.Unix() != c["exp"] || got.IssuedAt.Unix() != c["iat"] {
			t.Errorf("%s: acr/jti/times = %q %q %v %v %v", alg, got.ACR, got.TokenID, got.AuthTime, got.Expiry, got.IssuedAt)
		}
		var tenant string
		if err := got.Claim("/tenant/id", &tenant); err != nil || tenant != "t-42" {
			t.Errorf("%s: Claim(/tenant/id) = %q, %v; want t-42", alg, tenant, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(got.RawClaims(), &raw); err != nil || raw["sub"] != "alice" {
			t.Errorf("%s: RawClaims = %v, %v", alg, raw, err)
		}
	}
}

// The four cases of the RFC 6750 §3.1 error convention, and the problem bodies.
func TestRefusalConvention(t *testing.T) {
	opts := baseOptions()
	opts.Realm = "notes"
	h := newHandler(t, opts)
	mw, _ := auth.New(baseOptions())
	h2 := mw(auth.RequireScopes("notes:admin")(echo))
	for _, tt := range []struct {
		name      string
		h         http.Handler
		auth      string
		want      int
		challenge string
	}{
		{"no credentials", h, "", 401, `Bearer realm="notes"`},
		{"invalid request", h, "Bearer", 400, `Bearer realm="notes", error="invalid_request"`},
		{"invalid token", h, "Bearer abc.def.ghi", 401, `Bearer realm="notes", error="invalid_token"`},
		{"valid", h, "Bearer " + V(t), 200, ""},
		{"insufficient scope", h2, "Bearer " + V(t), 403, `Bearer error="insufficient_scope", scope="notes:admin"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/notes", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := serve(tt.h, r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.want != 200 && w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type = %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestRequireScopes(t *testing.T) {
	mw, err := auth.New(baseOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		scopes []string
		want   int
	}{
		{nil, 200},
		{[]string{"notes:read"}, 200},
		{[]string{"notes:read", "notes:write"}, 200},
		{[]string{"notes:read", "notes:delete"}, 403},
	} {
		w := serve(mw(auth.RequireScopes(tt.scopes...)(echo)), bearerRequest(V(t)))
		if w.Code != tt.want {
			t.Errorf("RequireScopes(%q): status = %d, want %d", tt.scopes, w.Code, tt.want)
		}
	}
	// Without New in front, RequireScopes fails closed.
	w := serve(auth.RequireScopes("notes:read")(echo), bearerRequest(V(t)))
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("no principal: status = %d, challenge %q; want 401 Bearer", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestScpAndRolesClaim(t *testing.T) {
	k := keys()
	opts := baseOptions()
	opts.Issuers[0].RolesClaim = "/realm_access/roles"
	opts.Issuers[0].AllowUntypedTokens = true
	var got auth.Principal
	mw, _ := auth.New(opts)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = auth.FromContext(r.Context()) }))
	for name, c := range map[string]struct {
		set        map[string]any
		scopes     []string
		roles      []string
		wantStatus int
	}{
		"scp array":          {map[string]any{"scp": []string{"a", "b"}, "realm_access": map[string]any{"roles": []string{"admin"}}}, []string{"a", "b"}, []string{"admin"}, 200},
		"scp string":         {map[string]any{"scp": "a b"}, []string{"a", "b"}, nil, 200},
		"scope wins":         {map[string]any{"scope": "x", "scp": "y"}, []string{"x"}, nil, 200},
		"roles string":       {map[string]any{"realm_access": map[string]any{"roles": "r1 r2"}}, nil, []string{"r1", "r2"}, 200},
		"roles wrong type":   {map[string]any{"realm_access": map[string]any{"roles": 7}}, nil, nil, 401},
		"scope wrong type":   {map[string]any{"scope": []int{1}}, nil, nil, 401},
		"duplicate member":   {nil, nil, nil, 401},
		"case-folded member": {map[string]any{"ISS": "https://evil.test"}, nil, nil, 200},
	} {
		t.Run(name, func(t *testing.T) {
			claims := validClaims()
			delete(claims, "scope")
			for k, v := range c.set {
				claims[k] = v
			}
			var tok string
			if name == "duplicate member" {
				b, _ := json.Marshal(claims)
				raw := strings.Replace(string(b), `"sub":"alice"`, `"sub":"alice","sub":"admin"`, 1)
				tok = mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), raw)
			} else {
				tok = mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "kid": "rsa1"}, claims)
			}
			got = auth.Principal{}
			w := serve(h, bearerRequest(tok))
			if w.Code != c.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, c.wantStatus)
			}
			if w.Code == 200 && (!slices.Equal(got.Scopes, c.scopes) || !slices.Equal(got.Roles, c.roles) || got.Issuer != testIssuer) {
				t.Errorf("scopes %q roles %q iss %q, want %q %q %q", got.Scopes, got.Roles, got.Issuer, c.scopes, c.roles, testIssuer)
			}
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	k := keys()
	for _, tt := range []struct {
		name string
		opts auth.Options
		want []string // each must appear in the joined error
	}{
		{"zero", auth.Options{}, []string{"Issuers, APIKeys or Introspection is required"}},
		{"issuer fields", auth.Options{Issuers: []auth.Issuer{{}}}, []string{"field Issuer is required", "field Audience is required", "exactly one of Keys"}},
		{"ranges", auth.Options{Issuers: baseOptions().Issuers, Leeway: time.Hour, MaxTokenSize: -1, KeyRefresh: time.Millisecond, CacheSize: -1},
			[]string{"Leeway", "MaxTokenSize", "KeyRefresh", "CacheSize"}},
		{"realm", auth.Options{Issuers: baseOptions().Issuers, Realm: `a"b`}, []string{"Realm"}},
		{"jwks http", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, JWKSURL: "http://idp.example/jwks", Algorithms: []string{"RS256"}}}}, []string{"JWKSURL"}},
		{"jwks no algorithms", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, JWKSURL: "https://idp.example/jwks"}}}, []string{"Algorithms is required"}},
		{"jwks hmac", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, JWKSURL: "https://idp.example/jwks", Algorithms: []string{"HS256", "none"}}}}, []string{"HS256", `"none"`}},
		{"discovery http", auth.Options{Issuers: []auth.Issuer{{Issuer: "http://idp.example", Audience: testAudience, Discovery: true, Algorithms: []string{"RS256"}}}}, []string{"field Issuer: URL must be https"}},
		{"mixed hmac and rsa", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, Keys: []auth.Key{
			{ID: "a", Algorithm: "HS256", Secret: make([]byte, 32)}, {ID: "b", Algorithm: "RS256", Public: &k.rsa.PublicKey}}}}}, []string{"mixes HMAC"}},
		{"small rsa", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, Keys: []auth.Key{
			{ID: "a", Algorithm: "ES256", Public: &k.ec384.PublicKey}, {ID: "b", Algorithm: "none"}}}}}, []string{"P-256", `"none"`}},
		{"roles claim", auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, RolesClaim: "roles", Keys: baseOptions().Issuers[0].Keys}}}, []string{"RolesClaim"}},
		{"duplicate issuer", auth.Options{Issuers: append(baseOptions().Issuers, baseOptions().Issuers...)}, []string{"listed twice"}},
		{"api key prefix", auth.Options{APIKeys: auth.NewMemoryAPIKeyStore(), APIKeyPrefix: "Bad_"}, []string{"APIKeyPrefix"}},
		{"introspection", auth.Options{Introspection: auth.Introspection{URL: "http://idp.example/introspect"}}, []string{"Introspection.URL", "ClientSecret", "Audience"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := auth.New(tt.opts)
			if err == nil || mw != nil {
				t.Fatalf("New: nil error (middleware %v); want an error", mw != nil)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestOptionalAndModes(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /health", echo)
	mux.Handle("GET /notes/{id}", echo)
	opts := baseOptions()
	opts.UnsafeExclude = []string{"GET /health"}
	opts.Mux = mux
	opts.AllowPreflight = true
	mw, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(mux)

	optional := baseOptions()
	optional.Optional = true
	hOpt := newHandler(t, optional)

	preflight := httptest.NewRequest("OPTIONS", "/notes/1", nil)
	preflight.Header.Set("Access-Control-Request-Method", "DELETE")
	for _, tt := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		want int
		body string
	}{
		{"excluded pattern", h, httptest.NewRequest("GET", "/health", nil), 200, "anonymous"},
		{"excluded pattern, other method", h, httptest.NewRequest("POST", "/health", nil), 401, ""},
		{"dot segments are not the excluded route", h, httptest.NewRequest("GET", "/health/../notes/1", nil), 401, ""},
		{"not excluded", h, httptest.NewRequest("GET", "/notes/1", nil), 401, ""},
		{"preflight", h, preflight, 405 /* passed to the mux, which has no OPTIONS route */ /* the mux has no OPTIONS route */, ""},
		{"OPTIONS without preflight header", h, httptest.NewRequest("OPTIONS", "/notes/1", nil), 401, ""},
		{"optional, anonymous", hOpt, httptest.NewRequest("GET", "/notes/1", nil), 200, "anonymous"},
		{"optional, invalid token", hOpt, bearerRequest("abc.def.ghi"), 401, ""},
		{"optional, valid token", hOpt, bearerRequest(V(t)), 200, "jwt " + (auth.Principal{Issuer: testIssuer, Subject: "alice"}).Key()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(tt.h, tt.r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tt.body)
			}
		})
	}

	// Wrapping a route rather than the mux: r.Pattern decides, no Mux needed.
	opts = baseOptions()
	opts.UnsafeExclude = []string{"GET /health"}
	inner := http.NewServeMux()
	inner.Handle("GET /health", newHandler(t, opts))
	inner.Handle("GET /healthz", newHandler(t, opts))
	if w := serve(inner, httptest.NewRequest("GET", "/health", nil)); w.Code != 200 {
		t.Errorf("route-level exclusion: status = %d, want 200", w.Code)
	}
	if w := serve(inner, httptest.NewRequest("GET", "/healthz", nil)); w.Code != 401 {
		t.Errorf("similar route: status = %d, want 401", w.Code)
	}
}

func TestCookieAndQueryOptIn(t *testing.T) {
	v := V(t)
	opts := baseOptions()
	opts.Cookie = "__Host-access"
	opts.UnsafeQueryParam = "access_token"
	h := newHandler(t, opts)
	cookieReq := func(n int) *http.Request {
		r := httptest.NewRequest("GET", "/x", nil)
		for range n {
			r.AddCookie(&http.Cookie{Name: "__Host-access", Value: v})
		}
		return r
	}
	both := cookieReq(1)
	both.Header.Set("Authorization", "Bearer "+v)
	twoQuery := httptest.NewRequest("GET", "/x?access_token="+v+"&access_token="+v, nil)
	for _, tt := range []struct {
		name string
		r    *http.Request
		want int
	}{
		{"cookie", cookieReq(1), 200},
		{"two cookies", cookieReq(2), 400},
		{"cookie and header", both, 400},
		{"query opted in", httptest.NewRequest("GET", "/x?access_token="+v, nil), 200},
		{"query twice", twoQuery, 400},
	} {
		if w := serve(h, tt.r); w.Code != tt.want {
			t.Errorf("%s: status = %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

// A token never reaches a log line or a response, whatever the refusal.
func TestNoTokenInLogs(t *testing.T) {
	var logs logBuffer
	opts := baseOptions()
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	h := newHandler(t, opts)
	c := validClaims()
	c["exp"] = time.Now().Add(-time.Hour).Unix()
	expired := mint(t, "RS256", keys().rsa, hdr("RS256", "rsa1"), c)
	tampered := V(t) + "x"
	for _, tok := range []string{expired, tampered} {
		w := serve(h, bearerRequest(tok))
		if w.Code != 401 {
			t.Fatalf("status = %d, want 401", w.Code)
		}
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if strings.Contains(logs.String(), sig[:20]) || strings.Contains(w.Body.String(), sig[:20]) {
			t.Error("token material in the log or body")
		}
	}
	if !strings.Contains(logs.String(), `"msg":"authn_token_invalid"`) || !strings.Contains(logs.String(), "token expired") {
		t.Errorf("log lacks the event or the reason: %s", logs.String())
	}
}

func TestCheckHook(t *testing.T) {
	errTenant := errors.New("wrong tenant")
	opts := baseOptions()
	opts.Check = func(r *http.Request, p auth.Principal) error {
		var tenant string
		if err := p.Claim("/tenant", &tenant); err != nil || tenant != "acme" {
			return errTenant
		}
		return nil
	}
	var got error
	opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(401) }
	h := newHandler(t, opts)
	c := validClaims()
	c["tenant"] = "acme"
	good := mint(t, "RS256", keys().rsa, hdr("RS256", "rsa1"), c)
	if w := serve(h, bearerRequest(good)); w.Code != 200 {
		t.Errorf("tenant acme: status = %d, want 200", w.Code)
	}
	if w := serve(h, bearerRequest(V(t))); w.Code != 401 || !errors.Is(got, errTenant) || !errors.Is(got, auth.ErrCheckFailed) {
		t.Errorf("no tenant: status = %d, error %v; want 401 and errTenant", w.Code, got)
	}
}

// Time boundaries with a fake clock: exp − 1 s passes, exp + leeway is refused; nbf likewise.
func TestTimeBoundaries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := keys()
		h := newHandler(t, baseOptions())
		now := time.Now()
		c := validClaims()
		c["iat"], c["exp"], c["nbf"] = now.Unix(), now.Unix()+60, now.Unix()+40
		tok := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), c)
		for _, step := range []struct {
			sleep time.Duration
			want  int
		}{
			{0, 401},                // nbf is 40 s ahead: beyond the 30 s leeway
			{10 * time.Second, 200}, // nbf − 30 s
			{49 * time.Second, 200}, // exp − 1 s
			{30 * time.Second, 200}, // exp + 29 s, inside the leeway
			{1 * time.Second, 401},  // exp + 30 s
		} {
			time.Sleep(step.sleep)
			if w := serve(h, bearerRequest(tok)); w.Code != step.want {
				t.Errorf("at %v: status = %d, want %d", time.Since(now), w.Code, step.want)
			}
		}
	})
}

func TestVerifiedTokenCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &memoryRevocation{revoked: map[[2]string]bool{}}
		opts := baseOptions()
		opts.CacheSize = 2
		opts.CacheMaxAge = time.Minute
		opts.Revocation = store
		var checks int
		opts.Check = func(*http.Request, auth.Principal) error { checks++; return nil }
		h := newHandler(t, opts)
		tok := V(t) // exp in 5 minutes
		for i := range 3 {
			if w := serve(h, bearerRequest(tok)); w.Code != 200 {
				t.Fatalf("request %d: status = %d", i, w.Code)
			}
		}
		if checks != 3 || store.calls.Load() != 3 {
			t.Errorf("Check ran %d times, Revoked %d times; want 3 and 3 (never cached)", checks, store.calls.Load())
		}
		// Revoking the jti ends the cached token at once.
		store.mu.Lock()
		store.revoked[[2]string{testIssuer, "jti-1"}] = true
		store.mu.Unlock()
		if w := serve(h, bearerRequest(tok)); w.Code != 401 {
			t.Errorf("revoked while cached: status = %d, want 401", w.Code)
		}
		store.mu.Lock()
		clear(store.revoked)
		store.mu.Unlock()
		// A cache entry never outlives exp (+ leeway for the verifier).
		time.Sleep(6 * time.Minute)
		if w := serve(h, bearerRequest(tok)); w.Code != 401 {
			t.Errorf("expired while cached: status = %d, want 401", w.Code)
		}
		// Filling past CacheSize evicts; every token still verifies.
		for i := range 5 {
			c := validClaims()
			c["jti"] = "j" + string(rune('a'+i))
			if w := serve(h, bearerRequest(mint(t, "ES256", keys().ec, hdr("ES256", "ec1"), c))); w.Code != 200 {
				t.Errorf("token %d: status = %d", i, w.Code)
			}
		}
	})
}

func TestRevocationHookSeesPrincipal(t *testing.T) {
	var seen auth.Principal
	opts := baseOptions()
	opts.Revocation = revocationFunc(func(_ context.Context, p auth.Principal) (bool, error) { seen = p; return false, nil })
	if w := serve(newHandler(t, opts), bearerRequest(V(t))); w.Code != 200 {
		t.Fatalf("status = %d", w.Code)
	}
	if seen.TokenID != "jti-1" || seen.Issuer != testIssuer || seen.IssuedAt.IsZero() {
		t.Errorf("Revoked got %+v, want jti, issuer and iat", seen)
	}
}

type revocationFunc func(context.Context, auth.Principal) (bool, error)

func (f revocationFunc) Revoked(ctx context.Context, p auth.Principal) (bool, error) {
	return f(ctx, p)
}

func TestGlueFuncs(t *testing.T) {
	var roles, scopes []string
	var subject, key string
	mw, _ := auth.New(baseOptions())
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		roles, scopes, subject, key = auth.Roles(r), auth.Scopes(r), auth.Subject(r), auth.SubjectKey(r)
	}))
	serve(h, bearerRequest(V(t)))
	if !slices.Equal(roles, []string{"editor"}) || len(scopes) != 2 || subject != "alice" || key != "19:https://issuer.testalice" {
		t.Errorf("glue = %q %q %q %q", roles, scopes, subject, key)
	}
	r := httptest.NewRequest("GET", "/", nil)
	if auth.Roles(r) != nil || auth.SubjectKey(r) != "" || auth.Subject(r) != "" || auth.Scopes(r) != nil {
		t.Error("glue on an anonymous request is not empty")
	}
}

func TestHMACIssuer(t *testing.T) {
	k := keys()
	opts := auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience,
		Keys: []auth.Key{{ID: "h1", Algorithm: "HS256", Secret: k.hmac}}}}, Logger: slog.New(slog.DiscardHandler)}
	h := newHandler(t, opts)
	if w := serve(h, bearerRequest(mint(t, "HS256", k.hmac, hdr("HS256", "h1"), validClaims()))); w.Code != 200 {
		t.Errorf("HS256: status = %d, want 200", w.Code)
	}
	if w := serve(h, bearerRequest(mint(t, "HS512", k.hmac, hdr("HS512", "h1"), validClaims()))); w.Code != 401 {
		t.Errorf("HS512 on an HS256 key: status = %d, want 401", w.Code)
	}
}

// JWKS and discovery URLs: https anywhere, plain http only on loopback hosts.
func TestFetchURLs(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://idp.example/jwks", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://[::1]/jwks", true},
		{"http://localhost/jwks", true},
		{"http://idp.example/jwks", false},
		{"http://127.0.0.1.nip.io/jwks", false},
		{"https://user:pw@idp.example/jwks", false},
		{"https://idp.example/jwks#frag", false},
		{"file:///etc/jwks.json", false},
		{"/jwks", false},
	} {
		_, err := auth.New(auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience,
			JWKSURL: tt.url, Algorithms: []string{"ES256"}}}})
		if (err == nil) != tt.ok {
			t.Errorf("JWKSURL %q: error = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

// SECURITY-STANDARDS.md §11: library code never skips verification, of tokens or of TLS.
func TestNoInsecureCalls(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"ParseInsecure", "WithVerify(false)", "InsecureSkipVerify", "WithVerifyAuto", "jwt.Parse("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %s", f, bad)
			}
		}
	}
}
