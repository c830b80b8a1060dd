package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// One test per row of the JWT attack table, SECURITY-STANDARDS.md §4. Each attack must be
// refused with 401, WWW-Authenticate: Bearer error="invalid_token" and a generic body
// (wantInvalidToken), and with the reason the test names.

// Row 1: alg "none" in every spelling (RFC 8725 §2.1, §3.1–3.2; 8725bis §2.11; API2:2023).
func TestAttackRow01AlgNone(t *testing.T) {
	v := V(t)
	parts := strings.Split(v, ".")
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := encodeJSON(t, map[string]any{"alg": alg, "typ": "at+jwt"})
		for name, tok := range map[string]string{
			"empty signature":    h + "." + parts[1] + ".",
			"original signature": h + "." + parts[1] + "." + parts[2],
		} {
			t.Run(alg+"/"+name, func(t *testing.T) {
				err := refusedWith(t, baseOptions(), tok)
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("error = %v, want ErrInvalidToken", err)
				}
			})
		}
	}
}

// Row 2: HS256 signed with the issuer's public key as the HMAC secret (CVE-2015-9235).
func TestAttackRow02KeyConfusion(t *testing.T) {
	k := keys()
	rsaDER, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	ecDER, _ := x509.MarshalPKIXPublicKey(&k.ec.PublicKey)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})
	jwkJSON, _ := json.Marshal(map[string]string{"kty": "RSA", "kid": "rsa1",
		"n": b64(k.rsa.N.Bytes()), "e": "AQAB"})
	secrets := map[string][]byte{
		"rsa PEM":            rsaPEM,
		"rsa PEM no newline": []byte(strings.TrimSuffix(string(rsaPEM), "\n")),
		"rsa DER":            rsaDER,
		"rsa JWK":            jwkJSON,
		"rsa modulus":        k.rsa.N.Bytes(),
		"ec PEM":             ecPEM,
		"ec DER":             ecDER,
	}
	for name, secret := range secrets {
		for _, kid := range []string{"rsa1", "ec1", ""} {
			t.Run(name+"/kid="+kid, func(t *testing.T) {
				tok := mint(t, "HS256", secret, hdr("HS256", kid), validClaims())
				err := refusedWith(t, baseOptions(), tok)
				if !errors.Is(err, auth.ErrAlgorithm) && !errors.Is(err, auth.ErrUnknownKey) {
					t.Errorf("error = %v, want ErrAlgorithm or ErrUnknownKey", err)
				}
			})
		}
	}
	// And the configuration cannot express it: an HMAC algorithm refuses a public key.
	_, err := auth.New(auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience,
		Keys: []auth.Key{{ID: "k", Algorithm: "HS256", Public: &k.rsa.PublicKey}}}}})
	if !errors.Is(err, auth.ErrAlgorithm) {
		t.Errorf("New with HS256 and an RSA public key: error = %v, want ErrAlgorithm", err)
	}
}

// Row 3: algorithm substitution. (a) another algorithm of an allowed family, with an attacker
// key or with the issuer's own key; (b) header alg HS256 over a real RS256 signature, which
// plain jwx WithKey(RS256, key) would accept because it ignores the header's alg.
func TestAttackRow03AlgSubstitution(t *testing.T) {
	k := keys()
	for name, tok := range map[string]string{
		"a/RS384 attacker key":  mint(t, "RS384", k.attacker, hdr("RS384", "rsa1"), validClaims()),
		"a/PS256 attacker key":  mint(t, "PS256", k.attacker, hdr("PS256", "rsa1"), validClaims()),
		"a/RS384 issuer key":    mint(t, "RS384", k.rsa, hdr("RS384", "rsa1"), validClaims()),
		"a/PS256 issuer key":    mint(t, "PS256", k.rsa, hdr("PS256", "rsa1"), validClaims()),
		"a/ES384 on ES256 key":  mint(t, "ES384", k.ec384, hdr("ES384", "ec1"), validClaims()),
		"a/ES256 on RSA kid":    mint(t, "ES256", k.ec, hdr("ES256", "rsa1"), validClaims()),
		"b/HS256 header, RS256": mint(t, "RS256", k.rsa, hdr("HS256", "rsa1"), validClaims()),
		"b/rs256 lower case":    mint(t, "RS256", k.rsa, hdr("rs256", "rsa1"), validClaims()),
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedWith(t, baseOptions(), tok)
			if !errors.Is(err, auth.ErrAlgorithm) {
				t.Errorf("error = %v, want ErrAlgorithm", err)
			}
		})
	}
}

