package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
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
	"github.com/golang-jwt/jwt/v5"
)

const (
	issIssuer   = "https://login.test"
	issAudience = "api://notes"
)

func newSigner(t testing.TB, keys ...auth.SigningKey) *auth.Signer {
	t.Helper()
	s, err := auth.NewSigner(auth.SignerOptions{Issuer: issIssuer, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func active(k crypto.Signer) auth.SigningKey {
	return auth.SigningKey{Signer: k, State: auth.KeyActive}
}

func aliceClaims() auth.AccessClaims {
	return auth.AccessClaims{
		Subject: "alice", Audience: []string{issAudience}, ClientID: "notes-web",
		Scopes: []string{"notes:read", "notes:write"}, Roles: []string{"editor"}, AMR: []string{"pwd", "otp"},
		AuthTime: time.Now().Add(-time.Minute).Truncate(time.Second),
	}
}

// validatorFor is the validator of the authentication issue, trusting s's keys.
func validatorFor(t testing.TB, s *auth.Signer, rev auth.RevocationStore) http.Handler {
	t.Helper()
	return newHandler(t, auth.Options{
		Issuers:    []auth.Issuer{{Issuer: s.Issuer(), Audience: issAudience, Keys: s.VerificationKeys()}},
		Revocation: rev,
		Logger:     slog.New(slog.DiscardHandler),
	})
}

// principalOf validates tok with a validator trusting s and returns the principal.
func principalOf(t *testing.T, s *auth.Signer, tok string) (auth.Principal, int) {
	t.Helper()
	mw, err := auth.New(auth.Options{
		Issuers: []auth.Issuer{{Issuer: s.Issuer(), Audience: issAudience, Keys: s.VerificationKeys()}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	var p auth.Principal
	w := serve(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p, _ = auth.FromContext(r.Context()) })), bearerRequest(tok))
	return p, w.Code
}

func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// thumbprint computes the RFC 7638 §3.2 SHA-256 thumbprint by hand: the required members
// in lexicographic order, no whitespace.
func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	var canon string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		point, err := k.Bytes() // 0x04 ‖ X ‖ Y
		if err != nil {
			t.Fatal(err)
		}
		size := (len(point) - 1) / 2
		canon = `{"crv":"` + k.Curve.Params().Name + `","kty":"EC","x":"` + enc(point[1:1+size]) + `","y":"` + enc(point[1+size:]) + `"}`
	case ed25519.PublicKey:
		canon = `{"crv":"Ed25519","kty":"OKP","x":"` + enc(k) + `"}`
	default:
		t.Fatalf("thumbprint: %T", pub)
	}
	h := sha256.Sum256([]byte(canon))
	return enc(h[:])
}

// Round trip: issue -> validate with auth.New, for both default algorithms, with every
// RFC 9068 §2.2 claim (SECURITY-STANDARDS RFC9068 §2.1/§2.2, ASVS5 9.2.4, 11.5.1).
func TestIssueRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		alg string
		key crypto.Signer
	}{{"ES256", keys().ec}, {"EdDSA", keys().ed}} {
		t.Run(tt.alg, func(t *testing.T) {
			s := newSigner(t, active(tt.key))
			c := aliceClaims()
			now := time.Now()
			at, err := s.Issue(context.Background(), c, now)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			p, code := principalOf(t, s, at.Token)
			if code != http.StatusOK {
				t.Fatalf("validate: status = %d, want 200", code)
			}
			if p.Subject != "alice" || p.Issuer != issIssuer || p.ClientID != "notes-web" || p.TokenID != at.ID ||
				!slices.Equal(p.Audience, c.Audience) || !slices.Equal(p.Scopes, c.Scopes) ||
				!slices.Equal(p.Roles, c.Roles) || !slices.Equal(p.AMR, c.AMR) || !p.AuthTime.Equal(c.AuthTime) {
				t.Errorf("principal = %+v, want the claims %+v", p, c)
			}
			if got := p.Expiry.Sub(p.IssuedAt); got != 10*time.Minute {
				t.Errorf("exp - iat = %v, want the default 10m (ASVS5 7.3.2)", got)
			}
			if !at.Expiry.Equal(p.Expiry) || !at.IssuedAt.Equal(p.IssuedAt) {
				t.Errorf("AccessToken times %v/%v, token says %v/%v", at.IssuedAt, at.Expiry, p.IssuedAt, p.Expiry)
			}
			h := segment(t, at.Token, 0)
			want := map[string]any{"alg": tt.alg, "typ": "at+jwt", "kid": thumbprint(t, tt.key.Public())}
			if len(h) != len(want) {
				t.Errorf("header = %v, want exactly %v", h, want)
			}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("header %s = %v, want %v (RFC 9068 §2.1, RFC 7638)", k, h[k], v)
				}
			}
			if s.KeyID() != want["kid"] {
				t.Errorf("KeyID = %q, want %q", s.KeyID(), want["kid"])
			}
			claims := segment(t, at.Token, 1)
			for _, name := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
				if _, ok := claims[name]; !ok {
					t.Errorf("claim %s missing (RFC 9068 §2.2)", name)
				}
			}
			jti, err := base64.RawURLEncoding.DecodeString(at.ID)
			if err != nil || len(jti) < 16 {
				t.Errorf("jti %q decodes to %d bytes, want ≥ 16 (ASVS5 11.5.1)", at.ID, len(jti))
			}
			at2, _ := s.Issue(context.Background(), c, now)
			if at2.ID == at.ID || at2.Token == at.Token {
				t.Error("two issues gave the same jti or token (ASVS5 7.2.4)")
			}
		})
	}
}

