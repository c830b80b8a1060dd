// Package authtest lets you test routes protected by [auth.New] as bulwark tests its own:
// a token issuer on [httptest] that publishes a JWKS and rotates its keys, and a minter of
// valid access tokens and of deliberately broken ones (expired, wrong audience, alg none,
// forged signature, unknown key, ...), each of which auth.New must refuse.
//
//	idp := authtest.NewServer(t, authtest.Options{})
//	mw, err := auth.New(auth.Options{Issuers: []auth.Issuer{idp.Issuer()}, HTTPClient: idp.Client()})
//	...
//	r.Header.Set("Authorization", "Bearer "+idp.Token(t, func(c *auth.AccessClaims) { c.Scopes = []string{"notes:write"} }))
//
// It is for tests only: keys are generated per server and never stored.
package authtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// DefaultAudience is the audience of tokens when Options.Audience is empty.
const DefaultAudience = "api://test"

// Options configures [NewServer]. The zero value issues ES256 tokens for DefaultAudience.
type Options struct {
	// Audience is the "aud" of the tokens, and the Audience of [Server.Issuer]. If empty,
	// DefaultAudience.
	Audience string
	// Algorithm is "ES256" or "EdDSA". If empty, "ES256".
	Algorithm string
	// AccessTTL is the lifetime of the tokens. If zero, 10 minutes.
	AccessTTL time.Duration
}

// Server is a token issuer for tests: its JWKS is served at URL + "/jwks.json" by an
// httptest.Server (plain HTTP on loopback, which auth.New accepts for development), and it
// is closed when the test ends. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the test server, and the "iss" of its tokens.
	URL string

	audience string
	alg      string
	ttl      time.Duration
	srv      *httptest.Server

	mu      sync.Mutex
	signer  *auth.Signer
	keys    []crypto.Signer // oldest first; the last is active
	retired []time.Time     // when each key but the last was retired
	next    crypto.Signer   // published, not signing yet; nil if none
	fetches int
}

// NewServer starts a Server and registers its Close with tb.Cleanup. It fails tb on
// invalid options.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{audience: opts.Audience, alg: opts.Algorithm, ttl: opts.AccessTTL}
	if s.audience == "" {
		s.audience = DefaultAudience
	}
	if s.alg == "" {
		s.alg = "ES256"
	}
	if s.alg != "ES256" && s.alg != "EdDSA" {
		tb.Fatalf("authtest: Options.Algorithm %q must be ES256 or EdDSA", s.alg)
	}
	if s.ttl == 0 {
		s.ttl = 10 * time.Minute
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.fetches++
		h := s.signer.JWKSHandler()
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = []crypto.Signer{s.newKey(tb)}
	s.rebuild(tb)
	return s
}