// Row 4: a key embedded in the header (jwk, CVE-2018-0114; x5c) is never used.
func TestAttackRow04EmbeddedKey(t *testing.T) {
	k := keys()
	h := hdr("RS256", "rsa1")
	h["jwk"] = map[string]string{"kty": "RSA", "kid": "rsa1", "n": b64(k.attacker.N.Bytes()), "e": "AQAB"}
	withJWK := mint(t, "RS256", k.attacker, h, validClaims())

	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.attacker.PublicKey, k.attacker)
	if err != nil {
		t.Fatal(err)
	}
	h = hdr("RS256", "rsa1")
	h["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	withX5C := mint(t, "RS256", k.attacker, h, validClaims())

	for name, tok := range map[string]string{"jwk": withJWK, "x5c": withX5C} {
		t.Run(name, func(t *testing.T) {
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrSignature) {
				t.Errorf("error = %v, want ErrSignature (the pinned key was used)", err)
			}
		})
	}
}

// attackServer counts every request made to it: jku/x5u must never be fetched.
func attackServer(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Row 5: jku pointing at an attacker JWKS (SSRF, RFC 8725 §3.10, API7). Refused, and the
// attacker's server sees no request. The JWKS-configured variant (jku on the trusted host,
// another path) is TestJWKSIgnoresJKUAndX5U.
func TestAttackRow05JKU(t *testing.T) {
	k := keys()
	jwks := `{"keys":[{"kty":"RSA","kid":"evil","alg":"RS256","n":"` + b64(k.attacker.N.Bytes()) + `","e":"AQAB"}]}`
	srv, hits := attackServer(t, jwks)
	for name, jku := range map[string]string{
		"attacker server": srv.URL + "/jwks",
		"loopback":        "http://127.0.0.1:1/jwks",
		"localhost":       "http://localhost/.well-known/jwks.json",
	} {
		for _, kid := range []string{"evil", "rsa1"} {
			t.Run(name+"/kid="+kid, func(t *testing.T) {
				h := hdr("RS256", kid)
				h["jku"] = jku
				tok := mint(t, "RS256", k.attacker, h, validClaims())
				err := refusedWith(t, baseOptions(), tok)
				if !errors.Is(err, auth.ErrUnknownKey) && !errors.Is(err, auth.ErrSignature) {
					t.Errorf("error = %v, want ErrUnknownKey or ErrSignature", err)
				}
			})
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("attacker server got %d requests, want 0", n)
	}
}

// Row 6: x5u pointing at an attacker certificate chain: refused, never fetched.
func TestAttackRow06X5U(t *testing.T) {
	k := keys()
	srv, hits := attackServer(t, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	h := hdr("RS256", "rsa1")
	h["x5u"] = srv.URL + "/chain.pem"
	tok := mint(t, "RS256", k.attacker, h, validClaims())
	if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrSignature) {
		t.Errorf("error = %v, want ErrSignature", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("attacker server got %d requests, want 0", n)
	}
}

// Row 7: kid injection. A kid is only ever a map key: no file, SQL or LDAP lookup; unknown
// and missing kids are refused.
func TestAttackRow07KidInjection(t *testing.T) {
	k := keys()
	for name, kid := range map[string]string{
		"path traversal": "../../../../dev/null",
		"sql":            "' OR '1'='1",
		"ldap":           "*)(uid=*",
		"nul":            "rsa1\u0000",
		"unknown":        "rsa9",
		"2 KiB":          strings.Repeat("k", 2048),
	} {
		t.Run(name, func(t *testing.T) {
			tok := mint(t, "RS256", k.attacker, hdr("RS256", kid), validClaims())
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrUnknownKey) {
				t.Errorf("error = %v, want ErrUnknownKey", err)
			}
		})
	}
	t.Run("absent with two keys", func(t *testing.T) {
		tok := mint(t, "RS256", k.rsa, hdr("RS256", ""), validClaims())
		if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrUnknownKey) {
			t.Errorf("error = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("10 KiB kid", func(t *testing.T) {
		tok := mint(t, "RS256", k.attacker, hdr("RS256", strings.Repeat("k", 10<<10)), validClaims())
		if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrTooLarge) {
			t.Errorf("error = %v, want ErrTooLarge", err)
		}
	})
	for name, secret := range map[string][]byte{"empty": {}, "dev/null": nil} {
		t.Run("HS256 key "+name, func(t *testing.T) {
			tok := mint(t, "HS256", secret, hdr("HS256", "../../dev/null"), validClaims())
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrUnknownKey) {
				t.Errorf("error = %v, want ErrUnknownKey", err)
			}
		})
	}
}

// Row 8: crit (RFC 7515 §4.1.11): this package understands no extension, so every crit is
// refused, even on a token the issuer really signed.
func TestAttackRow08Crit(t *testing.T) {
	k := keys()
	for name, extra := range map[string]map[string]any{
		"unknown extension": {"crit": []string{"x-unknown"}, "x-unknown": 1},
		"empty list":        {"crit": []string{}},
		"registered name":   {"crit": []string{"exp"}},
		"absent header":     {"crit": []string{"x-absent"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := hdr("RS256", "rsa1")
			for k, v := range extra {
				h[k] = v
			}
			tok := mint(t, "RS256", k.rsa, h, validClaims())
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrUnsupported) {
				t.Errorf("error = %v, want ErrUnsupported", err)
			}
		})
	}
}

