package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // hashes of the ES algorithms
	_ "crypto/sha512"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Key is one static verification key of an [Issuer], bound to exactly one algorithm
// (RFC 8725 §3.1: the algorithm comes from the key, never from the token).
type Key struct {
	// ID is the key id. A token's "kid" header must equal it; a key without an ID only
	// verifies tokens that carry no "kid".
	ID string
	// Algorithm is the one JWS algorithm this key verifies. Required. One of RS256, RS384,
	// RS512, PS256, PS384, PS512 (RSA keys of 2048 bits or more), ES256, ES384, ES512 (ECDSA
	// keys on P-256, P-384, P-521), EdDSA (Ed25519), or HS256, HS384, HS512 (Secret).
	Algorithm string
	// Public is the public key of an asymmetric algorithm: *rsa.PublicKey,
	// *ecdsa.PublicKey or ed25519.PublicKey.
	Public any
	// Secret is the shared secret of an HMAC algorithm (HS256, HS384, HS512), at least as
	// long as the hash output (32, 48, 64 bytes) and random (RFC 8725 §3.5): never a
	// password. Load it from a secret store, not from a literal. The slice is copied.
	Secret []byte
}

// Errors about keys and algorithms.
var (
	// ErrAlgorithm means a token's algorithm is not the one its key is bound to, or a key's
	// algorithm is not supported.
	ErrAlgorithm = errors.New("auth: algorithm not allowed")
	// ErrUnknownKey means no trusted key has the token's "kid".
	ErrUnknownKey = errors.New("auth: unknown key")
	// ErrSignature means the signature does not verify.
	ErrSignature = errors.New("auth: bad signature")
	// ErrKeysUnavailable means an issuer's keys could not be fetched and none are cached.
	// Requests are refused with 503: failing closed, never open (ASVS5 16.5.3).
	ErrKeysUnavailable = errors.New("auth: issuer keys unavailable")
)

type algKind int

const (
	kindRSA algKind = iota + 1
	kindEC
	kindEd25519
	kindHMAC
)

type algInfo struct {
	kind   algKind
	curve  elliptic.Curve // for kindEC
	hash   crypto.Hash    // for kindEC
	minLen int            // HMAC secret bytes
}

// algorithms lists what bulwark verifies. "none" is not here and never will be.
func algorithm(name string) (algInfo, bool) {
	switch name {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return algInfo{kind: kindRSA}, true
	case "ES256":
		return algInfo{kind: kindEC, curve: elliptic.P256(), hash: crypto.SHA256}, true
	case "ES384":
		return algInfo{kind: kindEC, curve: elliptic.P384(), hash: crypto.SHA384}, true
	case "ES512":
		return algInfo{kind: kindEC, curve: elliptic.P521(), hash: crypto.SHA512}, true
	case "EdDSA":
		return algInfo{kind: kindEd25519}, true
	case "HS256":
		return algInfo{kind: kindHMAC, minLen: 32}, true
	case "HS384":
		return algInfo{kind: kindHMAC, minLen: 48}, true
	case "HS512":
		return algInfo{kind: kindHMAC, minLen: 64}, true
	}
	return algInfo{}, false
}

const minRSABits = 2048

// verifyKey is a key ready for the request path: its algorithm, a jwx verifier made once,
// and the raw key material that verifier takes.
type verifyKey struct {
	id  string
	alg string
	v   jws.Verifier
	raw any
	// ec is set for ECDSA keys, which are verified with crypto/ecdsa directly: jwx's
	// ECDSA verifier re-checks that the key is on its curve and goes through big.Int on
	// every call, where newVerifyKey has checked the key once.
	ec   *ecdsa.PublicKey
	hash crypto.Hash
}

