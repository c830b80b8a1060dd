package mfa_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// rfc6238Vectors is RFC 6238 Appendix B: 8-digit codes for three keys (the ASCII digits
// "1234567890" repeated to 20, 32 and 64 bytes) at the listed Unix times.
var rfc6238Vectors = []struct {
	unix int64
	alg  mfa.Algorithm
	code string
}{
	{59, mfa.SHA1, "94287082"}, {59, mfa.SHA256, "46119246"}, {59, mfa.SHA512, "90693936"},
	{1111111109, mfa.SHA1, "07081804"}, {1111111109, mfa.SHA256, "68084774"}, {1111111109, mfa.SHA512, "25091201"},
	{1111111111, mfa.SHA1, "14050471"}, {1111111111, mfa.SHA256, "67062674"}, {1111111111, mfa.SHA512, "99943326"},
	{1234567890, mfa.SHA1, "89005924"}, {1234567890, mfa.SHA256, "91819424"}, {1234567890, mfa.SHA512, "93441116"},
	{2000000000, mfa.SHA1, "69279037"}, {2000000000, mfa.SHA256, "90698825"}, {2000000000, mfa.SHA512, "38618901"},
	{20000000000, mfa.SHA1, "65353130"}, {20000000000, mfa.SHA256, "77737706"}, {20000000000, mfa.SHA512, "47863826"},
}

func rfc6238Key(alg mfa.Algorithm) []byte {
	n := map[mfa.Algorithm]int{mfa.SHA1: 20, mfa.SHA256: 32, mfa.SHA512: 64}[alg]
	k := make([]byte, n)
	for i := range k {
		k[i] = "1234567890"[i%10]
	}
	return k
}

// TestRFC6238AppendixB checks the reference implementation of the tests against the RFC, so
// that the other tests can trust it.
func TestRFC6238AppendixB_reference(t *testing.T) {
	for _, tt := range rfc6238Vectors {
		if got := refTOTP(tt.alg, rfc6238Key(tt.alg), time.Unix(tt.unix, 0), 8); got != tt.code {
			t.Errorf("refTOTP(%s, %d) = %s, want %s", tt.alg, tt.unix, got, tt.code)
		}
	}
}

// TestRFC6238AppendixB verifies every Appendix B vector with the Verifier, at its time and
// one step later (RFC 6238 §5.2, one step back), and refuses it two steps later
// (ASVS5 6.5.5).
func TestRFC6238AppendixB(t *testing.T) {
	v, _ := newVerifier(t, nil)
	ctx := context.Background()
	for i, tt := range rfc6238Vectors {
		t.Run(fmt.Sprintf("%s@%d", tt.alg, tt.unix), func(t *testing.T) {
			user := fmt.Sprint("vector-", i)
			active, err := v.Import(user, mfa.KeyURL{Secret: rfc6238Key(tt.alg), Algorithm: tt.alg, Digits: 8, Period: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Unix(tt.unix, 0)
			if err := v.Verify(ctx, user, active, tt.code, at.Add(60*time.Second)); !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("Verify(%s) two steps later = %v, want ErrInvalidCode", tt.code, err)
			}
			if err := v.Verify(ctx, user, active, tt.code, at); err != nil {
				t.Errorf("Verify(%s) at %d = %v, want nil", tt.code, tt.unix, err)
			}
			// The same user's store entry now refuses it, one step later too (replay).
			if err := v.Verify(ctx, user, active, tt.code, at.Add(30*time.Second)); !errors.Is(err, mfa.ErrReplayed) {
				t.Errorf("Verify(%s) again = %v, want ErrReplayed", tt.code, err)
			}
		})
	}
}

// TestSecondImplementation enrols users with random secrets and checks that codes made by
// the independent reference implementation are accepted, for each algorithm and length.
func TestSecondImplementation(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		alg    mfa.Algorithm
		digits int
	}{{mfa.SHA1, 6}, {mfa.SHA256, 6}, {mfa.SHA256, 8}, {mfa.SHA512, 8}} {
		t.Run(fmt.Sprint(tt.alg, "/", tt.digits), func(t *testing.T) {
			v, _ := newVerifier(t, func(o *mfa.Options) { o.Algorithm, o.Digits = tt.alg, tt.digits })
			for i := range 20 {
				user := fmt.Sprint("user-", i)
				active, k := enrol(t, v, user, t0)
				if k.Algorithm != tt.alg || k.Digits != tt.digits {
					t.Fatalf("key URL says %s/%d, want %s/%d", k.Algorithm, k.Digits, tt.alg, tt.digits)
				}
				var off [8]byte
				rand.Read(off[:])
				at := t0.Add(time.Duration(1+int(off[0])) * 30 * time.Second).Add(time.Duration(off[1]%30) * time.Second)
				if err := v.Verify(ctx, user, active, refTOTP(tt.alg, k.Secret, at, tt.digits), at); err != nil {
					t.Errorf("user %d at %v: Verify = %v, want nil", i, at, err)
				}
			}
		})
	}
}
