package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// KeyState is where a [SigningKey] is in its rotation: next, then active, then retired.
type KeyState int

// The states of a signing key. The zero KeyState is invalid, so that a key's state is always
// chosen on purpose.
const (
	// KeyNext is published in the JWKS but does not sign yet, so that validators have it
	// cached before the first token it signs reaches them.
	KeyNext KeyState = iota + 1
	// KeyActive signs every new token. Exactly one key is active.
	KeyActive
	// KeyRetired no longer signs; it stays in the JWKS until every token it signed has
	// expired (SigningKey.Retired + AccessTTL + leeway), then drops out by itself.
	KeyRetired
)

// String returns "next", "active" or "retired".
func (s KeyState) String() string {
	switch s {
	case KeyNext:
		return "next"
	case KeyActive:
		return "active"
	case KeyRetired:
		return "retired"
	}
	return "KeyState(" + strconv.Itoa(int(s)) + ")"
}

// SigningKey is one private key of a [Signer].
type SigningKey struct {
	// Signer is the private key: an *ecdsa.PrivateKey, ed25519.PrivateKey or
	// *rsa.PrivateKey, or any [crypto.Signer] whose Public() is one of their public keys,
	// such as a KMS or HSM key. Required. Load it from a file, the environment or a secret
	// manager (see [ParsePrivateKeyPEM]); never from a literal.
	Signer crypto.Signer
	// Algorithm is the JWS algorithm. If empty, it follows from the key: ES256 (P-256),
	// ES384 (P-384), ES512 (P-521) or EdDSA (Ed25519). RSA keys (2048 bits or more) must
	// name RS256 or PS256.
	Algorithm string
	// State is the key's place in its rotation. Required.
	State KeyState
	// Retired is when the key stopped signing. Required for KeyRetired: the key is
	// published until Retired + AccessTTL + one minute.
	Retired time.Time
}

// SignerOptions configures [NewSigner]. Issuer and Keys are required; everything else has
// a strict zero value.
type SignerOptions struct {
	// Issuer is the "iss" of every token, such as "https://api.example.com". Required.
	Issuer string
	// Keys are the signing keys, exactly one of them KeyActive. Each key's id ("kid") is
	// its RFC 7638 thumbprint.
	Keys []SigningKey
	// AccessTTL is the lifetime of access tokens. If zero, 10 minutes. Between 1 minute and
	// 1 hour: a JWT cannot be recalled once issued except through a revocation store, so
	// keep it short.
	AccessTTL time.Duration
	// JWKSMaxAge is the Cache-Control max-age of [Signer.JWKSHandler]. If zero, 15 minutes.
	// Between 1 minute and 24 hours. Publish a KeyNext at least this long before making it
	// active.
	JWKSMaxAge time.Duration
	// Logger receives authn_token_created (at Info) for every token issued, with the
	// subject, client id, jti and kid, never the token. If nil, slog.Default().
	Logger *slog.Logger
}

// Errors of the issuing side.
var (
	// ErrSigner is returned by [Signer.Issue] when the key fails to sign, such as a KMS
	// that cannot be reached.
	ErrSigner = errors.New("auth: signing failed")
	// ErrIssueClaims is returned by [Signer.Issue] for claims that cannot be issued: a
	// missing subject, audience or client id, a value that is not valid UTF-8, or so many
	// claims that the token would exceed DefaultMaxTokenSize.
	ErrIssueClaims = errors.New("auth: invalid claims to issue")
)

const (
	defaultAccessTTL  = 10 * time.Minute
	minAccessTTL      = time.Minute
	maxAccessTTL      = time.Hour
	defaultJWKSMaxAge = 15 * time.Minute
	retireLeeway      = time.Minute // covers validators' clock skew past a token's exp
	jtiBytes          = 16          // 128 bits, ASVS5 11.5.1
)

// Signer issues RFC 9068 JWT access tokens and publishes its public keys. It is read-only
// after construction and safe for concurrent use. To rotate keys, build a new Signer from
// the new key list (see the package documentation).
type Signer struct {
	issuer  string
	ttl     time.Duration
	maxAge  string // Cache-Control value
	active  *signingKey
	keys    []*signingKey // in the order given
	logger  *slog.Logger
	verifyK []Key
}

// signingKey is a SigningKey ready for use.
type signingKey struct {
	signer   crypto.Signer
	alg      string
	kid      string
	state    KeyState
	until    time.Time // for retired keys: published until then
	header   string    // base64url of the protected header
	jwk      []byte    // the public JWK, as JSON
	hash     crypto.Hash
	ecSize   int // for ECDSA: the size of R and S
	pssOpts  *rsa.PSSOptions
	public   crypto.PublicKey
	verifier Key
}

