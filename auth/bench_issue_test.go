package auth_test

import (
	"context"
	"crypto"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// BenchmarkIssue is token issuance: claims, a 128-bit jti, the signature.
func BenchmarkIssue(b *testing.B) {
	for _, tt := range []struct {
		alg string
		key crypto.Signer
	}{{"ES256", keys().ec}, {"EdDSA", keys().ed}} {
		b.Run(tt.alg, func(b *testing.B) {
			s := newSigner(b, active(tt.key))
			c := aliceClaims()
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Issue(ctx, c, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefreshRotate is one refresh: the store's compare-and-swap and a new ES256
// access token.
func BenchmarkRefreshRotate(b *testing.B) {
	store, _ := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{})
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: newSigner(b, active(keys().ec)), Store: store,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	tok, err := r.Login(ctx, aliceClaims(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if tok, err = r.Refresh(ctx, tok.Refresh, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevoked is the revocation check the validator makes on every request.
func BenchmarkRevoked(b *testing.B) {
	store := newRevocationStore(b, 0)
	p := auth.Principal{Issuer: issIssuer, Subject: "alice", TokenID: "jti", SessionID: "sid", IssuedAt: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if revoked, _ := store.Revoked(ctx, p); revoked {
				b.Fatal("revoked")
			}
		}
	})
}
