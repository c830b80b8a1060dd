package redisstore_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
	"github.com/bulwark-go/bulwark/auth/mfa/redisstore"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/redis/go-redis/v9"
)

func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func newStore(t *testing.T, c redis.UniversalClient) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(redisstore.Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewOptions(t *testing.T) {
	if _, err := redisstore.New(redisstore.Options{}); err == nil || !strings.Contains(err.Error(), "Options.Client") {
		t.Errorf("New(zero) = %v, want an error naming Options.Client", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	_, err := redisstore.New(redisstore.Options{Client: c, Timeout: -1})
	if err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") || !strings.Contains(err.Error(), "Options.Timeout") {
		t.Errorf("New(no context timeouts, negative timeout) = %v, want both named", err)
	}
}

// TestAdvance: the script's compare-and-set, its TTL, and hashed keys.
func TestAdvance(t *testing.T) {
	srv := testredis.Start(t)
	c := newClient(t, srv.Addr)
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now()
	for _, tt := range []struct {
		key  string
		step int64
		want bool
	}{
		{"totp\x00alice", 59_000_000, true},
		{"totp\x00alice", 59_000_000, false},
		{"totp\x00alice", 58_999_999, false},
		{"totp\x00alice", 59_000_001, true},
		{"totp\x00bob", 1, true},
		{"totp\x00alice", 1 << 52, true},
	} {
		got, err := s.Advance(ctx, tt.key, tt.step, now, time.Minute)
		if err != nil || got != tt.want {
			t.Errorf("Advance(%q, %d) = %v, %v; want %v", tt.key, tt.step, got, err, tt.want)
		}
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys = %v, %v; want 2", keys, err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, redisstore.DefaultPrefix) || strings.Contains(k, "alice") || strings.Contains(k, "bob") {
			t.Errorf("key %q: want the prefix and no user id", k)
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("PTTL(%q) = %v, %v; want within a minute", k, ttl, err)
		}
	}
}

// TestReplayAcrossVerifiers: two Verifiers, as on two servers, share one real Redis through
// their own connections: a code accepted by one is refused by the other (RFC 6238 §5.2,
// ASVS5 6.5.1), and so is a used recovery code, and of many concurrent submissions of one
// code across both, exactly one is accepted.
func TestReplayAcrossVerifiers(t *testing.T) {
	srv := testredis.Start(t)
	key := mfa.SealKey{ID: "k1", Key: make([]byte, mfa.SealKeySize)}
	rand.Read(key.Key)
	hasher, err := mfa.NewHasher(mfa.HasherOptions{Memory: 64, Iterations: 1, UnsafeWeakParams: true})
	if err != nil {
		t.Fatal(err)
	}
	newVerifier := func() *mfa.Verifier {
		sealer, err := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{key}})
		if err != nil {
			t.Fatal(err)
		}
		v, err := mfa.New(mfa.Options{
			Issuer: "Fleet", Sealer: sealer, Store: newStore(t, newClient(t, srv.Addr)),
			Hasher: hasher, UnsafeNoAttemptLimit: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a, b := newVerifier(), newVerifier()
	ctx := context.Background()

	now := time.Now()
	e, err := a.Enroll("alice", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := mfa.ParseKeyURL(e.URL)
	active, err := b.Confirm(ctx, "alice", e.Pending, totp(k.Secret, now.Add(-30*time.Second)), now)
	if err != nil {
		t.Fatalf("Confirm on b = %v", err)
	}
	code := totp(k.Secret, now)
	if err := a.Verify(ctx, "alice", active, code, now); err != nil {
		t.Fatalf("Verify on a = %v", err)
	}
	if err := b.Verify(ctx, "alice", active, code, now); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("same code on b = %v, want ErrReplayed", err)
	}
	if err := b.Verify(ctx, "alice", active, totp(k.Secret, now.Add(-30*time.Second)), now); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("earlier step on b = %v, want ErrReplayed", err)
	}

	codes, stored, err := a.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Recover(ctx, "alice", stored, codes[3], now); err != nil {
		t.Fatalf("Recover on a = %v", err)
	}
	// b still has the old set (a has not saved the new one yet): Redis refuses the code.
	if _, err := b.Recover(ctx, "alice", stored, codes[3], now); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("used recovery code on b = %v, want ErrReplayed", err)
	}

	// Concurrent submissions of one fresh code, half on each server.
	later := now.Add(30 * time.Second)
	code = totp(k.Secret, later)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := range 20 {
		v := a
		if i%2 == 1 {
			v = b
		}
		wg.Go(func() {
			if v.Verify(ctx, "alice", active, code, later) == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("%d of 20 concurrent submissions accepted across two servers, want 1", accepted)
	}
}

// TestRedisDown: with Redis gone, verification fails closed (ErrUnavailable wrapping
// ErrRedis), and works again once Redis is back (ASVS5 16.5.3).
func TestRedisDown(t *testing.T) {
	srv := testredis.Start(t)
	s, err := redisstore.New(redisstore.Options{Client: newClient(t, srv.Addr), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{{ID: "k", Key: make32()}}})
	v, err := mfa.New(mfa.Options{Issuer: "Fleet", Sealer: sealer, Store: s, UnsafeNoAttemptLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := make([]byte, 20)
	active, _ := v.Import("u", mfa.KeyURL{Secret: secret, Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second})
	now := time.Now()

	srv.Stop()
	err = v.Verify(ctx, "u", active, totp(secret, now), now)
	if !errors.Is(err, mfa.ErrUnavailable) || !errors.Is(err, redisstore.ErrRedis) {
		t.Errorf("Verify with Redis down = %v, want ErrUnavailable wrapping ErrRedis", err)
	}
	srv.Restart()
	if err := v.Verify(ctx, "u", active, totp(secret, now), now); err != nil {
		t.Errorf("Verify after Redis is back = %v, want nil", err)
	}
}

func make32() []byte {
	b := make([]byte, mfa.SealKeySize)
	rand.Read(b)
	return b
}

// totp is an independent RFC 6238 TOTP (SHA-1, 6 digits, 30 s) with crypto/hmac.
func totp(secret []byte, t time.Time) string {
	mac := hmac.New(sha1.New, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1_000_000)
}
