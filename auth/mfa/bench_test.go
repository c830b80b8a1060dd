package mfa_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// BenchmarkVerify measures one verification through the memory store: "accept" moves to a
// new time step each iteration (including the reference code generation), "wrong" is a
// refused code, "parallel" spreads accepted codes over many users.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	b.Run("accept", func(b *testing.B) {
		v, _ := newVerifier(b, nil)
		active, k := enrol(b, v, "u", t0)
		now := t0
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(30 * time.Second)
			if err := v.Verify(ctx, "u", active, refTOTP(k.Algorithm, k.Secret, now, 6), now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wrong", func(b *testing.B) {
		v, _ := newVerifier(b, nil)
		active, k := enrol(b, v, "u", t0)
		now := t0.Add(time.Hour)
		wrong := refTOTP(k.Algorithm, k.Secret, t0, 6)
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Verify(ctx, "u", active, wrong, now)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		v, _ := newVerifier(b, nil)
		const users = 64
		actives := make([]string, users)
		keys := make([]mfa.KeyURL, users)
		for i := range users {
			actives[i], keys[i] = enrol(b, v, fmt.Sprint("u", i), t0)
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				i := int(n % users)
				now := t0.Add(time.Duration(n/users+1) * 30 * time.Second)
				_ = v.Verify(ctx, fmt.Sprint("u", i), actives[i], refTOTP(keys[i].Algorithm, keys[i].Secret, now, 6), now)
			}
		})
	})
}

// BenchmarkPassword measures argon2id at the default (OWASP minimum) parameters.
func BenchmarkPassword(b *testing.B) {
	h, err := mfa.NewHasher(mfa.HasherOptions{})
	if err != nil {
		b.Fatal(err)
	}
	stored, _ := h.Hash("correct horse battery staple")
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Hash("correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Verify("correct horse battery staple", stored); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refuse-too-long", func(b *testing.B) {
		huge := string(make([]byte, 1<<20))
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Verify(huge, stored)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	s := newSealer(b)
	secret := make([]byte, 23)
	sealed, _ := s.Seal("user-42", secret)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Seal("user-42", secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Open("user-42", sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.Run("PasswordHash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = mfa.ParsePasswordHash(phcCases[0].in)
		}
	})
	b.Run("KeyURL", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = mfa.ParseKeyURL(keyURLCases[0].in)
		}
	})
}