// NewSigner returns a Signer for opts. It reports invalid options as an error naming each
// bad field and never panics.
func NewSigner(opts SignerOptions) (*Signer, error) {
	var errs []error
	s := &Signer{issuer: opts.Issuer, ttl: opts.AccessTTL, logger: opts.Logger}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if opts.Issuer == "" {
		errs = append(errs, errors.New("auth: SignerOptions.Issuer is required"))
	} else if !utf8.ValidString(opts.Issuer) {
		errs = append(errs, errors.New("auth: SignerOptions.Issuer is not valid UTF-8"))
	}
	switch {
	case opts.AccessTTL == 0:
		s.ttl = defaultAccessTTL
	case opts.AccessTTL < minAccessTTL || opts.AccessTTL > maxAccessTTL:
		errs = append(errs, fmt.Errorf("auth: SignerOptions.AccessTTL %v must be between %v and %v", opts.AccessTTL, minAccessTTL, maxAccessTTL))
	}
	maxAge := opts.JWKSMaxAge
	switch {
	case maxAge == 0:
		maxAge = defaultJWKSMaxAge
	case maxAge < time.Minute || maxAge > 24*time.Hour:
		errs = append(errs, fmt.Errorf("auth: SignerOptions.JWKSMaxAge %v must be between 1m and 24h", maxAge))
	}
	s.maxAge = "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))

	if len(opts.Keys) == 0 {
		errs = append(errs, errors.New("auth: SignerOptions.Keys is required"))
	}
	seen := make(map[string]int, len(opts.Keys))
	for i, k := range opts.Keys {
		sk, err := newSigningKey(k, s.ttl)
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: SignerOptions.Keys[%d]: %w", i, err))
			continue
		}
		if j, dup := seen[sk.kid]; dup {
			errs = append(errs, fmt.Errorf("auth: SignerOptions.Keys[%d]: same key as Keys[%d]", i, j))
			continue
		}
		seen[sk.kid] = i
		if sk.state == KeyActive {
			if s.active != nil {
				errs = append(errs, fmt.Errorf("auth: SignerOptions.Keys[%d]: a second active key; exactly one may sign", i))
				continue
			}
			s.active = sk
		}
		s.keys = append(s.keys, sk)
		s.verifyK = append(s.verifyK, sk.verifier)
	}
	if len(opts.Keys) > 0 && s.active == nil && len(errs) == 0 {
		errs = append(errs, errors.New("auth: SignerOptions.Keys has no KeyActive key"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func newSigningKey(k SigningKey, ttl time.Duration) (*signingKey, error) {
	switch v := k.Signer.(type) {
	case nil:
		return nil, errors.New("field Signer is required")
	case *ecdsa.PrivateKey:
		if v == nil {
			return nil, errors.New("field Signer is a nil key")
		}
	case *rsa.PrivateKey:
		if v == nil || v.N == nil {
			return nil, errors.New("field Signer is a nil key")
		}
	case ed25519.PrivateKey:
		if len(v) != ed25519.PrivateKeySize {
			return nil, errors.New("field Signer is not a whole Ed25519 key")
		}
	}
	sk := &signingKey{signer: k.Signer, alg: k.Algorithm, state: k.State, public: k.Signer.Public()}
	switch k.State {
	case KeyNext, KeyActive:
		if !k.Retired.IsZero() {
			return nil, fmt.Errorf("field Retired is only for retired keys, not %v ones", k.State)
		}
	case KeyRetired:
		if k.Retired.IsZero() {
			return nil, errors.New("field Retired is required for a retired key")
		}
		sk.until = k.Retired.Add(ttl + retireLeeway)
	default:
		return nil, errors.New("field State must be KeyNext, KeyActive or KeyRetired")
	}
	switch pub := sk.public.(type) {
	case *ecdsa.PublicKey:
		if pub == nil {
			return nil, errors.New("field Signer has a nil public key")
		}
		want := map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[pub.Curve]
		if want == "" {
			return nil, errors.New("field Signer: unsupported ECDSA curve")
		}
		if sk.alg == "" {
			sk.alg = want
		}
		if sk.alg != want {
			return nil, fmt.Errorf("field Algorithm %q does not fit a %s key, which takes %s", sk.alg, pub.Curve.Params().Name, want)
		}
		info, _ := algorithm(sk.alg)
		sk.hash = info.hash
		sk.ecSize = (pub.Curve.Params().BitSize + 7) / 8
	case ed25519.PublicKey:
		if sk.alg == "" {
			sk.alg = "EdDSA"
		}
		if sk.alg != "EdDSA" {
			return nil, fmt.Errorf("field Algorithm %q does not fit an Ed25519 key, which takes EdDSA", sk.alg)
		}
	case *rsa.PublicKey:
		switch sk.alg {
		case "RS256":
			sk.hash = crypto.SHA256
		case "PS256":
			sk.hash = crypto.SHA256
			sk.pssOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		default:
			return nil, errors.New("field Algorithm must be RS256 or PS256 for an RSA key")
		}
	default:
		return nil, errors.New("field Signer: the public key must be ECDSA, Ed25519 or RSA")
	}
	// The same checks the validator makes: a key it would refuse is refused here.
	if _, err := newVerifyKey("", sk.alg, sk.public, nil); err != nil {
		return nil, fmt.Errorf("field Signer: %w", err)
	}
	pk, err := jwk.FromRaw(sk.public)
	if err != nil {
		return nil, fmt.Errorf("field Signer: %w", err)
	}
	tp, err := pk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("field Signer: %w", err)
	}
	sk.kid = base64.RawURLEncoding.EncodeToString(tp)
	for _, kv := range [][2]string{{jwk.KeyIDKey, sk.kid}, {jwk.AlgorithmKey, sk.alg}, {jwk.KeyUsageKey, "sig"}} {
		if err := pk.Set(kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("field Signer: %w", err)
		}
	}
	if sk.jwk, err = json.Marshal(pk); err != nil {
		return nil, fmt.Errorf("field Signer: %w", err)
	}
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{sk.alg, sk.kid, "at+jwt"})
	sk.header = base64.RawURLEncoding.EncodeToString(h)
	sk.verifier = Key{ID: sk.kid, Algorithm: sk.alg, Public: sk.public}
	return sk, nil
}

// sign returns the JWS signature of input, in JWS form (R‖S for ECDSA).
func (k *signingKey) sign(input []byte) ([]byte, error) {
	var digest []byte
	var opts crypto.SignerOpts = crypto.Hash(0)
	if k.hash != 0 {
		h := k.hash.New()
		h.Write(input)
		digest = h.Sum(nil)
		opts = k.hash
		if k.pssOpts != nil {
			opts = k.pssOpts
		}
	} else {
		digest = input // Ed25519 signs the message itself
	}
	sig, err := k.signer.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, err
	}
	if k.ecSize > 0 {
		return derToRaw(sig, k.ecSize)
	}
	return sig, nil
}

