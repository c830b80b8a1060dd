package mfa_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/bulwark-go/bulwark/auth/mfa"
	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// sealKeyFromEnv loads the sealing key the way a server does: base64 from the environment.
// The examples fall back to a random key so that they run anywhere.
func sealKeyFromEnv() mfa.SealKey {
	key, err := base64.StdEncoding.DecodeString(os.Getenv("MFA_SEAL_KEY"))
	if err != nil || len(key) != mfa.SealKeySize {
		key = make([]byte, mfa.SealKeySize)
		rand.Read(key)
	}
	return mfa.SealKey{ID: "2026-01", Key: key}
}

// authenticatorApp plays the user's phone: it reads the key URL and shows the code for now.
func authenticatorApp(keyURL string, now time.Time) string {
	k, _ := otp.NewKeyFromURL(keyURL)
	code, _ := totp.GenerateCodeCustom(k.Secret(), now, totp.ValidateOpts{Period: 30, Digits: k.Digits(), Algorithm: k.Algorithm()})
	return code
}

// Example shows the whole life of a second factor: enrolment, confirmation with the first
// code, login with later codes, a replay refused, and a recovery code used once.
func Example() {
	sealer, _ := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{sealKeyFromEnv()}})
	v, err := mfa.New(mfa.Options{
		Issuer:               "Example",
		Sealer:               sealer,
		UnsafeNoAttemptLimit: true, // see Example_ratelimit for the limiter
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

	// Enrol: show e.URL as a QR code (e.PNG) once; store e.Pending.
	e, _ := v.Enroll("user-42", "alice@example.com")
	// Confirm with the first code; store the active secret in place of the pending one.
	active, err := v.Confirm(ctx, "user-42", e.Pending, authenticatorApp(e.URL, now), now)
	fmt.Println("confirmed:", err)

	// Log in half a minute later; the same code again is refused.
	now = now.Add(30 * time.Second)
	code := authenticatorApp(e.URL, now)
	fmt.Println("login:", v.Verify(ctx, "user-42", active, code, now))
	fmt.Println("replay:", errors.Is(v.Verify(ctx, "user-42", active, code, now), mfa.ErrReplayed))

	// Recovery codes: show codes once, store stored; each works once.
	codes, stored, _ := v.NewRecoveryCodes()
	stored, err = v.Recover(ctx, "user-42", stored, codes[0], now)
	fmt.Println("recovered:", err, mfa.RecoveryCodesLeft(stored), "left")
	_, err = v.Recover(ctx, "user-42", stored, codes[0], now)
	fmt.Println("again:", errors.Is(err, mfa.ErrInvalidCode))
	// Output:
	// confirmed: <nil>
	// login: <nil>
	// replay: true
	// recovered: <nil> 9 left
	// again: true
}

// Example_ratelimit wires the attempt limit to ratelimit's guard store through function
// values: five wrong codes ban the user, and while banned even the right code is not looked
// at. A ratelimit/redisstore Store works the same way for a fleet.
func Example_ratelimit() {
	guards, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	rule := ratelimit.GuardRule{MaxFailures: 5, Window: 15 * time.Minute, Ban: time.Minute, MaxBan: time.Hour}
	key := func(user string) string { return "mfa:" + user }
	sealer, _ := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{sealKeyFromEnv()}})
	v, err := mfa.New(mfa.Options{
		Issuer: "Example",
		Sealer: sealer,
		Allow: func(ctx context.Context, user string) (bool, time.Duration, error) {
			left, err := guards.Banned(ctx, key(user), time.Now())
			return left == 0, left, err
		},
		Failed: func(ctx context.Context, user string) {
			_, _ = guards.Fail(ctx, key(user), rule, time.Now())
		},
		Succeeded: func(ctx context.Context, user string) {
			_ = guards.Reset(ctx, key(user))
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	now := time.Now()
	e, _ := v.Enroll("user-42", "alice@example.com")
	active, _ := v.Confirm(ctx, "user-42", e.Pending, authenticatorApp(e.URL, now.Add(-30*time.Second)), now)
	for range 5 {
		_ = v.Verify(ctx, "user-42", active, "not a code", now)
	}
	err = v.Verify(ctx, "user-42", active, authenticatorApp(e.URL, now), now)
	fmt.Println(errors.Is(err, mfa.ErrLimited), mfa.RetryAfter(err) > 0)
	// Output: true true
}

func ExampleNew() {
	sealer, _ := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{sealKeyFromEnv()}})
	_, err := mfa.New(mfa.Options{Issuer: "Example", Sealer: sealer})
	fmt.Println(err)
	v, err := mfa.New(mfa.Options{
		Issuer:               "Example",
		Sealer:               sealer,
		Algorithm:            mfa.SHA256,
		Digits:               8,
		UnsafeNoAttemptLimit: true,
	})
	fmt.Println(v != nil, err)
	// Output:
	// mfa: Options.Allow is required (a per-user attempt limit), or set UnsafeNoAttemptLimit
	// true <nil>
}

