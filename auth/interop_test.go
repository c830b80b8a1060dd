package auth_test

import (
	"crypto"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/golang-jwt/jwt/v5"
)

// Tokens minted by another implementation, golang-jwt/jwt/v5, are accepted for every
// asymmetric algorithm the issue names.
func TestInteropGolangJWT(t *testing.T) {
	k := keys()
	for _, tt := range []struct {
		method jwt.SigningMethod
		priv   crypto.PrivateKey
		pub    any
	}{
		{jwt.SigningMethodRS256, k.rsa, &k.rsa.PublicKey},
		{jwt.SigningMethodPS256, k.rsa, &k.rsa.PublicKey},
		{jwt.SigningMethodES256, k.ec, &k.ec.PublicKey},
		{jwt.SigningMethodES384, k.ec384, &k.ec384.PublicKey},
		{jwt.SigningMethodEdDSA, k.ed, k.ed.Public()},
		{jwt.SigningMethodHS256, k.hmac, nil},
	} {
		alg := tt.method.Alg()
		t.Run(alg, func(t *testing.T) {
			key := auth.Key{ID: "kid-" + alg, Algorithm: alg, Public: tt.pub}
			if tt.pub == nil {
				key = auth.Key{ID: "kid-" + alg, Algorithm: alg, Secret: k.hmac}
			}
			h := newHandler(t, auth.Options{
				Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience, Keys: []auth.Key{key}}},
				Logger:  slog.New(slog.DiscardHandler),
			})
			tok := jwt.NewWithClaims(tt.method, jwt.MapClaims{
				"iss": testIssuer, "sub": "alice", "aud": []string{testAudience, "other"}, "client_id": "app",
				"exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix(), "jti": "j-" + alg, "scope": "a b",
			})
			tok.Header["kid"] = "kid-" + alg
			tok.Header["typ"] = "at+jwt"
			s, err := tok.SignedString(tt.priv)
			if err != nil {
				t.Fatal(err)
			}
			if w := serve(h, bearerRequest(s)); w.Code != http.StatusOK {
				t.Errorf("status = %d, want 200", w.Code)
			}
		})
	}
}