// derToRaw turns an ASN.1 DER ECDSA signature, which crypto.Signer returns, into the
// fixed-size R‖S of RFC 7518 §3.4.
func derToRaw(der []byte, size int) ([]byte, error) {
	in := cryptobyte.String(der)
	var seq, r, s cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, cbasn1.INTEGER) || !seq.ReadASN1(&s, cbasn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("auth: signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	for i, v := range [][]byte{r, s} {
		v = trimZeros(v)
		if len(v) > size {
			return nil, errors.New("auth: signer returned a malformed ECDSA signature")
		}
		copy(out[(i+1)*size-len(v):], v)
	}
	return out, nil
}

// AccessClaims are what an access token says about its holder. Subject, Audience and
// ClientID are required (RFC 9068 §2.2); the rest is optional.
type AccessClaims struct {
	Subject  string   // "sub": the user, or the client itself for a client-credentials grant
	Audience []string // "aud": the APIs that may accept the token; at least one
	ClientID string   // "client_id": the client the token was issued to
	Scopes   []string // "scope", space-separated; each scope must be free of spaces
	Roles    []string // "roles"
	AMR      []string // "amr": how the user authenticated, e.g. "pwd", "otp" (RFC 8176)
	ACR      string   // "acr"
	// AuthTime is when the user last authenticated ("auth_time"), which [RequireMFA]
	// compares with its maximum age. Zero leaves the claim out.
	AuthTime time.Time
	// SessionID is the "sid" claim: the refresh-token family the token belongs to, set by
	// [Refresher]. Revoking the family revokes the access tokens that carry it.
	SessionID string
}

// AccessToken is an issued access token and what a caller needs to know about it.
type AccessToken struct {
	Token    string    // the compact JWS; a secret: never log it
	ID       string    // its "jti", by which it can be revoked
	IssuedAt time.Time // "iat"
	Expiry   time.Time // "exp"
}