func ExampleNewSealer() {
	current := sealKeyFromEnv()
	previous := mfa.SealKey{ID: "2025-06", Key: make([]byte, mfa.SealKeySize)}
	rand.Read(previous.Key) // in a server: the retired key, still loaded to open old data
	sealer, err := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{current, previous}})
	if err != nil {
		fmt.Println(err)
		return
	}
	sealed, _ := sealer.Seal("user-42", []byte("a secret"))
	plain, err := sealer.Open("user-42", sealed)
	fmt.Println(string(plain), err)
	_, err = sealer.Open("user-43", sealed)
	fmt.Println(err)
	_, err = mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{{ID: "k", Key: []byte("too short")}}})
	fmt.Println(err)
	// Output:
	// a secret <nil>
	// mfa: sealed data cannot be opened
	// mfa: SealerOptions.Keys[0].Key is 9 bytes, want 32 (AES-256)
}

func ExampleNewHasher() {
	h, err := mfa.NewHasher(mfa.HasherOptions{}) // argon2id m=19456 KiB, t=2, p=1
	if err != nil {
		fmt.Println(err)
		return
	}
	stored, _ := h.Hash("correct horse battery staple")
	fmt.Println(stored[:31])
	fmt.Println(h.Verify("correct horse battery staple", stored))
	fmt.Println(h.Verify("Correct horse battery staple", stored))
	fmt.Println(h.NeedsRehash(stored))
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1$
	// <nil>
	// mfa: password does not match
	// false
}

func ExampleNewMemoryStore() {
	store, err := mfa.NewMemoryStore(mfa.MemoryOptions{MaxEntries: 100_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	sealer, _ := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{sealKeyFromEnv()}})
	v, err := mfa.New(mfa.Options{Issuer: "Example", Sealer: sealer, Store: store, UnsafeNoAttemptLimit: true})
	fmt.Println(v != nil, err)
	// Output: true <nil>
}

func ExampleParseKeyURL() {
	k, err := mfa.ParseKeyURL("otpauth://totp/ACME%20Co:john@example.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Issuer, k.Account, len(k.Secret)*8, k.Algorithm, k.Digits, k.Period)
	// Output: ACME Co john@example.com 160 SHA1 6 30s
}

// ExampleProblem writes a refusal the way a handler should: one generic 401 for every bad
// code, logged under an OWASP event name.
func ExampleProblem() {
	e, event := mfa.Problem(fmt.Errorf("login: %w", mfa.ErrReplayed))
	w := httptest.NewRecorder()
	encode.WriteError(w, httptest.NewRequest("POST", "/login/mfa", nil), e)
	fmt.Println(w.Code, event)
	fmt.Println(w.Body.String())
	// Output:
	// 401 authn_token_reuse
	// {"type":"about:blank","title":"Unauthorized","status":401}
}
