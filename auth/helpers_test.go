package auth_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/encode"
)

// The §4 baseline fixture of SECURITY-STANDARDS.md: issuer https://issuer.test, audience
// api://test, an RS256 key "rsa1" and an ES256 key "ec1".
const (
	testIssuer   = "https://issuer.test"
	testAudience = "api://test"
)

type testKeySet struct {
	rsa      *rsa.PrivateKey
	rsa2     *rsa.PrivateKey // a second issuer's or an attacker's key
	ec       *ecdsa.PrivateKey
	ec2      *ecdsa.PrivateKey
	ec384    *ecdsa.PrivateKey
	ed       ed25519.PrivateKey
	hmac     []byte
	attacker *rsa.PrivateKey
}

// keys are generated once per test binary: RSA generation is slow under -race.
var keys = sync.OnceValue(func() *testKeySet {
	must := func(k any, err error) any {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &testKeySet{
		rsa:      must(rsa.GenerateKey(rand.Reader, 2048)).(*rsa.PrivateKey),
		rsa2:     must(rsa.GenerateKey(rand.Reader, 2048)).(*rsa.PrivateKey),
		attacker: must(rsa.GenerateKey(rand.Reader, 2048)).(*rsa.PrivateKey),
		ec:       must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)).(*ecdsa.PrivateKey),
		ec2:      must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)).(*ecdsa.PrivateKey),
		ec384:    must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)).(*ecdsa.PrivateKey),
		ed:       ed,
		hmac:     secret,
	}
})

// baseOptions is the baseline validator.
func baseOptions() auth.Options {
	k := keys()
	return auth.Options{
		Issuers: []auth.Issuer{{
			Issuer:   testIssuer,
			Audience: testAudience,
			Keys: []auth.Key{
				{ID: "rsa1", Algorithm: "RS256", Public: &k.rsa.PublicKey},
				{ID: "ec1", Algorithm: "ES256", Public: &k.ec.PublicKey},
			},
		}},
		Logger: slog.New(slog.DiscardHandler),
	}
}

// validClaims are the claims of the baseline token V: every RFC 9068 claim.
func validClaims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": testIssuer, "sub": "alice", "aud": testAudience, "client_id": "app",
		"exp": now + 300, "iat": now, "jti": "jti-1", "scope": "notes:read notes:write",
		"roles": []string{"editor"},
	}
}

func hdr(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "at+jwt"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// encodeJSON marshals v, or takes a string as raw JSON.
func encodeJSON(t testing.TB, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return b64([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// mint builds a compact JWS by hand, so that tests control every byte of header and claims.
// signAlg is the algorithm actually used to sign, which may differ from the header's.
func mint(t testing.TB, signAlg string, key any, header, claims any) string {
	t.Helper()
	input := encodeJSON(t, header) + "." + encodeJSON(t, claims)
	return input + "." + b64(signRaw(t, signAlg, key, []byte(input)))
}

// V returns the baseline token: RS256, kid rsa1, valid claims.
func V(t testing.TB) string {
	return mint(t, "RS256", keys().rsa, hdr("RS256", "rsa1"), validClaims())
}

func hashOf(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

func signRaw(t testing.TB, alg string, key any, input []byte) []byte {
	t.Helper()
	var sig []byte
	var err error
	switch alg[:2] {
	case "HS":
		m := hmac.New(hashOf(alg).New, key.([]byte))
		m.Write(input)
		return m.Sum(nil)
	case "Ed":
		return ed25519.Sign(key.(ed25519.PrivateKey), input)
	}
	h := hashOf(alg).New()
	h.Write(input)
	digest := h.Sum(nil)
	switch alg[:2] {
	case "RS":
		sig, err = rsa.SignPKCS1v15(nil, key.(*rsa.PrivateKey), hashOf(alg), digest)
	case "PS":
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), hashOf(alg), digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		k := key.(*ecdsa.PrivateKey)
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, digest)
		if err == nil {
			sig = ecRaw(k.Curve, r, s)
		}
	default:
		t.Fatalf("signRaw: unknown alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func ecRaw(c elliptic.Curve, r, s *big.Int) []byte {
	size := (c.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out
}

// echo writes the principal's key, so that tests see who was authenticated.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprintf(w, "%s %s", p.Method, p.Key())
})

func newHandler(t testing.TB, opts auth.Options) http.Handler {
	t.Helper()
	mw, err := auth.New(opts)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return mw(echo)
}

func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest("GET", "https://api.test/notes", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// wantInvalidToken checks the §4 expected result: 401, WWW-Authenticate with
// error="invalid_token", a generic problem body that echoes nothing of the token.
func wantInvalidToken(t *testing.T, w *httptest.ResponseRecorder, tok string) {
	t.Helper()
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401 (body %q)", w.Code, w.Body.String())
	}
	if got, want := w.Header().Get("WWW-Authenticate"), `Bearer error="invalid_token"`; got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	if got := w.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	if want := `{"type":"about:blank","title":"Unauthorized","status":401}`; w.Body.String() != want {
		t.Errorf("body = %q, want the generic %q", w.Body.String(), want)
	}
	if len(tok) > 16 && strings.Contains(w.Body.String(), tok[len(tok)-16:]) {
		t.Error("the body echoes the token")
	}
}

// refusedWith runs tok through a handler whose ErrorHandler records the error, checks the
// §4 response, and returns the recorded error for errors.Is checks.
func refusedWith(t *testing.T, opts auth.Options, tok string) error {
	t.Helper()
	var got error
	opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		encode.WriteError(w, r, err)
	}
	w := serve(newHandler(t, opts), bearerRequest(tok))
	wantInvalidToken(t, w, tok)
	return got
}

// logBuffer is a concurrency-safe sink for a slog handler.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func asn1Marshal(v any) ([]byte, error) { return asn1.Marshal(v) }

func sha256Sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
