package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/bulwark-go/bulwark/encode"
)

// AMR is the "amr" value (RFC 8176 §2) of an authentication that passed a [Verifier]: a
// one-time password. Put it in the tokens you issue after [Verifier.Verify] or
// [Verifier.Recover] succeeds, together with "pwd" and "mfa" when a password came first,
// and require it on sensitive routes with auth.RequireMFA.
const AMR = "otp"

// Errors of [Verifier]. Clients must see one 401 for ErrInvalidCode and ErrReplayed alike
// (see [Problem]); the difference is for logs.
var (
	// ErrInvalidCode is returned for a code that is malformed, wrong, or outside the window.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrReplayed is returned for a correct code of a time step at or before the last one
	// accepted for the user (RFC 6238 §5.2), or a recovery code being used already.
	ErrReplayed = errors.New("mfa: code already used")
	// ErrLimited is returned when Options.Allow refuses the attempt: no code was checked.
	// [RetryAfter] tells how long to wait.
	ErrLimited = errors.New("mfa: too many attempts")
	// ErrUnavailable is returned when Options.Allow or the Store failed: the verification
	// fails closed.
	ErrUnavailable = errors.New("mfa: verification unavailable")
	// ErrInvalidInput is returned for a user id, account name or count the Verifier cannot
	// use: a programming error, not a client's.
	ErrInvalidInput = errors.New("mfa: invalid input")
)

// maxUserLen bounds user ids: they are keys in the Store and additional data when sealing.
const maxUserLen = 1024

// period is the TOTP time step: RFC 6238's default, what every authenticator app shows, and
// the lifetime ASVS5 6.5.5 asks for.
const period = 30 * time.Second

// recoveryReplayTTL is how long the Store remembers a used recovery code, covering the time
// until the caller has saved the remaining set.
const recoveryReplayTTL = 24 * time.Hour

// Options configures [New]. Issuer and Sealer are required, and so is a limiter (Allow)
// unless UnsafeNoAttemptLimit says otherwise; every other zero value is the strict default.
type Options struct {
	// Issuer is the service name authenticator apps show: non-empty, at most 256 bytes, no
	// ':' or control characters. Required.
	Issuer string
	// Sealer seals TOTP secrets at rest, bound to the user id. Required.
	Sealer *Sealer
	// Store remembers accepted time steps and used recovery codes. If nil, a new
	// [MemoryStore], which only works for a single server: use the redisstore package for a
	// fleet, or a code accepted by one server can be replayed at another.
	Store Store

	// Algorithm is the HMAC of new enrolments. If empty, SHA1, which every authenticator app
	// supports; SHA256 and SHA512 are accepted. Existing enrolments keep their algorithm.
	Algorithm Algorithm
	// Digits is the code length of new enrolments, 6 or 8. If zero, 6.
	Digits int
	// SecretSize is the length of new secrets in bytes, 20 to 64. If zero, 20 (160 bits, as
	// RFC 4226 §4 recommends).
	SecretSize int
	// AcceptNextStep also accepts the code of the step after the current one, for devices
	// whose clock runs ahead. By default only the current step and the one before it are
	// accepted: RFC 6238 §5.2 recommends one step back for network delay, and
	// pquerna/otp's Skew of 1 also accepts one step forward, which is not needed for delay.
	AcceptNextStep bool
	// RejectPreviousStep accepts only the current step. Users who type slowly will see
	// refusals at step boundaries.
	RejectPreviousStep bool

	// Allow is asked before each verification whether user may try now. If it answers false,
	// the attempt fails with [ErrLimited] and retryAfter, and no code is checked; if it
	// fails, the attempt fails closed with [ErrUnavailable]. Wire it to ratelimit's guard
	// store (see the package example). Required unless UnsafeNoAttemptLimit: TOTP codes are
	// far shorter than 64 bits, so NIST SP 800-63B-4 §3.2.2 demands a limit.
	Allow func(ctx context.Context, user string) (ok bool, retryAfter time.Duration, err error)
	// Failed, if not nil, is told of each failed attempt that got past Allow (wrong,
	// malformed or replayed code). It reports its own errors; Allow must fail closed if the
	// limiter is down.
	Failed func(ctx context.Context, user string)
	// Succeeded, if not nil, is told of each successful attempt, so the limiter can forget
	// earlier failures (NIST SP 800-63B-4 §3.2.2).
	Succeeded func(ctx context.Context, user string)
	// UnsafeNoAttemptLimit allows a nil Allow, for callers that limit attempts in front of
	// the Verifier by other means.
	UnsafeNoAttemptLimit bool

	// Hasher hashes recovery codes. If nil, a [Hasher] with the OWASP default parameters.
	Hasher *Hasher
	// RecoveryCodes is how many codes [Verifier.NewRecoveryCodes] makes, 1 to 64. If zero,
	// 10.
	RecoveryCodes int
}