// atClaims is the claims set as serialized, in a fixed order.
type atClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      any      `json:"aud"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Sid      string   `json:"sid,omitempty"`
}

// Issue signs an access token for c with the active key, valid from now for AccessTTL. It
// returns [ErrIssueClaims] for claims it cannot issue and [ErrSigner] when the key fails.
// Errors never contain the token or key material.
func (s *Signer) Issue(ctx context.Context, c AccessClaims, now time.Time) (AccessToken, error) {
	if err := checkAccessClaims(c); err != nil {
		return AccessToken{}, err
	}
	jti, err := randomString(jtiBytes)
	if err != nil {
		return AccessToken{}, fmt.Errorf("%w: %w", ErrSigner, err)
	}
	iat := now.Unix()
	exp := now.Add(s.ttl).Unix()
	ac := atClaims{
		Iss: s.issuer, Sub: c.Subject, Exp: exp, Iat: iat, Jti: jti, ClientID: c.ClientID,
		Scope: strings.Join(c.Scopes, " "), Roles: c.Roles, AMR: c.AMR, ACR: c.ACR, Sid: c.SessionID,
	}
	if len(c.Audience) == 1 {
		ac.Aud = c.Audience[0]
	} else {
		ac.Aud = c.Audience
	}
	if !c.AuthTime.IsZero() {
		ac.AuthTime = c.AuthTime.Unix()
	}
	payload, err := json.Marshal(ac)
	if err != nil {
		return AccessToken{}, fmt.Errorf("%w: %w", ErrIssueClaims, err)
	}
	k := s.active
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(k.header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(2*132))
	buf = append(buf, k.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig, err := k.sign(buf)
	if err != nil {
		return AccessToken{}, fmt.Errorf("%w: key %s: %w", ErrSigner, k.kid, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	if len(buf) > DefaultMaxTokenSize {
		// Validators refuse it unread (Options.MaxTokenSize): better to fail here.
		return AccessToken{}, fmt.Errorf("%w: the token would be %d bytes, more than %d", ErrIssueClaims, len(buf), DefaultMaxTokenSize)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "authn_token_created",
		slog.String("token_type", "access"), slog.String("subject", c.Subject),
		slog.String("client_id", c.ClientID), slog.String("jti", jti), slog.String("kid", k.kid))
	return AccessToken{Token: string(buf), ID: jti, IssuedAt: time.Unix(iat, 0), Expiry: time.Unix(exp, 0)}, nil
}

func checkAccessClaims(c AccessClaims) error {
	var errs []error
	if c.Subject == "" {
		errs = append(errs, errors.New("field Subject is required"))
	}
	if len(c.Audience) == 0 {
		errs = append(errs, errors.New("field Audience is required (RFC 8725 §3.9)"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("field ClientID is required (RFC 9068 §2.2)"))
	}
	for _, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			errs = append(errs, errors.New("a scope is empty or contains spaces, quotes or backslashes"))
			break
		}
	}
	strs := append([]string{c.Subject, c.ClientID, c.ACR, c.SessionID}, c.Audience...)
	strs = append(strs, c.Scopes...)
	strs = append(strs, c.Roles...)
	strs = append(strs, c.AMR...)
	for _, v := range strs {
		if !utf8.ValidString(v) {
			errs = append(errs, errors.New("a value is not valid UTF-8 (RFC 8725 §3.7)"))
			break
		}
	}
	for _, a := range c.Audience {
		if a == "" {
			errs = append(errs, errors.New("field Audience has an empty entry"))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrIssueClaims, err)
	}
	return nil
}

// randomString returns n random bytes from crypto/rand, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Issuer returns the "iss" of the tokens s issues.
func (s *Signer) Issuer() string { return s.issuer }

// AccessTTL returns the lifetime of the access tokens s issues.
func (s *Signer) AccessTTL() time.Duration { return s.ttl }

// KeyID returns the "kid" of the active key: its RFC 7638 SHA-256 thumbprint.
func (s *Signer) KeyID() string { return s.active.kid }

// VerificationKeys returns the public keys of every key of s (next, active and retired),
// for a validator in the same process: auth.Issuer{Issuer: s.Issuer(), Keys:
// s.VerificationKeys()}. Validators elsewhere fetch [Signer.JWKSHandler] instead.
func (s *Signer) VerificationKeys() []Key {
	return append([]Key(nil), s.verifyK...)
}

// JWKSHandler returns an [http.Handler] that publishes the public keys as a JWK Set
// (RFC 7517 §5): next, active, and retired keys until their tokens have expired, each with
// "kid", "alg" and "use":"sig". It answers GET and HEAD with Cache-Control "public,
// max-age=" JWKSMaxAge, and other methods with a 405 problem. It never publishes private
// key material.
func (s *Signer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			encode.WriteError(w, r, &encode.Error{Status: http.StatusMethodNotAllowed})
			return
		}
		body := s.jwks(time.Now())
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", s.maxAge)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

// jwks is the JWK Set published at now.
func (s *Signer) jwks(now time.Time) []byte {
	b := append(make([]byte, 0, 512), `{"keys":[`...)
	first := true
	for _, k := range s.keys {
		if k.state == KeyRetired && !now.Before(k.until) {
			continue // every token it signed has expired
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, k.jwk...)
	}
	return append(b, "]}"...)
}