// Row 9: psychic signatures, ECDSA r = s = 0 (CVE-2022-21449), and other malformed ECDSA
// signatures, on the issuer's ES256 kid.
func TestAttackRow09PsychicSignature(t *testing.T) {
	k := keys()
	input := encodeJSON(t, hdr("ES256", "ec1")) + "." + encodeJSON(t, validClaims())
	n := elliptic.P256().Params().N
	good := signRaw(t, "ES256", k.ec, []byte(input))
	r, s := new(big.Int).SetBytes(good[:32]), new(big.Int).SetBytes(good[32:])
	der, _ := ecdsaDER(r, s)
	for name, sig := range map[string][]byte{
		"r=s=0":       make([]byte, 64),
		"r=s=n":       ecRaw(elliptic.P256(), n, n),
		"r=0 s=valid": ecRaw(elliptic.P256(), big.NewInt(0), s),
		"63 bytes":    good[:63],
		"65 bytes":    append(append([]byte{}, good...), 0),
		"DER":         der,
	} {
		t.Run(name, func(t *testing.T) {
			tok := input + "." + b64(sig)
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrSignature) {
				t.Errorf("error = %v, want ErrSignature", err)
			}
		})
	}
	if len(b64(make([]byte, 64))) != 86 {
		t.Fatal("the zero signature is not the 86 characters the table names")
	}
}

func ecdsaDER(r, s *big.Int) ([]byte, error) {
	return asn1Marshal(struct{ R, S *big.Int }{r, s})
}