// Several audiences are sent as an array; one as a string.
func TestIssueAudiences(t *testing.T) {
	s := newSigner(t, active(keys().ec))
	c := aliceClaims()
	c.Audience = []string{issAudience, "api://billing"}
	at, err := s.Issue(context.Background(), c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if aud, ok := segment(t, at.Token, 1)["aud"].([]any); !ok || len(aud) != 2 {
		t.Errorf("aud = %v, want both audiences", segment(t, at.Token, 1)["aud"])
	}
	if _, code := principalOf(t, s, at.Token); code != http.StatusOK {
		t.Errorf("status = %d, want 200", code)
	}
}

// An independent implementation (golang-jwt/jwt/v5) verifies issued tokens.
func TestIssueInteropGolangJWT(t *testing.T) {
	for _, key := range []crypto.Signer{keys().ec, keys().ed} {
		s := newSigner(t, active(key))
		at, err := s.Issue(context.Background(), aliceClaims(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Parse(at.Token, func(*jwt.Token) (any, error) { return key.Public(), nil },
			jwt.WithValidMethods([]string{"ES256", "EdDSA"}), jwt.WithIssuer(issIssuer), jwt.WithAudience(issAudience),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err != nil || !tok.Valid {
			t.Errorf("golang-jwt: %v", err)
		}
	}
}

// kmsSigner is a crypto.Signer that is not one of the standard key types, like a KMS key.
type kmsSigner struct {
	key  crypto.Signer
	fail bool
}

func (k kmsSigner) Public() crypto.PublicKey { return k.key.Public() }
func (k kmsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.fail {
		return nil, errors.New("kms: unavailable")
	}
	return k.key.Sign(r, digest, opts)
}

// nilPublic is a broken crypto.Signer whose public key is a nil *ecdsa.PublicKey.
type nilPublic struct{ crypto.Signer }

func (nilPublic) Public() crypto.PublicKey { return (*ecdsa.PublicKey)(nil) }

func TestIssueWithAnyCryptoSigner(t *testing.T) {
	rsaKey := keys().rsa
	for _, tt := range []struct {
		name string
		key  auth.SigningKey
	}{
		{"ES256", active(kmsSigner{key: keys().ec})},
		{"ES384", active(kmsSigner{key: keys().ec384})},
		{"EdDSA", active(kmsSigner{key: keys().ed})},
		{"RS256", auth.SigningKey{Signer: kmsSigner{key: rsaKey}, Algorithm: "RS256", State: auth.KeyActive}},
		{"PS256", auth.SigningKey{Signer: rsaKey, Algorithm: "PS256", State: auth.KeyActive}},
	} {
		s := newSigner(t, tt.key)
		at, err := s.Issue(context.Background(), aliceClaims(), time.Now())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if _, code := principalOf(t, s, at.Token); code != http.StatusOK {
			t.Errorf("%s: status = %d, want 200", tt.name, code)
		}
	}
	s := newSigner(t, active(kmsSigner{key: keys().ec, fail: true}))
	at, err := s.Issue(context.Background(), aliceClaims(), time.Now())
	if !errors.Is(err, auth.ErrSigner) || at.Token != "" {
		t.Errorf("failing signer: %q, %v; want no token and ErrSigner", at.Token, err)
	}
}

// Issue logs authn_token_created with the jti and kid, never the token (CS-Logging,
// ASVS5 16.2.5).
func TestIssueLogs(t *testing.T) {
	logs := &logBuffer{}
	s, err := auth.NewSigner(auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(keys().ec)},
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at, _ := s.Issue(context.Background(), aliceClaims(), time.Now())
	out := logs.String()
	for _, want := range []string{`"msg":"authn_token_created"`, `"level":"INFO"`, `"jti":"` + at.ID + `"`, `"kid":"` + s.KeyID() + `"`, `"subject":"alice"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	parts := strings.Split(at.Token, ".")
	if strings.Contains(out, parts[1]) || strings.Contains(out, parts[2]) {
		t.Error("the log contains the token")
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	s := newSigner(t, active(keys().ec))
	for name, mutate := range map[string]func(*auth.AccessClaims){
		"no subject":    func(c *auth.AccessClaims) { c.Subject = "" },
		"no audience":   func(c *auth.AccessClaims) { c.Audience = nil }, // ASVS5 9.2.4
		"empty aud":     func(c *auth.AccessClaims) { c.Audience = []string{""} },
		"no client_id":  func(c *auth.AccessClaims) { c.ClientID = "" },
		"scope w/space": func(c *auth.AccessClaims) { c.Scopes = []string{"a b"} },
		"bad UTF-8":     func(c *auth.AccessClaims) { c.Roles = []string{"\xff"} }, // RFC 8725 §3.7
		"too large":     func(c *auth.AccessClaims) { c.Roles = []string{strings.Repeat("r", auth.DefaultMaxTokenSize)} },
	} {
		c := aliceClaims()
		mutate(&c)
		if _, err := s.Issue(context.Background(), c, time.Now()); !errors.Is(err, auth.ErrIssueClaims) {
			t.Errorf("%s: err = %v, want ErrIssueClaims", name, err)
		}
	}
}

func TestNewSignerRefusesBadOptions(t *testing.T) {
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, ed := keys().ec, keys().ed
	for _, tt := range []struct {
		name  string
		opts  auth.SignerOptions
		field string
	}{
		{"zero", auth.SignerOptions{}, "Issuer"},
		{"no keys", auth.SignerOptions{Issuer: issIssuer}, "Keys"},
		{"no active", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: ec, State: auth.KeyNext}}}, "KeyActive"},
		{"two active", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ec), active(ed)}}, "Keys[1]"},
		{"same key twice", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ec), {Signer: ec, State: auth.KeyNext}}}, "Keys[1]"},
		{"zero state", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: ec}}}, "State"},
		{"retired without time", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ed), {Signer: ec, State: auth.KeyRetired}}}, "Retired"},
		{"nil signer", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{State: auth.KeyActive}}}, "Signer"},
		{"typed nil ECDSA", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active((*ecdsa.PrivateKey)(nil))}}, "Signer"},
		{"typed nil RSA", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: (*rsa.PrivateKey)(nil), Algorithm: "RS256", State: auth.KeyActive}}}, "Signer"},
		{"short Ed25519", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ed25519.PrivateKey(make([]byte, 10)))}}, "Signer"},
		{"nil public key", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(kmsSigner{key: nilPublic{}})}}, "Signer"},
		{"alg mismatch", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: ec, Algorithm: "ES384", State: auth.KeyActive}}}, "Algorithm"},
		{"none", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: ed, Algorithm: "none", State: auth.KeyActive}}}, "Algorithm"},
		{"RSA without alg", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(keys().rsa)}}, "Algorithm"},
		{"weak RSA", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{{Signer: weakRSA, Algorithm: "RS256", State: auth.KeyActive}}}, "2048"},
		{"TTL too long", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ec)}, AccessTTL: 2 * time.Hour}, "AccessTTL"},
		{"TTL negative", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ec)}, AccessTTL: -time.Minute}, "AccessTTL"},
		{"max-age", auth.SignerOptions{Issuer: issIssuer, Keys: []auth.SigningKey{active(ec)}, JWKSMaxAge: time.Second}, "JWKSMaxAge"},
	} {
		s, err := auth.NewSigner(tt.opts)
		if err == nil || s != nil {
			t.Errorf("%s: NewSigner = %v, %v; want an error", tt.name, s, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: error %q does not name %s", tt.name, err, tt.field)
		}
	}
}

// fetchJWKS serves the handler once and returns the response and its key ids.
func fetchJWKS(t *testing.T, h http.Handler) (*httptest.ResponseRecorder, []string) {
	t.Helper()
	w := serve(h, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatalf("JWKS %q: %v", w.Body.String(), err)
	}
	var kids []string
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS publishes private member %q", private)
			}
		}
		if k["use"] != "sig" || k["alg"] == nil {
			t.Errorf("JWK %v lacks use=sig or alg", k)
		}
		kids = append(kids, k["kid"].(string))
	}
	return w, kids
}

func TestJWKSHandler(t *testing.T) {
	s := newSigner(t, active(keys().ec), auth.SigningKey{Signer: keys().ed, State: auth.KeyNext})
	w, kids := fetchJWKS(t, s.JWKSHandler())
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=900" ||
		w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Errorf("JWKS response %d, Cache-Control %q, Content-Type %q", w.Code, w.Header().Get("Cache-Control"), w.Header().Get("Content-Type"))
	}
	if want := []string{thumbprint(t, keys().ec.Public()), thumbprint(t, keys().ed.Public())}; !slices.Equal(kids, want) {
		t.Errorf("kids = %q, want %q (next keys are published)", kids, want)
	}
	for _, m := range []string{"POST", "DELETE"} {
		if w := serve(s.JWKSHandler(), httptest.NewRequest(m, "/", nil)); w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status = %d, want 405", m, w.Code)
		}
	}
	if w := serve(s.JWKSHandler(), httptest.NewRequest("HEAD", "/", nil)); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
}

// A validator fed by the JWKS endpoint over HTTP accepts the signer's tokens.
func TestIssueValidateThroughJWKS(t *testing.T) {
	s := newSigner(t, active(keys().ed), auth.SigningKey{Signer: keys().ec, State: auth.KeyNext})
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()
	h := newHandler(t, auth.Options{
		Issuers: []auth.Issuer{{Issuer: issIssuer, Audience: issAudience, JWKSURL: srv.URL, Algorithms: []string{"ES256", "EdDSA"}}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	at, err := s.Issue(context.Background(), aliceClaims(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := serve(h, bearerRequest(at.Token)); w.Code != http.StatusOK {
		t.Errorf("status = %d, want 200", w.Code)
	}
}

// Rotation: K2 published as next, then active with K1 retired; K1's tokens stay valid
// until they expire, and K1 leaves the JWKS once the longest of them has.
func TestKeyRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2 := keys().ec, keys().ed
		ctx := context.Background()

		stage1 := newSigner(t, active(k1), auth.SigningKey{Signer: k2, State: auth.KeyNext})
		old, err := stage1.Issue(ctx, aliceClaims(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if kid := segment(t, old.Token, 0)["kid"]; kid != thumbprint(t, k1.Public()) {
			t.Fatalf("stage 1 signs with %v, want K1: next keys never sign", kid)
		}

		time.Sleep(time.Minute) // fake time: the deploy of stage 2
		stage2 := newSigner(t, active(k2), auth.SigningKey{Signer: k1, State: auth.KeyRetired, Retired: time.Now()})
		fresh, err := stage2.Issue(ctx, aliceClaims(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if kid := segment(t, fresh.Token, 0)["kid"]; kid != thumbprint(t, k2.Public()) {
			t.Fatalf("stage 2 signs with %v, want K2", kid)
		}
		for name, tok := range map[string]string{"K1 token": old.Token, "K2 token": fresh.Token} {
			if _, code := principalOf(t, stage2, tok); code != http.StatusOK {
				t.Errorf("%s after rotation: status = %d, want 200", name, code)
			}
		}
		if _, kids := fetchJWKS(t, stage2.JWKSHandler()); len(kids) != 2 {
			t.Errorf("right after rotation the JWKS has %d keys, want both", len(kids))
		}
		// K1's last token expires 10 minutes after retirement; one more minute of leeway.
		time.Sleep(10*time.Minute + 59*time.Second)
		if _, kids := fetchJWKS(t, stage2.JWKSHandler()); len(kids) != 2 {
			t.Errorf("before K1's tokens all expired, the JWKS has %d keys, want 2", len(kids))
		}
		time.Sleep(time.Second)
		if _, kids := fetchJWKS(t, stage2.JWKSHandler()); !slices.Equal(kids, []string{thumbprint(t, k2.Public())}) {
			t.Errorf("after K1's tokens expired, kids = %q, want only K2", kids)
		}
	})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, _ := x509.MarshalECPrivateKey(keys().ec)
	good := map[string][]byte{
		"PKCS8 EC":      pkcs8(keys().ec),
		"PKCS8 Ed25519": pkcs8(keys().ed),
		"SEC1 EC":       pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"PKCS1 RSA":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys().rsa)}),
	}
	for name, data := range good {
		if k, err := auth.ParsePrivateKeyPEM(data); err != nil || k == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&keys().ec.PublicKey)
	bad := map[string][]byte{
		"empty":      nil,
		"garbage":    []byte("not a key"),
		"public key": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
		"two blocks": append(good["SEC1 EC"], good["PKCS8 EC"]...),
		"corrupt":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("0123456789")}),
		"encrypted":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: sec1}),
	}
	for name, data := range bad {
		_, err := auth.ParsePrivateKeyPEM(data)
		if !errors.Is(err, auth.ErrKeyFile) {
			t.Errorf("%s: err = %v, want ErrKeyFile", name, err)
			continue
		}
		if len(data) > 40 && strings.Contains(err.Error(), string(data[30:40])) {
			t.Errorf("%s: the error quotes the key material", name)
		}
	}
}

func TestDevelopmentKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev-signing-key.pem")
	k1, err := auth.DevelopmentKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := auth.DevelopmentKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Public().(*ecdsa.PublicKey).Equal(k2.Public()) {
		t.Error("second call generated a new key instead of loading the stored one")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.DevelopmentKey(path); !errors.Is(err, auth.ErrKeyFile) {
		t.Errorf("world-readable key file: err = %v, want ErrKeyFile", err)
	}
	s := newSigner(t, active(k1))
	if _, err := s.Issue(context.Background(), aliceClaims(), time.Now()); err != nil {
		t.Error(err)
	}
}