func (s *Server) newKey(tb testing.TB) crypto.Signer {
	tb.Helper()
	if s.alg == "EdDSA" {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatalf("authtest: %v", err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	return k
}

// rebuild makes the signer for the current keys. Called with s.mu held.
func (s *Server) rebuild(tb testing.TB) {
	tb.Helper()
	keys := make([]auth.SigningKey, len(s.keys))
	for i, k := range s.keys {
		keys[i] = auth.SigningKey{Signer: k, State: auth.KeyActive}
		if i < len(s.keys)-1 {
			keys[i] = auth.SigningKey{Signer: k, State: auth.KeyRetired, Retired: s.retired[i]}
		}
	}
	if s.next != nil {
		keys = append(keys, auth.SigningKey{Signer: s.next, State: auth.KeyNext})
	}
	signer, err := auth.NewSigner(auth.SignerOptions{Issuer: s.URL, Keys: keys, AccessTTL: s.ttl, JWKSMaxAge: time.Minute,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	s.signer = signer
}

// PublishNext adds a new key to the JWKS without signing with it (auth.KeyNext), as an
// operator does before a rotation, so that validators cache it in advance.
func (s *Server) PublishNext(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == nil {
		s.next = s.newKey(tb)
		s.rebuild(tb)
	}
}

// Rotate makes the next key (see PublishNext), or a new one if none was published, the
// signing key. The old one is retired: it stays in the JWKS, and its tokens stay valid,
// until they have expired. A validator that cached the key set before a rotation without
// PublishNext sees an unknown "kid" and refetches, at most once per its KeyRefresh.
func (s *Server) Rotate(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.next
	if next == nil {
		next = s.newKey(tb)
	}
	s.next = nil
	s.retired = append(s.retired, time.Now())
	s.keys = append(s.keys, next)
	s.rebuild(tb)
}

// JWKSURL returns the URL of the key set.
func (s *Server) JWKSURL() string { return s.URL + "/jwks.json" }

// JWKSFetches returns how often the key set was fetched, to test caching.
func (s *Server) JWKSFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Client returns an HTTP client for the server, for auth.Options.HTTPClient.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Issuer returns the [auth.Issuer] that trusts this server: its URL as "iss", the audience,
// its JWKS URL and algorithm.
func (s *Server) Issuer() auth.Issuer {
	return auth.Issuer{Issuer: s.URL, Audience: s.audience, JWKSURL: s.JWKSURL(), Algorithms: []string{s.alg}}
}

// Claims returns the claims of a default token: subject "alice", the server's audience,
// client id "test-client", amr "pwd", auth_time now.
func (s *Server) Claims() auth.AccessClaims {
	return auth.AccessClaims{Subject: "alice", Audience: []string{s.audience}, ClientID: "test-client",
		AMR: []string{"pwd"}, AuthTime: time.Now()}
}

// Token returns a valid access token signed by the current key, with the default claims
// changed by each of edit, in order.
func (s *Server) Token(tb testing.TB, edit ...func(*auth.AccessClaims)) string {
	tb.Helper()
	c := s.Claims()
	for _, e := range edit {
		e(&c)
	}
	s.mu.Lock()
	signer := s.signer
	s.mu.Unlock()
	at, err := signer.Issue(context.Background(), c, time.Now())
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	return at.Token
}

// Breakage names a way a token is broken. Every one of them must be refused by auth.New
// with 401 and error="invalid_token".
type Breakage string

// The broken tokens [Server.Broken] mints. Each is otherwise valid.
const (
	Expired       Breakage = "expired"        // "exp" two minutes ago
	NotYetValid   Breakage = "not yet valid"  // "nbf" and "iat" an hour from now
	WrongAudience Breakage = "wrong audience" // "aud" of another API
	WrongIssuer   Breakage = "wrong issuer"   // "iss" with a trailing slash
	AlgNone       Breakage = "alg none"       // unsigned, "alg":"none"
	BadSignature  Breakage = "bad signature"  // the signature of another payload
	UnknownKey    Breakage = "unknown key"    // signed by a key not in the JWKS, with its own kid
	EmbeddedJWK   Breakage = "embedded jwk"   // signed by an attacker key carried in the "jwk" header
	HMACConfusion Breakage = "hmac confusion" // HS256 keyed with the public key's bytes
	UntypedJWT    Breakage = "untyped"        // "typ":"JWT" instead of "at+jwt"
	MissingClaims Breakage = "missing claims" // no "client_id" and no "jti"
	Tampered      Breakage = "tampered"       // "sub" changed after signing
)

// Breakages lists every Breakage, for table tests.
func Breakages() []Breakage {
	return []Breakage{Expired, NotYetValid, WrongAudience, WrongIssuer, AlgNone, BadSignature,
		UnknownKey, EmbeddedJWK, HMACConfusion, UntypedJWT, MissingClaims, Tampered}
}

// Broken returns a token broken in way b.
func (s *Server) Broken(tb testing.TB, b Breakage) string {
	tb.Helper()
	s.mu.Lock()
	key := s.keys[len(s.keys)-1]
	kid := s.signer.KeyID()
	s.mu.Unlock()
	now := time.Now()
	header := map[string]any{"alg": s.alg, "typ": "at+jwt", "kid": kid}
	claims := map[string]any{
		"iss": s.URL, "sub": "alice", "aud": s.audience, "client_id": "test-client", "jti": "authtest-" + string(b),
		"iat": now.Unix(), "exp": now.Add(s.ttl).Unix(),
	}
	switch b {
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-time.Hour).Unix(), now.Add(-2*time.Minute).Unix()
	case NotYetValid:
		claims["iat"], claims["nbf"] = now.Add(time.Hour).Unix(), now.Add(time.Hour).Unix()
	case WrongAudience:
		claims["aud"] = "api://someone-else"
	case WrongIssuer:
		claims["iss"] = s.URL + "/"
	case AlgNone:
		header["alg"] = "none"
		return encode(tb, header) + "." + encode(tb, claims) + "."
	case BadSignature:
		other := Mint(tb, key, header, map[string]any{"sub": "someone"})
		tok := Mint(tb, key, header, claims)
		return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
	case UnknownKey:
		attacker := s.newKey(tb)
		header["kid"] = "attacker"
		return Mint(tb, attacker, header, claims)
	case EmbeddedJWK:
		attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatalf("authtest: %v", err)
		}
		point, err := attacker.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
		if err != nil {
			tb.Fatalf("authtest: %v", err)
		}
		header["alg"] = "ES256"
		header["jwk"] = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])}
		return Mint(tb, attacker, header, claims)
	case HMACConfusion:
		pub, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			tb.Fatalf("authtest: %v", err)
		}
		header["alg"] = "HS256"
		input := encode(tb, header) + "." + encode(tb, claims)
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	case UntypedJWT:
		header["typ"] = "JWT"
	case MissingClaims:
		delete(claims, "client_id")
		delete(claims, "jti")
	case Tampered:
		tok := Mint(tb, key, header, claims)
		parts := strings.Split(tok, ".")
		claims["sub"] = "admin"
		return parts[0] + "." + encode(tb, claims) + "." + parts[2]
	default:
		tb.Fatalf("authtest: unknown Breakage %q", b)
	}
	return Mint(tb, key, header, claims)
}

// Mint signs any header and claims with key (an *ecdsa.PrivateKey on P-256 or an
// ed25519.PrivateKey), using the algorithm of the key, whatever header["alg"] says: for
// tokens no Signer would issue. Header and claims are encoded with encoding/json; a
// json.RawMessage value is embedded as it is.
func Mint(tb testing.TB, key crypto.Signer, header, claims map[string]any) string {
	tb.Helper()
	input := encode(tb, header) + "." + encode(tb, claims)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			tb.Fatalf("authtest: Mint takes P-256 keys")
		}
		h := sha256.Sum256([]byte(input))
		der, err := ecdsa.SignASN1(rand.Reader, k, h[:])
		if err != nil {
			tb.Fatalf("authtest: %v", err)
		}
		sig = rawSignature(tb, der)
	default:
		tb.Fatalf("authtest: Mint takes *ecdsa.PrivateKey or ed25519.PrivateKey, not %T", key)
	}
	return input + "." + b64(sig)
}

// rawSignature converts an ASN.1 ECDSA P-256 signature to R‖S.
func rawSignature(tb testing.TB, der []byte) []byte {
	tb.Helper()
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	out := make([]byte, 64)
	v.R.FillBytes(out[:32])
	v.S.FillBytes(out[32:])
	return out
}

func encode(tb testing.TB, v map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("authtest: %v", err)
	}
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
