package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// exampleToken signs claims as an RFC 9068 access token, as an authorization server would.
func exampleToken(key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, kid)
	_ = h.Set(jws.TypeKey, "at+jwt")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		panic(err)
	}
	return string(tok)
}

func exampleClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://id.example.com", "aud": "https://api.example.com", "sub": "alice",
		"client_id": "notes-web", "jti": "4f1c", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"scope": "notes:read", "roles": []string{"editor"},
	}
}

func ExampleNew() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // in production: the issuer's public key
	authenticate, err := auth.New(auth.Options{
		Issuers: []auth.Issuer{{
			Issuer:   "https://id.example.com",
			Audience: "https://api.example.com",
			Keys:     []auth.Key{{ID: "2026-01", Algorithm: "ES256", Public: &key.PublicKey}},
		}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s, roles %v", p.Subject, p.Roles)
	}))

	for _, authz := range []string{"", "Bearer " + exampleToken(key, "2026-01", exampleClaims()), "Bearer eyJhbGciOiJub25lIn0.e30."} {
		r := httptest.NewRequest("GET", "/notes", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
	// Output:
	// 401 Bearer {"type":"about:blank","title":"Unauthorized","status":401}
	// 200  hello alice, roles [editor]
	// 401 Bearer error="invalid_token" {"type":"about:blank","title":"Unauthorized","status":401}
}

// An issuer's keys from its JWKS over HTTPS, fetched on first use and cached.
func ExampleNew_jwks() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := jwk.FromRaw(&key.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, "2026-01")
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer idp.Close()

	authenticate, err := auth.New(auth.Options{
		Issuers: []auth.Issuer{{
			Issuer:     "https://id.example.com",
			Audience:   "https://api.example.com",
			JWKSURL:    idp.URL + "/.well-known/jwks.json",
			Algorithms: []string{"ES256"},
		}},
		HTTPClient: idp.Client(), // trusts the test server's certificate; use your CA pool
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, auth.SubjectKey(r))
	}))
	r := httptest.NewRequest("GET", "/notes", nil)
	r.Header.Set("Authorization", "Bearer "+exampleToken(key, "2026-01", exampleClaims()))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 22:https://id.example.comalice
}

func ExampleRequireScopes() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	authenticate, _ := auth.New(auth.Options{
		Issuers: []auth.Issuer{{Issuer: "https://id.example.com", Audience: "https://api.example.com",
			Keys: []auth.Key{{ID: "2026-01", Algorithm: "ES256", Public: &key.PublicKey}}}},
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "done") })
	mux := http.NewServeMux()
	mux.Handle("GET /notes", auth.RequireScopes("notes:read")(ok))
	mux.Handle("DELETE /notes/{id}", auth.RequireScopes("notes:delete")(ok))
	h := authenticate(mux)

	tok := exampleToken(key, "2026-01", exampleClaims()) // scope "notes:read"
	for _, method := range []string{"GET", "DELETE"} {
		path := map[string]string{"GET": "/notes", "DELETE": "/notes/7"}[method]
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(method, " ", w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// GET 200
	// DELETE 403 Bearer error="insufficient_scope", scope="notes:delete"
}

func ExampleGenerateAPIKey() {
	store := auth.NewMemoryAPIKeyStore()
	key, rec, err := auth.GenerateAPIKey("bwk")
	if err != nil {
		fmt.Println(err)
		return
	}
	rec.Subject, rec.Scopes = "billing-job", []string{"invoices:read"}
	rec.Expires = time.Now().Add(90 * 24 * time.Hour)
	_ = store.Add(rec) // only the hash is stored; show key to its owner once

	authenticate, _ := auth.New(auth.Options{APIKeys: store, APIKeyPrefix: "bwk"})
	h := authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "%s %s client=%v", p.Method, p.Subject, p.Client)
	}))
	r := httptest.NewRequest("GET", "/invoices", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(len(key), w.Body.String())
	// Output:
	// 59 api_key billing-job client=true
}

// NewContext lets handler tests run as a principal without minting tokens.
func ExampleNewContext() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, auth.Roles(r))
	})
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), auth.Principal{Subject: "alice", Roles: []string{"admin"}}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Body.String())
	// Output:
	// [admin]
}