// Verifier enrols users in TOTP (RFC 6238), verifies their codes once each, and manages
// their recovery codes. It is safe for concurrent use; its configuration never changes.
type Verifier struct {
	issuer        string
	sealer        *Sealer
	store         Store
	algorithm     Algorithm
	digits        int
	secretSize    int
	back, ahead   int64
	allow         func(context.Context, string) (bool, time.Duration, error)
	failed        func(context.Context, string)
	succeeded     func(context.Context, string)
	hasher        *Hasher
	recoveryCodes int
}

// New returns a Verifier for opts. It reports every bad or missing field with [errors.Join]
// and never panics.
func New(opts Options) (*Verifier, error) {
	v := &Verifier{
		issuer:        opts.Issuer,
		sealer:        opts.Sealer,
		store:         opts.Store,
		algorithm:     opts.Algorithm,
		digits:        opts.Digits,
		secretSize:    opts.SecretSize,
		back:          1,
		allow:         opts.Allow,
		failed:        opts.Failed,
		succeeded:     opts.Succeeded,
		hasher:        opts.Hasher,
		recoveryCodes: opts.RecoveryCodes,
	}
	var errs []error
	if !validName(v.issuer) {
		errs = append(errs, errors.New("mfa: Options.Issuer is required: 1 to 256 bytes of UTF-8 without ':' or control characters"))
	}
	if v.sealer == nil {
		errs = append(errs, errors.New("mfa: Options.Sealer is required"))
	}
	switch v.algorithm {
	case "":
		v.algorithm = SHA1
	case SHA1, SHA256, SHA512:
	default:
		errs = append(errs, errors.New("mfa: Options.Algorithm must be SHA1, SHA256 or SHA512"))
	}
	switch v.digits {
	case 0:
		v.digits = 6
	case 6, 8:
	default:
		errs = append(errs, errors.New("mfa: Options.Digits must be 6 or 8"))
	}
	switch {
	case v.secretSize == 0:
		v.secretSize = 20
	case v.secretSize < 20 || v.secretSize > 64:
		errs = append(errs, errors.New("mfa: Options.SecretSize must be 20 to 64 bytes"))
	}
	if opts.AcceptNextStep {
		v.ahead = 1
	}
	if opts.RejectPreviousStep {
		v.back = 0
	}
	if v.allow == nil && !opts.UnsafeNoAttemptLimit {
		errs = append(errs, errors.New("mfa: Options.Allow is required (a per-user attempt limit), or set UnsafeNoAttemptLimit"))
	}
	switch {
	case v.recoveryCodes == 0:
		v.recoveryCodes = 10
	case v.recoveryCodes < 1 || v.recoveryCodes > maxRecoveryCodes:
		errs = append(errs, fmt.Errorf("mfa: Options.RecoveryCodes must be 1 to %d", maxRecoveryCodes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if v.store == nil {
		v.store, _ = NewMemoryStore(MemoryOptions{})
	}
	if v.hasher == nil {
		v.hasher, _ = NewHasher(HasherOptions{})
	}
	return v, nil
}

// Enrollment is a new TOTP secret waiting for its first code. Show URL as a QR code (see
// [Enrollment.PNG]) and Secret for typing in by hand, once; store Pending until
// [Verifier.Confirm] turns it into an active secret. URL and Secret must never be logged
// or stored.
type Enrollment struct {
	Pending string // the secret sealed for the user, usable only by Confirm
	URL     string // the otpauth key URL
	Secret  string // the secret in unpadded base32
}

// PNG returns URL as a QR code PNG of size×size pixels (64 to 1024; if zero, 256).
func (e *Enrollment) PNG(size int) ([]byte, error) {
	if size == 0 {
		size = 256
	}
	if size < 64 || size > 1024 {
		return nil, fmt.Errorf("%w: QR size must be 64 to 1024 pixels", ErrInvalidInput)
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", ErrInvalidInput)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// Enroll makes a new secret from crypto/rand (ASVS5 6.5.3) for user, the stable id the
// Verifier keys everything by, shown in apps as account (such as an email address; no ':').
// The secret is pending: [Verifier.Verify] refuses it until [Verifier.Confirm] accepts a
// code for it.
func (v *Verifier) Enroll(user, account string) (*Enrollment, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	if !validName(account) {
		return nil, fmt.Errorf("%w: account must be 1 to 256 bytes of UTF-8 without ':' or control characters", ErrInvalidInput)
	}
	secret := make([]byte, v.secretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("mfa: secret: %w", err)
	}
	defer clear(secret)
	k := KeyURL{Issuer: v.issuer, Account: account, Secret: secret, Algorithm: v.algorithm, Digits: v.digits, Period: period}
	pending, err := v.sealer.seal(kindTOTPPending, user, encodeTOTP(k))
	if err != nil {
		return nil, err
	}
	return &Enrollment{
		Pending: pending,
		URL:     k.String(),
		Secret:  base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret),
	}, nil
}

// Import seals an existing TOTP key for user as an active secret, for moving enrolments from
// another system; k usually comes from [ParseKeyURL]. Its secret must be at least 128 bits,
// its digits 6 or 8 and its period whole seconds from 1 s to 2 min. Names are not kept.
func (v *Verifier) Import(user string, k KeyURL) (string, error) {
	if err := checkUser(user); err != nil {
		return "", err
	}
	switch {
	case len(k.Secret) < 16 || len(k.Secret) > 64:
		return "", fmt.Errorf("%w: secret must be 16 to 64 bytes", ErrInvalidInput)
	case k.Algorithm != SHA1 && k.Algorithm != SHA256 && k.Algorithm != SHA512:
		return "", fmt.Errorf("%w: algorithm must be SHA1, SHA256 or SHA512", ErrInvalidInput)
	case k.Digits != 6 && k.Digits != 8:
		return "", fmt.Errorf("%w: digits must be 6 or 8", ErrInvalidInput)
	case k.Period < time.Second || k.Period > 2*time.Minute || k.Period%time.Second != 0:
		return "", fmt.Errorf("%w: period must be whole seconds from 1 s to 2 min", ErrInvalidInput)
	}
	return v.sealer.seal(kindTOTP, user, encodeTOTP(k))
}

// Confirm checks code against the pending secret from [Verifier.Enroll] exactly as
// [Verifier.Verify] does, and on success returns the active secret, sealed for user, to
// store in place of the pending one. The confirming code counts as used.
func (v *Verifier) Confirm(ctx context.Context, user, pending, code string, now time.Time) (string, error) {
	pt, err := v.check(ctx, kindTOTPPending, user, pending, code, now)
	if err != nil {
		return "", err
	}
	defer clear(pt)
	return v.sealer.seal(kindTOTP, user, pt)
}

// Verify checks code for user against active, the sealed secret from [Verifier.Confirm],
// at the server's time now (ASVS5 6.5.8: never a time the client sends). It returns nil if
// the code belongs to the current time step (or the one before it, see
// Options.RejectPreviousStep and Options.AcceptNextStep) and that step is later than the last
// step accepted for user, which it records in the Store: a code is accepted once, and never
// after a later one (RFC 6238 §5.2, ASVS5 6.5.1). Codes are compared in constant time.
//
// Errors: [ErrLimited] (nothing checked), [ErrInvalidCode], [ErrReplayed], [ErrUnavailable],
// [ErrSealed] (active is not an active secret of user), [ErrInvalidInput].
func (v *Verifier) Verify(ctx context.Context, user, active, code string, now time.Time) error {
	pt, err := v.check(ctx, kindTOTP, user, active, code, now)
	clear(pt)
	return err
}

// check runs a verification and returns the opened secret payload on success.
func (v *Verifier) check(ctx context.Context, k kind, user, sealed, code string, now time.Time) ([]byte, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	if err := v.admit(ctx, user); err != nil {
		return nil, err
	}
	pt, err := v.sealer.open(k, user, sealed)
	if err != nil {
		return nil, fmt.Errorf("mfa: secret: %w", err)
	}
	key, ok := decodeTOTP(pt)
	if !ok {
		clear(pt)
		return nil, fmt.Errorf("mfa: secret: %w", ErrSealed)
	}
	step, ok := v.match(key, code, now)
	if !ok {
		clear(pt)
		v.fail(ctx, user)
		return nil, ErrInvalidCode
	}
	if err := v.record(ctx, "totp", user, step, now, stepEnd(step+v.back+1, key.Period).Sub(now)+key.Period); err != nil {
		clear(pt)
		if errors.Is(err, ErrReplayed) {
			v.fail(ctx, user)
		}
		return nil, err
	}
	if v.succeeded != nil {
		v.succeeded(ctx, user)
	}
	return pt, nil
}

// admit asks the limiter, failing closed.
func (v *Verifier) admit(ctx context.Context, user string) error {
	if v.allow == nil {
		return nil
	}
	ok, retry, err := v.allow(ctx, user)
	if err != nil {
		return fmt.Errorf("%w: limiter: %w", ErrUnavailable, err)
	}
	if !ok {
		return &limitedError{retryAfter: retry}
	}
	return nil
}

func (v *Verifier) fail(ctx context.Context, user string) {
	if v.failed != nil {
		v.failed(ctx, user)
	}
}

// record advances the user's step in the Store under the given purpose.
func (v *Verifier) record(ctx context.Context, purpose, user string, step int64, now time.Time, ttl time.Duration) error {
	ok, err := v.store.Advance(ctx, purpose+"\x00"+user, step, now, ttl)
	if err != nil {
		return fmt.Errorf("%w: store: %w", ErrUnavailable, err)
	}
	if !ok {
		return ErrReplayed
	}
	return nil
}

// match finds the time step code belongs to, among the accepted ones around now. Every
// candidate is computed and compared in constant time, so the time taken does not say which
// step matched; the latest match wins.
func (v *Verifier) match(k KeyURL, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != k.Digits || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := floorDiv(now.Unix(), int64(k.Period/time.Second))
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(k.Secret)
	opts := hotp.ValidateOpts{Digits: otp.Digits(k.Digits), Algorithm: otpAlgorithm(k.Algorithm)}
	var step int64
	found := 0
	for s := cur - v.back; s <= cur+v.ahead; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, found = s, 1
		}
	}
	return step, found == 1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// stepEnd returns when step begins, which is when step-1 ends.
func stepEnd(step int64, p time.Duration) time.Time {
	return time.Unix(step*int64(p/time.Second), 0)
}

func otpAlgorithm(a Algorithm) otp.Algorithm {
	switch a {
	case SHA256:
		return otp.AlgorithmSHA256
	case SHA512:
		return otp.AlgorithmSHA512
	default:
		return otp.AlgorithmSHA1
	}
}

// encodeTOTP is the sealed form of a TOTP key: algorithm, digits and period in seconds, one
// byte each, then the secret. The names are not kept: they are only for the app.
func encodeTOTP(k KeyURL) []byte {
	var a byte
	switch k.Algorithm {
	case SHA256:
		a = 2
	case SHA512:
		a = 3
	default:
		a = 1
	}
	b := make([]byte, 0, 3+len(k.Secret))
	b = append(b, a, byte(k.Digits), byte(k.Period/time.Second))
	return append(b, k.Secret...)
}

func decodeTOTP(b []byte) (KeyURL, bool) {
	if len(b) < 3+16 {
		return KeyURL{}, false
	}
	k := KeyURL{Digits: int(b[1]), Period: time.Duration(b[2]) * time.Second, Secret: b[3:]}
	switch b[0] {
	case 1:
		k.Algorithm = SHA1
	case 2:
		k.Algorithm = SHA256
	case 3:
		k.Algorithm = SHA512
	default:
		return KeyURL{}, false
	}
	if (k.Digits != 6 && k.Digits != 8) || k.Period == 0 {
		return KeyURL{}, false
	}
	return k, true
}

func checkUser(user string) error {
	if user == "" || len(user) > maxUserLen || !utf8.ValidString(user) {
		return fmt.Errorf("%w: user id must be 1 to %d bytes of UTF-8", ErrInvalidInput, maxUserLen)
	}
	return nil
}

// limitedError is ErrLimited with the time to wait.
type limitedError struct{ retryAfter time.Duration }

func (e *limitedError) Error() string { return ErrLimited.Error() }
func (e *limitedError) Unwrap() error { return ErrLimited }

// RetryAfter returns how long a caller refused with [ErrLimited] should wait, or zero.
func RetryAfter(err error) time.Duration {
	var l *limitedError
	if errors.As(err, &l) && l.retryAfter > 0 {
		return l.retryAfter
	}
	return 0
}

// Problem maps an error of a [Verifier] to the refusal a handler should write with
// [encode.WriteError] and the OWASP logging-vocabulary event to log it under with
// [encode.LogRefusal]: a wrong, malformed or used code is one generic 401 (authn_login_fail,
// or authn_token_reuse for a replay, ASVS5 6.5.1 / NIST SP 800-63B-4 §3.1.5.2), a limited
// attempt 429 with Retry-After (authn_login_fail_max), a failed limiter or store 503, and
// anything else 500. The client never learns which check failed.
func Problem(err error) (*encode.Error, string) {
	switch {
	case err == nil:
		return nil, ""
	case errors.Is(err, ErrLimited):
		return &encode.Error{Status: http.StatusTooManyRequests, RetryAfter: max(RetryAfter(err), time.Second), Err: err}, "authn_login_fail_max"
	case errors.Is(err, ErrReplayed):
		return &encode.Error{Status: http.StatusUnauthorized, Err: err}, "authn_token_reuse"
	case errors.Is(err, ErrInvalidCode):
		return &encode.Error{Status: http.StatusUnauthorized, Err: err}, "authn_login_fail"
	case errors.Is(err, ErrUnavailable):
		return &encode.Error{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Err: err}, "authn_login_fail"
	default:
		return &encode.Error{Status: http.StatusInternalServerError, Err: err}, "authn_login_fail"
	}
}
