package mfa_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// refHOTP is an independent HOTP (RFC 4226 §5.3) written from the RFC with crypto/hmac, not
// with pquerna/otp, so that the Verifier is checked against a second implementation.
func refHOTP(alg mfa.Algorithm, secret []byte, counter uint64, digits int) string {
	var h func() hash.Hash
	switch alg {
	case mfa.SHA256:
		h = sha256.New
	case mfa.SHA512:
		h = sha512.New
	default:
		h = sha1.New
	}
	mac := hmac.New(h, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// refTOTP is TOTP (RFC 6238 §4.2) over refHOTP with T0 = 0 and a 30-second step.
func refTOTP(alg mfa.Algorithm, secret []byte, t time.Time, digits int) string {
	return refHOTP(alg, secret, uint64(t.Unix()/30), digits)
}

// cheapHasher has parameters far below the OWASP minimum, so that tests stay fast.
func cheapHasher(t testing.TB) *mfa.Hasher {
	t.Helper()
	h, err := mfa.NewHasher(mfa.HasherOptions{Memory: 64, Iterations: 1, UnsafeWeakParams: true})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// randomKey returns a fresh AES-256 key, as an operator would load from a secret manager.
func randomKey(id string) mfa.SealKey {
	k := mfa.SealKey{ID: id, Key: make([]byte, mfa.SealKeySize)}
	rand.Read(k.Key)
	return k
}

func newSealer(t testing.TB, keys ...mfa.SealKey) *mfa.Sealer {
	t.Helper()
	if len(keys) == 0 {
		keys = []mfa.SealKey{randomKey("k1")}
	}
	s, err := mfa.NewSealer(mfa.SealerOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// limiter is a test attempt limiter that records what the Verifier tells it.
type limiter struct {
	mu        sync.Mutex
	deny      bool
	err       error
	asked     int
	failed    int
	succeeded int
}

func (l *limiter) allow(context.Context, string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked++
	if l.err != nil {
		return false, 0, l.err
	}
	return !l.deny, 42 * time.Second, nil
}

func (l *limiter) fail(context.Context, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed++
}

func (l *limiter) succeed(context.Context, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.succeeded++
}

// wire fills in the limiter hooks of opts.
func (l *limiter) wire(opts mfa.Options) mfa.Options {
	opts.Allow, opts.Failed, opts.Succeeded = l.allow, l.fail, l.succeed
	return opts
}

// newVerifier returns a Verifier with a test limiter, a cheap Hasher and a fresh memory
// store, after applying edit to the options.
func newVerifier(t testing.TB, edit func(*mfa.Options)) (*mfa.Verifier, *limiter) {
	t.Helper()
	l := &limiter{}
	opts := l.wire(mfa.Options{Issuer: "Bulwark Test", Sealer: newSealer(t), Hasher: cheapHasher(t)})
	if edit != nil {
		edit(&opts)
	}
	v, err := mfa.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v, l
}

// enrol enrols user and confirms the enrolment at confirmAt, returning the active secret and
// the raw secret for generating codes.
func enrol(t testing.TB, v *mfa.Verifier, user string, confirmAt time.Time) (string, mfa.KeyURL) {
	t.Helper()
	e, err := v.Enroll(user, user+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, err := mfa.ParseKeyURL(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	active, err := v.Confirm(context.Background(), user, e.Pending, refTOTP(k.Algorithm, k.Secret, confirmAt, k.Digits), confirmAt)
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	return active, k
}

// t0 is the start of a time step, far from the epoch.
var t0 = time.Unix(1_800_000_000/30*30, 0)
