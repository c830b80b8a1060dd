package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/auth/redisstore"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/redis/go-redis/v9"
)

const (
	issuer   = "https://login.test"
	audience = "api://notes"
)

func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func newRevocations(t *testing.T, c redis.UniversalClient) *redisstore.RevocationStore {
	t.Helper()
	s, err := redisstore.NewRevocationStore(redisstore.Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newRefreshStore(t *testing.T, c redis.UniversalClient) *redisstore.RefreshStore {
	t.Helper()
	s, err := redisstore.NewRefreshStore(redisstore.Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSigner(t *testing.T) *auth.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := auth.NewSigner(auth.SignerOptions{Issuer: issuer, Keys: []auth.SigningKey{{Signer: key, State: auth.KeyActive}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validator is one server's auth.New, checking rev.
func validator(t *testing.T, s *auth.Signer, rev auth.RevocationStore) http.Handler {
	t.Helper()
	mw, err := auth.New(auth.Options{
		Issuers:    []auth.Issuer{{Issuer: issuer, Audience: audience, Keys: s.VerificationKeys()}},
		Revocation: rev,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
}

func status(h http.Handler, tok string) int {
	r := httptest.NewRequest("GET", "https://api.test/notes", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func claims(sub string) auth.AccessClaims {
	return auth.AccessClaims{Subject: sub, Audience: []string{audience}, ClientID: "notes-web", AMR: []string{"pwd"}}
}

func TestOptions(t *testing.T) {
	if _, err := redisstore.NewRevocationStore(redisstore.Options{}); err == nil || !strings.Contains(err.Error(), "Options.Client") {
		t.Errorf("NewRevocationStore(zero) = %v, want an error naming Options.Client", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	_, err := redisstore.NewRefreshStore(redisstore.Options{Client: c, Timeout: -1})
	if err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") || !strings.Contains(err.Error(), "Options.Timeout") {
		t.Errorf("NewRefreshStore(no context timeouts, negative timeout) = %v, want both named", err)
	}
}

// A logout on one server is refused by another sharing one real Redis (ASVS5 7.4.1, 7.4.2;
// SECURITY-STANDARDS §4 row 18).
func TestRevocationAcrossServers(t *testing.T) {
	srv := testredis.Start(t)
	s := newSigner(t)
	storeA, storeB := newRevocations(t, newClient(t, srv.Addr)), newRevocations(t, newClient(t, srv.Addr))
	serverA, serverB := validator(t, s, storeA), validator(t, s, storeB)
	ctx := context.Background()
	now := time.Now()

	alice, _ := s.Issue(ctx, claims("alice"), now)
	alice2, _ := s.Issue(ctx, claims("alice"), now)
	bob, _ := s.Issue(ctx, claims("bob"), now)
	carol := claims("carol")
	carol.SessionID = "family-c"
	carolTok, _ := s.Issue(ctx, carol, now)
	for _, tok := range []string{alice.Token, bob.Token, carolTok.Token} {
		if a, b := status(serverA, tok), status(serverB, tok); a != 200 || b != 200 {
			t.Fatalf("before logout: %d, %d; want 200", a, b)
		}
	}

	// Logout of alice's first token on server A.
	if err := storeA.RevokeToken(ctx, issuer, alice.ID, alice.Expiry); err != nil {
		t.Fatal(err)
	}
	if got := status(serverB, alice.Token); got != http.StatusUnauthorized {
		t.Errorf("server B, logged-out token: status = %d, want 401", got)
	}
	if got := status(serverB, alice2.Token); got != http.StatusOK {
		t.Errorf("server B, alice's other token: status = %d, want 200", got)
	}
	// bob's account disabled on server B: A refuses every token bob holds.
	bobKey := auth.Principal{Issuer: issuer, Subject: "bob"}.Key()
	if err := storeB.RevokeSubject(ctx, bobKey, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := status(serverA, bob.Token); got != http.StatusUnauthorized {
		t.Errorf("server A, disabled subject: status = %d, want 401", got)
	}
	// carol's session revoked on A: B refuses its access tokens.
	if err := storeA.RevokeFamily(ctx, "family-c", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := status(serverB, carolTok.Token); got != http.StatusUnauthorized {
		t.Errorf("server B, revoked session: status = %d, want 401", got)
	}

	// Every key has a TTL, and none names a token id, subject or session.
	c := newClient(t, srv.Addr)
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys = %q, %v; want 3", keys, err)
	}
	for _, k := range keys {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
		for _, secret := range []string{alice.ID, "bob", "family-c"} {
			if strings.Contains(k, secret) {
				t.Errorf("key %q contains %q", k, secret)
			}
		}
	}
}

// A second, shorter revocation never shortens the first; an earlier not-before never
// undoes a later one.
func TestRevocationNeverWeakens(t *testing.T) {
	srv := testredis.Start(t)
	c := newClient(t, srv.Addr)
	store := newRevocations(t, c)
	ctx := context.Background()
	now := time.Now()
	_ = store.RevokeSubject(ctx, "k", now, now.Add(time.Hour))
	_ = store.RevokeSubject(ctx, "k", now.Add(-time.Hour), now.Add(time.Minute))
	keys, _ := c.Keys(ctx, "*").Result()
	if len(keys) != 1 {
		t.Fatalf("keys = %q", keys)
	}
	if ttl := c.PTTL(ctx, keys[0]).Val(); ttl < 59*time.Minute {
		t.Errorf("TTL = %v, want the longer hour kept", ttl)
	}
	if v, _ := c.Get(ctx, keys[0]).Int64(); v != now.UnixMilli() {
		t.Errorf("not-before = %d, want the later %d", v, now.UnixMilli())
	}
}

// Redis down: the store reports ErrRedis and the validator answers 503, never an allow
// (ASVS5 16.5.3).
func TestRevocationRedisDown(t *testing.T) {
	srv := testredis.Start(t)
	s := newSigner(t)
	store := newRevocations(t, newClient(t, srv.Addr))
	h := validator(t, s, store)
	tok, _ := s.Issue(context.Background(), claims("alice"), time.Now())
	srv.Stop()
	if _, err := store.Revoked(context.Background(), auth.Principal{Issuer: issuer, Subject: "alice", TokenID: tok.ID}); !errors.Is(err, redisstore.ErrRedis) {
		t.Errorf("Revoked with Redis down: err = %v, want ErrRedis", err)
	}
	if err := store.RevokeToken(context.Background(), issuer, tok.ID, tok.Expiry); !errors.Is(err, redisstore.ErrRedis) {
		t.Errorf("RevokeToken with Redis down: err = %v, want ErrRedis", err)
	}
	if got := status(h, tok.Token); got != http.StatusServiceUnavailable {
		t.Errorf("validator with Redis down: status = %d, want 503", got)
	}
}

func newRefresher(t *testing.T, s *auth.Signer, store auth.RefreshStore, rev auth.FamilyRevoker) *auth.Refresher {
	t.Helper()
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: s, Store: store, Revocation: rev, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Rotation and reuse detection across two servers sharing one Redis (RFC 9700 §4.14.2):
// a token rotated on A and replayed on B revokes the family everywhere.
func TestRefreshAcrossServers(t *testing.T) {
	srv := testredis.Start(t)
	s := newSigner(t)
	rev := newRevocations(t, newClient(t, srv.Addr))
	a := newRefresher(t, s, newRefreshStore(t, newClient(t, srv.Addr)), rev)
	b := newRefresher(t, s, newRefreshStore(t, newClient(t, srv.Addr)), rev)
	h := validator(t, s, rev)
	ctx := context.Background()
	now := time.Now()

	t0, err := a.Login(ctx, claims("alice"), now)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := b.Refresh(ctx, t0.Refresh, now)
	if err != nil {
		t.Fatalf("refresh on B: %v", err)
	}
	if status(h, t1.Access.Token) != 200 {
		t.Fatal("refreshed access token refused")
	}
	t2, err := a.Refresh(ctx, t1.Refresh, now)
	if err != nil {
		t.Fatalf("refresh on A: %v", err)
	}
	if _, err := b.Refresh(ctx, t0.Refresh, now); !errors.Is(err, auth.ErrRefreshReused) {
		t.Fatalf("replay on B: err = %v, want ErrRefreshReused", err)
	}
	if _, err := a.Refresh(ctx, t2.Refresh, now); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("newest token after reuse: err = %v, want ErrRefreshInvalid", err)
	}
	if got := status(h, t2.Access.Token); got != http.StatusUnauthorized {
		t.Errorf("access token of the revoked family: status = %d, want 401", got)
	}

	// A forged secret for a live family is refused without revoking it.
	t3, _ := a.Login(ctx, claims("bob"), now)
	fam, _, _ := strings.Cut(t3.Refresh, ".")
	if _, err := b.Refresh(ctx, fam+"."+strings.Repeat("A", 43), now); !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
		t.Errorf("forged secret: err = %v, want ErrRefreshInvalid only", err)
	}
	if _, err := b.Refresh(ctx, t3.Refresh, now); err != nil {
		t.Errorf("family harmed by a forgery: %v", err)
	}

	// Logout on B ends the session on A.
	t4, _ := a.Login(ctx, claims("carol"), now)
	sid, _, _ := strings.Cut(t4.Refresh, ".")
	if err := b.RevokeSession(ctx, sid, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, t4.Refresh, now); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("refresh after logout: err = %v", err)
	}
	if got := status(h, t4.Access.Token); got != http.StatusUnauthorized {
		t.Errorf("access token after logout: status = %d, want 401", got)
	}
}

// Idle and absolute ends are enforced by the store with the caller's clock.
func TestRefreshLifetimes(t *testing.T) {
	srv := testredis.Start(t)
	s := newSigner(t)
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: s, Store: newRefreshStore(t, newClient(t, srv.Addr)),
		IdleTimeout: time.Hour, AbsoluteLifetime: 2 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	tok, _ := r.Login(ctx, claims("alice"), now)
	if _, err := r.Refresh(ctx, tok.Refresh, now.Add(time.Hour)); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("past idle: err = %v, want ErrRefreshInvalid", err)
	}
	tok, _ = r.Login(ctx, claims("alice"), now)
	next, err := r.Refresh(ctx, tok.Refresh, now.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Refresh(ctx, next.Refresh, now.Add(2*time.Hour)); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("past absolute: err = %v, want ErrRefreshInvalid", err)
	}
}

// Racing refreshes with one token on two servers: exactly one wins.
func TestRefreshConcurrent(t *testing.T) {
	srv := testredis.Start(t)
	s := newSigner(t)
	refreshers := []*auth.Refresher{
		newRefresher(t, s, newRefreshStore(t, newClient(t, srv.Addr)), nil),
		newRefresher(t, s, newRefreshStore(t, newClient(t, srv.Addr)), nil),
	}
	tok, _ := refreshers[0].Login(context.Background(), claims("alice"), time.Now())
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := refreshers[i%2].Refresh(context.Background(), tok.Refresh, time.Now()); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d refreshes succeeded, want exactly 1", ok.Load())
	}
}

// Only the last RefreshHistory rotated-out tokens count as reuse.
func TestRefreshHistoryBound(t *testing.T) {
	srv := testredis.Start(t)
	r := newRefresher(t, newSigner(t), newRefreshStore(t, newClient(t, srv.Addr)), nil)
	ctx := context.Background()
	now := time.Now()
	tok, _ := r.Login(ctx, claims("alice"), now)
	var seen []string
	for range auth.RefreshHistory + 2 {
		seen = append(seen, tok.Refresh)
		var err error
		if tok, err = r.Refresh(ctx, tok.Refresh, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Refresh(ctx, seen[0], now); !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
		t.Errorf("token older than the history: err = %v, want ErrRefreshInvalid only", err)
	}
	if _, err := r.Refresh(ctx, seen[len(seen)-auth.RefreshHistory], now); !errors.Is(err, auth.ErrRefreshReused) {
		t.Errorf("oldest remembered token: err = %v, want ErrRefreshReused", err)
	}
}
