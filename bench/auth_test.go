package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/bulwark-go/bulwark/auth"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
)

// The JWT verification benchmarks: the same token, one per algorithm, verified by bulwark's
// auth.New, by a hand-rolled golang-jwt/jwt/v5 middleware (what a careful team writes),
// by go-chi/jwtauth (jwx v2's jwt.Parse), and by auth0/go-jwt-middleware (go-jose). Each is
// configured to check the same things: signature with a pinned key and algorithm, issuer,
// audience, expiry with 30 s leeway.

const (
	authIssuer   = "https://issuer.example"
	authAudience = "api://notes"
)

var authAlgs = []string{"ES256", "RS256", "EdDSA", "HS256"}

type authKey struct {
	method jwt.SigningMethod
	priv   any
	pub    any // the verification key: a public key, or the HMAC secret
}

var authKeys = sync.OnceValue(func() map[string]authKey {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	epub, epriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return map[string]authKey{
		"ES256": {jwt.SigningMethodES256, ek, &ek.PublicKey},
		"RS256": {jwt.SigningMethodRS256, rk, &rk.PublicKey},
		"EdDSA": {jwt.SigningMethodEdDSA, epriv, epub},
		"HS256": {jwt.SigningMethodHS256, secret, secret},
	}
})

// authToken is a typical RFC 9068 access token, minted by golang-jwt.
func authToken(tb testing.TB, alg string) string {
	k := authKeys()[alg]
	now := time.Now()
	tok := jwt.NewWithClaims(k.method, jwt.MapClaims{
		"iss": authIssuer, "sub": "user-1234", "aud": authAudience, "client_id": "notes-web",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "8f14e45f-ceea-467f-a8f5-8b3c1b1e9d2a",
		"scope": "notes:read notes:write", "roles": []string{"editor"},
	})
	tok.Header["kid"] = "k1"
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(k.priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func authBulwark(tb testing.TB, alg string, cacheSize int) func(http.Handler) http.Handler {
	k := authKeys()[alg]
	key := auth.Key{ID: "k1", Algorithm: alg, Public: k.pub}
	if alg == "HS256" {
		key = auth.Key{ID: "k1", Algorithm: alg, Secret: k.pub.([]byte)}
	}
	mw, err := auth.New(auth.Options{
		Issuers:   []auth.Issuer{{Issuer: authIssuer, Audience: authAudience, Keys: []auth.Key{key}}},
		CacheSize: cacheSize,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return mw
}

type authGJClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

type authGJKey struct{}

// authGolangJWT is the hand-rolled middleware: typed claims, pinned algorithm and key.
func authGolangJWT(tb testing.TB, alg string) func(http.Handler) http.Handler {
	k := authKeys()[alg]
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(authIssuer),
		jwt.WithAudience(authAudience), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	keyFunc := func(*jwt.Token) (any, error) { return k.pub, nil }
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			var c authGJClaims
			if _, err := parser.ParseWithClaims(tok, &c, keyFunc); err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authGJKey{}, &c)))
		})
	}
}

func authJWTAuth(tb testing.TB, alg string) func(http.Handler) http.Handler {
	k := authKeys()[alg]
	ja := jwtauth.New(alg, nil, k.pub, jwxjwt.WithIssuer(authIssuer), jwxjwt.WithAudience(authAudience),
		jwxjwt.WithAcceptableSkew(30*time.Second))
	return func(next http.Handler) http.Handler {
		return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(next))
	}
}

func authAuth0(tb testing.TB, alg string) func(http.Handler) http.Handler {
	k := authKeys()[alg]
	v, err := validator.New(func(context.Context) (any, error) { return k.pub, nil },
		validator.SignatureAlgorithm(alg), authIssuer, []string{authAudience}, validator.WithAllowedClockSkew(30*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return jwtmiddleware.New(v.ValidateToken).CheckJWT
}

type authPeer struct {
	name string
	mw   func(testing.TB, string) func(http.Handler) http.Handler
}

var authPeers = []authPeer{
	{"bulwark", func(tb testing.TB, alg string) func(http.Handler) http.Handler { return authBulwark(tb, alg, 0) }},
	{"golang-jwt", authGolangJWT},
	{"jwtauth", authJWTAuth},
	{"auth0", authAuth0},
}

func authRequest(tok string) *http.Request {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/notes", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func authRun(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, r)
	if w.code != http.StatusOK {
		b.Fatalf("status = %d, want 200", w.code)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkAuthVerify(b *testing.B) {
	for _, alg := range authAlgs {
		r := authRequest(authToken(b, alg))
		for _, p := range authPeers {
			b.Run(alg+"/"+p.name, func(b *testing.B) { authRun(b, p.mw(b, alg)(final), r) })
		}
	}
}

// BenchmarkAuthVerifyCached is a client repeating its token with the verified-token cache on.
func BenchmarkAuthVerifyCached(b *testing.B) {
	for _, alg := range authAlgs {
		r := authRequest(authToken(b, alg))
		b.Run(alg+"/bulwark-cache", func(b *testing.B) { authRun(b, authBulwark(b, alg, 1024)(final), r) })
	}
}

// TestAuthPeersAgree makes sure the benchmarks compare working configurations: every peer
// accepts the token and refuses it once tampered with or addressed to another audience.
func TestAuthPeersAgree(t *testing.T) {
	for _, alg := range authAlgs {
		good := authToken(t, alg)
		parts := strings.Split(good, ".")
		tampered := parts[0] + "." + parts[1] + "x." + parts[2]
		for _, p := range authPeers {
			h := p.mw(t, alg)(final)
			for tok, want := range map[string]int{good: 200, tampered: 401} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, authRequest(tok))
				if w.Code != want {
					t.Errorf("%s %s: status = %d, want %d", alg, p.name, w.Code, want)
				}
			}
		}
	}
}