// newVerifyKey checks that key material fits alg and builds its verifier.
func newVerifyKey(id, alg string, public any, secret []byte) (*verifyKey, error) {
	info, ok := algorithm(alg)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not supported", ErrAlgorithm, alg)
	}
	var raw any
	switch info.kind {
	case kindHMAC:
		if public != nil {
			return nil, fmt.Errorf("%w: %s takes a Secret, not a public key", ErrAlgorithm, alg)
		}
		if len(secret) < info.minLen {
			return nil, fmt.Errorf("%w: %s needs a secret of at least %d random bytes", ErrAlgorithm, alg, info.minLen)
		}
		raw = append([]byte(nil), secret...)
	case kindRSA:
		k, ok := public.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return nil, fmt.Errorf("%w: %s needs an *rsa.PublicKey", ErrAlgorithm, alg)
		}
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, want %d or more", ErrAlgorithm, k.N.BitLen(), minRSABits)
		}
		raw = k
	case kindEC:
		k, ok := public.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve != info.curve {
			return nil, fmt.Errorf("%w: %s needs an *ecdsa.PublicKey on %s", ErrAlgorithm, alg, info.curve.Params().Name)
		}
		if _, err := k.ECDH(); err != nil { // not a point on the curve
			return nil, fmt.Errorf("%w: invalid ECDSA public key", ErrAlgorithm)
		}
		raw = k
	case kindEd25519:
		k, ok := public.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: EdDSA needs an ed25519.PublicKey", ErrAlgorithm)
		}
		raw = k
	}
	if info.kind != kindHMAC && secret != nil {
		return nil, fmt.Errorf("%w: %s takes a public key, not a Secret", ErrAlgorithm, alg)
	}
	if info.kind == kindEC {
		return &verifyKey{id: id, alg: alg, ec: raw.(*ecdsa.PublicKey), hash: info.hash}, nil
	}
	v, err := jws.NewVerifier(jwa.SignatureAlgorithm(alg))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAlgorithm, alg, err)
	}
	return &verifyKey{id: id, alg: alg, v: v, raw: raw}, nil
}

// verify checks sig over input. The caller has already compared the token's alg with k.alg.
func (k *verifyKey) verify(input, sig []byte) error {
	if k.ec != nil {
		return verifyECDSA(k.ec, k.hash, input, sig)
	}
	if err := k.v.Verify(input, sig, k.raw); err != nil {
		return ErrSignature
	}
	return nil
}

// verifyECDSA checks a JWS ECDSA signature: R and S as fixed-size big-endian integers
// (RFC 7518 §3.4), never DER. crypto/ecdsa refuses r or s of zero or at least the curve
// order, which is what CVE-2022-21449 ("psychic signatures") got wrong.
func verifyECDSA(pub *ecdsa.PublicKey, h crypto.Hash, input, sig []byte) error {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return ErrSignature
	}
	var buf [2*66 + 16]byte // DER of two P-521 integers at most
	der := appendDERSignature(buf[:0], sig[:size], sig[size:])
	var sum [64]byte
	hh := h.New()
	hh.Write(input)
	if !ecdsa.VerifyASN1(pub, hh.Sum(sum[:0]), der) {
		return ErrSignature
	}
	return nil
}

// appendDERSignature appends the ASN.1 DER SEQUENCE of INTEGERs r and s, given big-endian.
func appendDERSignature(b, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	lr, ls := derIntLen(r), derIntLen(s)
	body := 2 + lr + 2 + ls
	b = append(b, 0x30)
	if body >= 0x80 {
		b = append(b, 0x81)
	}
	b = append(b, byte(body))
	b = appendDERInt(b, r, lr)
	return appendDERInt(b, s, ls)
}

func trimZeros(x []byte) []byte {
	for len(x) > 0 && x[0] == 0 {
		x = x[1:]
	}
	return x
}

// derIntLen is the content length of a non-negative INTEGER: a leading 0x00 keeps the
// high bit from reading as a sign, and zero is one 0x00 byte.
func derIntLen(x []byte) int {
	if len(x) == 0 || x[0]&0x80 != 0 {
		return len(x) + 1
	}
	return len(x)
}

func appendDERInt(b, x []byte, n int) []byte {
	b = append(b, 0x02, byte(n))
	if n > len(x) {
		b = append(b, 0)
	}
	return append(b, x...)
}

// keySource finds the verification key an issuer has under a kid.
type keySource interface {
	key(ctx context.Context, kid string, now time.Time) (*verifyKey, error)
}

// staticKeys is a fixed key set, read-only after construction.
type staticKeys map[string]*verifyKey

func (s staticKeys) key(_ context.Context, kid string, _ time.Time) (*verifyKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}