// Row 10: oversized tokens are refused before any decoding, and hostile JSON inside the cap
// costs bounded work.
func TestAttackRow10Oversized(t *testing.T) {
	k := keys()
	t.Run("1 MiB token", func(t *testing.T) {
		tok := strings.Repeat("a", 1<<20)
		if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrTooLarge) {
			t.Errorf("error = %v, want ErrTooLarge", err)
		}
	})
	t.Run("100k-element claim", func(t *testing.T) {
		c := validClaims()
		c["big"] = make([]int, 100_000)
		tok := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), c)
		if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrTooLarge) {
			t.Errorf("error = %v, want ErrTooLarge", err)
		}
	})
	t.Run("10k-deep nesting within a raised cap", func(t *testing.T) {
		opts := baseOptions()
		opts.MaxTokenSize = 64 << 10
		claims := `{"iss":"` + testIssuer + `","deep":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
		tok := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), claims)
		if err := refusedWith(t, opts, tok); !errors.Is(err, auth.ErrMalformed) {
			t.Errorf("error = %v, want ErrMalformed", err)
		}
	})
	t.Run("header over MaxHeaderBytes is 431 from net/http", func(t *testing.T) {
		srv := httptest.NewServer(newHandler(t, baseOptions()))
		defer srv.Close()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1<<20+4096))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status = %d, want 431", resp.StatusCode)
		}
	})
}

// Row 11: JWE and nested JWTs: compact JWS only, nothing decrypted.
func TestAttackRow11JWEAndNested(t *testing.T) {
	k := keys()
	jweHeader := encodeJSON(t, map[string]any{"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa1"})
	inner := mint(t, "HS256", []byte(strings.Repeat("x", 32)), hdr("HS256", ""), validClaims())
	nestedHeader := hdr("RS256", "rsa1")
	nestedHeader["cty"] = "JWT"
	for name, tok := range map[string]string{
		"JWE compact":    jweHeader + ".ZW5j.aXY.Y2lwaGVy.dGFn",
		"five garbage":   "a.b.c.d.e",
		"enc in 3 parts": mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "enc": "A256GCM", "kid": "rsa1", "typ": "at+jwt"}, validClaims()),
		"cty JWT":        mint(t, "RS256", k.rsa, nestedHeader, b64Quoted(inner)),
		"zip":            mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "zip": "DEF", "kid": "rsa1", "typ": "at+jwt"}, validClaims()),
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedWith(t, baseOptions(), tok)
			if !errors.Is(err, auth.ErrMalformed) && !errors.Is(err, auth.ErrUnsupported) {
				t.Errorf("error = %v, want ErrMalformed or ErrUnsupported", err)
			}
		})
	}
}

// b64Quoted wraps a nested JWT as the payload of the outer one: not a claims object.
func b64Quoted(s string) string { return s }

// Row 12: typ confusion: only at+jwt (RFC 9068 §4) unless AllowUntypedTokens, and never
// another explicit type; a real ID token is refused.
func TestAttackRow12TypConfusion(t *testing.T) {
	k := keys()
	for _, typ := range []any{nil, "JWT", "jwt", "id_token+jwt", "logout+jwt", "secevent+jwt", "application/jwt", ""} {
		t.Run("typ="+typString(typ), func(t *testing.T) {
			h := map[string]any{"alg": "RS256", "kid": "rsa1"}
			if typ != nil {
				h["typ"] = typ
			}
			tok := mint(t, "RS256", k.rsa, h, validClaims())
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, auth.ErrTokenType) {
				t.Errorf("error = %v, want ErrTokenType", err)
			}
		})
	}
	t.Run("ID token", func(t *testing.T) {
		c := validClaims()
		c["aud"], c["nonce"], c["azp"] = "app", "n-0S6_WzA2Mj", "app"
		tok := mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "kid": "rsa1", "typ": "JWT"}, c)
		opts := baseOptions()
		opts.Issuers[0].AllowUntypedTokens = true // even then: aud is the client, not this API
		if err := refusedWith(t, opts, tok); !errors.Is(err, auth.ErrAudience) {
			t.Errorf("error = %v, want ErrAudience", err)
		}
	})
	t.Run("explicit types stay refused with AllowUntypedTokens", func(t *testing.T) {
		opts := baseOptions()
		opts.Issuers[0].AllowUntypedTokens = true
		tok := mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "kid": "rsa1", "typ": "logout+jwt"}, validClaims())
		if err := refusedWith(t, opts, tok); !errors.Is(err, auth.ErrTokenType) {
			t.Errorf("error = %v, want ErrTokenType", err)
		}
	})
	for _, typ := range []string{"at+jwt", "application/at+jwt", "AT+JWT"} {
		t.Run("accepted "+typ, func(t *testing.T) {
			tok := mint(t, "RS256", k.rsa, map[string]any{"alg": "RS256", "kid": "rsa1", "typ": typ}, validClaims())
			if w := serve(newHandler(t, baseOptions()), bearerRequest(tok)); w.Code != http.StatusOK {
				t.Errorf("status = %d, want 200", w.Code)
			}
		})
	}
}

func typString(v any) string {
	if v == nil {
		return "absent"
	}
	return strings.ReplaceAll(v.(string), "/", "_")
}

// Row 13: time claims (RFC 7519 §4.1.4–4.1.6) with the default 30 s leeway.
func TestAttackRow13TimeClaims(t *testing.T) {
	k := keys()
	now := time.Now().Unix()
	for name, c := range map[string]struct {
		set  map[string]any
		del  string
		want error
	}{
		"expired past leeway": {set: map[string]any{"exp": now - 31}, want: auth.ErrExpired},
		"exp missing":         {del: "exp", want: auth.ErrClaims},
		"exp as string":       {set: map[string]any{"exp": "9999999999"}, want: auth.ErrClaims},
		"exp null":            {set: map[string]any{"exp": nil}, want: auth.ErrClaims},
		"nbf in the future":   {set: map[string]any{"nbf": now + 90}, want: auth.ErrNotYetValid},
		"iat in the future":   {set: map[string]any{"iat": now + 3600}, want: auth.ErrNotYetValid},
	} {
		t.Run(name, func(t *testing.T) {
			claims := validClaims()
			for k, v := range c.set {
				claims[k] = v
			}
			delete(claims, c.del)
			tok := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), claims)
			if err := refusedWith(t, baseOptions(), tok); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
}

// Row 14: audience and issuer substitution: exact string matches, per-issuer keys.
func TestAttackRow14AudienceIssuer(t *testing.T) {
	k := keys()
	for name, c := range map[string]struct {
		set  map[string]any
		del  string
		want error
	}{
		"aud absent":         {del: "aud", want: auth.ErrAudience},
		"aud other":          {set: map[string]any{"aud": "api://other"}, want: auth.ErrAudience},
		"aud other in array": {set: map[string]any{"aud": []string{"api://other"}}, want: auth.ErrAudience},
		"aud case":           {set: map[string]any{"aud": "API://TEST"}, want: auth.ErrAudience},
		"aud number":         {set: map[string]any{"aud": 1}, want: auth.ErrClaims},
		"iss trailing slash": {set: map[string]any{"iss": testIssuer + "/"}, want: auth.ErrIssuer},
		"iss absent":         {del: "iss", want: auth.ErrIssuer},
		"iss second issuer":  {set: map[string]any{"iss": "https://second.test"}, want: auth.ErrUnknownKey},
	} {
		t.Run(name, func(t *testing.T) {
			claims := validClaims()
			for k, v := range c.set {
				claims[k] = v
			}
			delete(claims, c.del)
			opts := baseOptions()
			opts.Issuers = append(opts.Issuers, auth.Issuer{Issuer: "https://second.test", Audience: testAudience,
				Keys: []auth.Key{{ID: "second", Algorithm: "RS256", Public: &k.rsa2.PublicKey}}})
			tok := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), claims)
			if err := refusedWith(t, opts, tok); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
}

// Row 15: signature stripping and tampering; non-canonical base64.
func TestAttackRow15Tampering(t *testing.T) {
	v := V(t)
	parts := strings.Split(v, ".")
	c := validClaims()
	c["sub"] = "admin"
	forged := encodeJSON(t, c)
	std := strings.NewReplacer("-", "+", "_", "/").Replace(parts[2])
	if std == parts[2] {
		std = parts[2][:len(parts[2])-1] + "+" // make sure the standard alphabet shows
	}
	lastFlip := parts[2][:len(parts[2])-1] + string(flipLowBits(parts[2][len(parts[2])-1]))
	for name, tok := range map[string]string{
		"payload changed":     parts[0] + "." + forged + "." + parts[2],
		"signature removed":   parts[0] + "." + parts[1] + ".",
		"signature truncated": parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1],
		"padding":             parts[0] + "." + parts[1] + "." + parts[2] + "==",
		"standard alphabet":   parts[0] + "." + parts[1] + "." + std,
		"non-canonical tail":  parts[0] + "." + parts[1] + "." + lastFlip,
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedWith(t, baseOptions(), tok)
			if !errors.Is(err, auth.ErrSignature) && !errors.Is(err, auth.ErrMalformed) {
				t.Errorf("error = %v, want ErrSignature or ErrMalformed", err)
			}
		})
	}
}

// flipLowBits changes the unused low bits of a final base64url character (256-byte RSA
// signatures leave 4 of them), giving another encoding of the same bytes.
func flipLowBits(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

// Row 16: format confusion: only [A-Za-z0-9_-]+.[A-Za-z0-9_-]+.[A-Za-z0-9_-]+.
func TestAttackRow16FormatConfusion(t *testing.T) {
	v := V(t)
	p := strings.Split(v, ".")
	general := `{"payload":"` + p[1] + `","signatures":[{"protected":"` + p[0] + `","signature":"` + p[2] + `"}]}`
	flattened := `{"payload":"` + p[1] + `","protected":"` + p[0] + `","signature":"` + p[2] + `"}`
	for name, tok := range map[string]string{
		"JSON serialization": general,
		"flattened JSON":     flattened,
		"embedded space":     p[0] + ". " + p[1] + "." + p[2],
		"embedded newline":   p[0] + ".\n" + p[1] + "." + p[2],
		"trailing space":     v + " ",
		"two tokens":         v + "," + v,
		"two tokens spaced":  v + " " + v,
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedWith(t, baseOptions(), tok)
			if !errors.Is(err, auth.ErrMalformed) {
				t.Errorf("error = %v, want ErrMalformed", err)
			}
		})
	}
}

// Row 17: token transport abuse (RFC 6750 §2, RFC 9700 §4.3.2, ASVS5 14.2.1).
func TestAttackRow17Transport(t *testing.T) {
	v := V(t)
	h := newHandler(t, baseOptions())
	for _, tt := range []struct {
		name      string
		req       func() *http.Request
		want      int
		challenge string
	}{
		{"query only", func() *http.Request {
			return httptest.NewRequest("GET", "/x?access_token="+v, nil)
		}, 400, `Bearer error="invalid_request"`},
		{"header and query", func() *http.Request {
			r := httptest.NewRequest("GET", "/x?access_token="+v, nil)
			r.Header.Set("Authorization", "Bearer "+v)
			return r
		}, 400, `Bearer error="invalid_request"`},
		{"two Authorization headers", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header.Add("Authorization", "Bearer "+v)
			r.Header.Add("Authorization", "Bearer "+v)
			return r
		}, 400, `Bearer error="invalid_request"`},
		{"Basic only", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.SetBasicAuth("alice", "secret")
			return r
		}, 401, "Bearer"},
		{"Bearer without token", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header.Set("Authorization", "Bearer")
			return r
		}, 400, `Bearer error="invalid_request"`},
		{"lower-case scheme accepted", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header.Set("Authorization", "bearer "+v)
			return r
		}, 200, ""},
		{"several spaces accepted", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header.Set("Authorization", "BEARER   "+v)
			return r
		}, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.req())
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}
}

// memoryRevocation revokes by (iss, jti), as CS-JSON_Web_Token advises: not by token hash,
// which a malleated signature would change.
type memoryRevocation struct {
	mu      sync.Mutex
	revoked map[[2]string]bool
	err     error
	calls   atomic.Int64
}

func (m *memoryRevocation) Revoked(_ context.Context, p auth.Principal) (bool, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.revoked[[2]string{p.Issuer, p.TokenID}], m.err
}

// Row 18: a revoked token replayed, also with a malleated ECDSA signature (r, n−s), which
// verifies too.
func TestAttackRow18RevokedReplay(t *testing.T) {
	k := keys()
	store := &memoryRevocation{revoked: map[[2]string]bool{{testIssuer, "jti-1"}: true}}
	opts := baseOptions()
	opts.Revocation = store
	tok := mint(t, "ES256", k.ec, hdr("ES256", "ec1"), validClaims())
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	s := new(big.Int).SetBytes(sig[32:])
	malleated := ecRaw(elliptic.P256(), new(big.Int).SetBytes(sig[:32]), new(big.Int).Sub(elliptic.P256().Params().N, s))
	other := parts[0] + "." + parts[1] + "." + b64(malleated)
	if !ecdsa.Verify(&k.ec.PublicKey, sha256Sum(parts[0]+"."+parts[1]), new(big.Int).SetBytes(malleated[:32]), new(big.Int).SetBytes(malleated[32:])) {
		t.Fatal("the malleated signature does not verify; the test would prove nothing")
	}
	for name, tok := range map[string]string{"replay": tok, "malleated signature": other} {
		t.Run(name, func(t *testing.T) {
			if err := refusedWith(t, opts, tok); !errors.Is(err, auth.ErrRevoked) {
				t.Errorf("error = %v, want ErrRevoked", err)
			}
		})
	}
	t.Run("store down fails closed", func(t *testing.T) {
		opts := baseOptions()
		opts.Revocation = &memoryRevocation{err: errors.New("redis: connection refused")}
		w := serve(newHandler(t, opts), bearerRequest(V(t)))
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 503", w.Code)
		}
	})
}

// Row 19: weak HMAC secrets are a configuration error, never a runtime state.
func TestAttackRow19WeakHMACSecret(t *testing.T) {
	for _, tt := range []struct {
		alg string
		n   int
	}{{"HS256", 16}, {"HS256", 31}, {"HS384", 47}, {"HS512", 32}, {"HS512", 63}, {"HS256", 0}} {
		_, err := auth.New(auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience,
			Keys: []auth.Key{{Algorithm: tt.alg, Secret: make([]byte, tt.n)}}}}})
		if !errors.Is(err, auth.ErrAlgorithm) {
			t.Errorf("%s with a %d-byte secret: error = %v, want ErrAlgorithm", tt.alg, tt.n, err)
		}
	}
	if _, err := auth.New(auth.Options{Issuers: []auth.Issuer{{Issuer: testIssuer, Audience: testAudience,
		Keys: []auth.Key{{Algorithm: "HS256", Secret: make([]byte, 32)}}}}}); err != nil {
		t.Errorf("HS256 with a 32-byte secret: %v", err)
	}
}

// Row 20: cross-issuer identity confusion (ASVS5 6.8.1, 10.3.3; RFC 9700 §4.15).
func TestAttackRow20CrossIssuer(t *testing.T) {
	k := keys()
	opts := baseOptions()
	opts.Issuers = append(opts.Issuers, auth.Issuer{Issuer: "https://second.test", Audience: testAudience,
		Keys: []auth.Key{{ID: "second", Algorithm: "RS256", Public: &k.rsa2.PublicKey}}})
	var seen []auth.Principal
	mw, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		seen = append(seen, p)
	}))
	first := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), validClaims())
	c := validClaims()
	c["iss"] = "https://second.test"
	second := mint(t, "RS256", k.rsa2, hdr("RS256", "second"), c)
	c = validClaims()
	c["client_id"] = "alice" // a client-credentials token whose client id is a user's name
	client := mint(t, "RS256", k.rsa, hdr("RS256", "rsa1"), c)
	for _, tok := range []string{first, second, client} {
		if w := serve(h, bearerRequest(tok)); w.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", w.Code)
		}
	}
	if seen[0].Subject != seen[1].Subject || seen[0].Key() == seen[1].Key() {
		t.Errorf("same sub at two issuers: keys %q and %q, want distinct", seen[0].Key(), seen[1].Key())
	}
	if seen[0].Client || !seen[2].Client {
		t.Errorf("Client = %v (user token), %v (client token), want false, true", seen[0].Client, seen[2].Client)
	}
}
