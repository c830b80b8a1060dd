package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/auth/redisstore"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/redis/go-redis/v9"
)

func benchClient(b *testing.B) *redis.Client {
	srv := testredis.Start(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkRevoked is the check the validator makes on every request: one round trip.
func BenchmarkRevoked(b *testing.B) {
	store, err := redisstore.NewRevocationStore(redisstore.Options{Client: benchClient(b)})
	if err != nil {
		b.Fatal(err)
	}
	p := auth.Principal{Issuer: issuer, Subject: "alice", TokenID: "jti", SessionID: "sid", IssuedAt: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.Revoked(ctx, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRefreshRotate is one refresh through Redis: the rotate script and a new ES256
// access token.
func BenchmarkRefreshRotate(b *testing.B) {
	store, err := redisstore.NewRefreshStore(redisstore.Options{Client: benchClient(b)})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := auth.NewSigner(auth.SignerOptions{Issuer: issuer, Keys: []auth.SigningKey{{Signer: key, State: auth.KeyActive}},
		Logger: slog.New(slog.DiscardHandler)})
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: signer, Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tok, err := r.Login(ctx, claims("alice"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if tok, err = r.Refresh(ctx, tok.Refresh, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
