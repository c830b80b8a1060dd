package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

type refreshFixture struct {
	signer  *auth.Signer
	store   *auth.MemoryRefreshStore
	revoked *auth.MemoryRevocationStore
	r       *auth.Refresher
	logs    *logBuffer
}

func newRefreshFixture(t testing.TB, idle, absolute time.Duration) *refreshFixture {
	t.Helper()
	f := &refreshFixture{signer: newSigner(t, active(keys().ec)), revoked: newRevocationStore(t, 0), logs: &logBuffer{}}
	var err error
	if f.store, err = auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{}); err != nil {
		t.Fatal(err)
	}
	f.r, err = auth.NewRefresher(auth.RefreshOptions{
		Signer: f.signer, Store: f.store, Revocation: f.revoked,
		IdleTimeout: idle, AbsoluteLifetime: absolute,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Each use rotates the token; presenting a rotated token again revokes the whole family,
// its newest refresh token and its access tokens included (RFC 9700 §4.14.2), and logs
// authn_token_reuse (CS-Logging_Vocabulary) without any token.
func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, 0, 0)
	h := validatorFor(t, f.signer, f.revoked)
	now := time.Now()

	t0, err := f.r.Login(ctx, aliceClaims(), now)
	if err != nil {
		t.Fatal(err)
	}
	p, code := principalOf(t, f.signer, t0.Access.Token)
	if code != http.StatusOK || p.SessionID == "" || !strings.HasPrefix(t0.Refresh, p.SessionID+".") {
		t.Fatalf("login access token: %d, sid %q", code, p.SessionID)
	}
	t1, err := f.r.Refresh(ctx, t0.Refresh, now.Add(time.Second))
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if t1.Refresh == t0.Refresh || t1.Access.ID == t0.Access.ID {
		t.Fatal("refresh did not rotate the tokens")
	}
	p1, _ := principalOf(t, f.signer, t1.Access.Token)
	if p1.SessionID != p.SessionID || !p1.AuthTime.Equal(p.AuthTime) || p1.Subject != "alice" {
		t.Errorf("refreshed principal %+v, want the family's claims and auth_time", p1)
	}
	t2, err := f.r.Refresh(ctx, t1.Refresh, now.Add(2*time.Second))
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}

	// The thief replays t0 (two rotations old).
	_, err = f.r.Refresh(ctx, t0.Refresh, now.Add(3*time.Second))
	if !errors.Is(err, auth.ErrRefreshReused) || !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Fatalf("reuse: err = %v, want ErrRefreshReused and ErrRefreshInvalid", err)
	}
	if _, err := f.r.Refresh(ctx, t2.Refresh, now.Add(4*time.Second)); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("newest token after reuse: err = %v, want ErrRefreshInvalid (family revoked)", err)
	}
	for name, tok := range map[string]string{"login": t0.Access.Token, "latest": t2.Access.Token} {
		wantInvalidToken(t, serve(h, bearerRequest(tok)), tok)
		_ = name
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"authn_token_reuse"`) || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("log lacks authn_token_reuse at ERROR: %s", logs)
	}
	for _, secret := range []string{t0.Refresh, t1.Refresh, t2.Refresh, t0.Access.Token, p.SessionID} {
		if strings.Contains(logs, secret) {
			t.Error("the log contains a token or family id (CS-Logging data to exclude)")
		}
	}
}

// Idle and absolute lifetimes (ASVS5 7.3.1, 7.3.2).
func TestRefreshLifetimes(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, time.Hour, 3*time.Hour)
	start := time.Now()
	tok, err := f.r.Login(ctx, aliceClaims(), start)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.RefreshExpiry.Equal(start.Add(time.Hour)) {
		t.Errorf("RefreshExpiry = %v, want login + idle", tok.RefreshExpiry)
	}
	// Used every 50 minutes, the family lives until its absolute end and not beyond.
	now := start
	for i := 1; ; i++ {
		now = start.Add(time.Duration(i) * 50 * time.Minute)
		next, err := f.r.Refresh(ctx, tok.Refresh, now)
		if now.Sub(start) >= 3*time.Hour {
			if !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
				t.Errorf("at %v: err = %v, want ErrRefreshInvalid past the absolute lifetime", now.Sub(start), err)
			}
			break
		}
		if err != nil {
			t.Fatalf("at %v: %v", now.Sub(start), err)
		}
		if next.RefreshExpiry.After(start.Add(3 * time.Hour)) {
			t.Errorf("RefreshExpiry %v is past the absolute end", next.RefreshExpiry.Sub(start))
		}
		tok = next
	}

	idle, _ := f.r.Login(ctx, aliceClaims(), start)
	if _, err := f.r.Refresh(ctx, idle.Refresh, start.Add(time.Hour)); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("after the idle timeout: err = %v, want ErrRefreshInvalid", err)
	}
}

// Malformed tokens, and a guessed secret for a known family, are refused without revoking
// the family: only a token that really was part of it counts as reuse.
func TestRefreshRefusesForgeries(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, 0, 0)
	now := time.Now()
	tok, _ := f.r.Login(ctx, aliceClaims(), now)
	family, _, _ := strings.Cut(tok.Refresh, ".")
	for _, bad := range []string{
		"", "x", tok.Refresh + "A", tok.Refresh[:len(tok.Refresh)-1], strings.Replace(tok.Refresh, ".", "_", 1),
		family + "." + strings.Repeat("A", 43), strings.Repeat("A", 22) + "." + tok.Refresh[23:],
		family + ".+" + tok.Refresh[24:], " " + tok.Refresh[1:],
	} {
		_, err := f.r.Refresh(ctx, bad, now)
		if !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
			t.Errorf("%q: err = %v, want ErrRefreshInvalid only", bad, err)
		}
	}
	if _, err := f.r.Refresh(ctx, tok.Refresh, now); err != nil {
		t.Errorf("the family was harmed by forgeries: %v", err)
	}
}

// Two requests racing with one token: exactly one rotates it.
func TestRefreshConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, 0, 0)
	now := time.Now()
	tok, _ := f.r.Login(ctx, aliceClaims(), now)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := f.r.Refresh(ctx, tok.Refresh, now); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d refreshes succeeded, want exactly 1", ok.Load())
	}
}

func TestRevokeSession(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, 0, 0)
	h := validatorFor(t, f.signer, f.revoked)
	now := time.Now()
	tok, _ := f.r.Login(ctx, aliceClaims(), now)
	other, _ := f.r.Login(ctx, aliceClaims(), now) // the same user on another device
	p, _ := principalOf(t, f.signer, tok.Access.Token)
	if err := f.r.RevokeSession(ctx, p.SessionID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Refresh(ctx, tok.Refresh, now); !errors.Is(err, auth.ErrRefreshInvalid) {
		t.Errorf("refresh after logout: err = %v, want ErrRefreshInvalid", err)
	}
	wantInvalidToken(t, serve(h, bearerRequest(tok.Access.Token)), tok.Access.Token)
	if w := serve(h, bearerRequest(other.Access.Token)); w.Code != http.StatusOK {
		t.Errorf("other session: status = %d, want 200", w.Code)
	}
	if _, err := f.r.Refresh(ctx, other.Refresh, now); err != nil {
		t.Errorf("other session refresh: %v", err)
	}
	if !strings.Contains(f.logs.String(), `"msg":"authn_token_revoked"`) {
		t.Error("logout not logged as authn_token_revoked")
	}
}

// recordingStore shows what reaches a store: only hashes, never the token.
type recordingStore struct {
	auth.RefreshStore
	mu     sync.Mutex
	hashes [][32]byte
	family []auth.RefreshFamily
}

func (s *recordingStore) Create(ctx context.Context, f auth.RefreshFamily, hash [32]byte, idle time.Time) error {
	s.mu.Lock()
	s.hashes, s.family = append(s.hashes, hash), append(s.family, f)
	s.mu.Unlock()
	return s.RefreshStore.Create(ctx, f, hash, idle)
}

func (s *recordingStore) Rotate(ctx context.Context, family string, old, next [32]byte, now, idle time.Time) (auth.RefreshFamily, error) {
	s.mu.Lock()
	s.hashes = append(s.hashes, old, next)
	s.mu.Unlock()
	return s.RefreshStore.Rotate(ctx, family, old, next, now, idle)
}

// Refresh tokens are 256-bit random secrets stored only as their SHA-256 (ASVS5 7.2.3,
// 11.5.1).
func TestRefreshStoredAsHash(t *testing.T) {
	mem, _ := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{})
	rec := &recordingStore{RefreshStore: mem}
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: newSigner(t, active(keys().ec)), Store: rec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := r.Login(context.Background(), aliceClaims(), time.Now())
	next, _ := r.Refresh(context.Background(), tok.Refresh, time.Now())
	_, secret, _ := strings.Cut(tok.Refresh, ".")
	if len(secret) != 43 {
		t.Errorf("secret part has %d characters, want 43 (256 bits)", len(secret))
	}
	if rec.hashes[0] != sha256.Sum256([]byte(tok.Refresh)) || rec.hashes[1] != rec.hashes[0] || rec.hashes[2] != sha256.Sum256([]byte(next.Refresh)) {
		t.Error("the store did not receive the SHA-256 of the tokens")
	}
	if rec.family[0].Claims.SessionID != rec.family[0].ID || strings.Contains(rec.family[0].ID, secret) {
		t.Error("family record wrong or holds the secret")
	}
}

func TestNewRefresherRefusesBadOptions(t *testing.T) {
	s := newSigner(t, active(keys().ec))
	store, _ := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{})
	for _, tt := range []struct {
		opts  auth.RefreshOptions
		field string
	}{
		{auth.RefreshOptions{}, "Signer"},
		{auth.RefreshOptions{}, "Store"},
		{auth.RefreshOptions{Signer: s, Store: store, AbsoluteLifetime: time.Minute}, "AbsoluteLifetime"},
		{auth.RefreshOptions{Signer: s, Store: store, AbsoluteLifetime: time.Hour, IdleTimeout: 2 * time.Hour}, "IdleTimeout"},
		{auth.RefreshOptions{Signer: s, Store: store, IdleTimeout: -time.Minute}, "IdleTimeout"},
	} {
		if _, err := auth.NewRefresher(tt.opts); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: err = %v, want one naming %s", tt.opts, err, tt.field)
		}
	}
}

// Only the last RefreshHistory rotated-out tokens count as reuse; older ones are refused.
func TestRefreshHistoryBound(t *testing.T) {
	ctx := context.Background()
	f := newRefreshFixture(t, 0, 0)
	now := time.Now()
	tok, _ := f.r.Login(ctx, aliceClaims(), now)
	var seen []string
	for range auth.RefreshHistory + 2 {
		seen = append(seen, tok.Refresh)
		var err error
		if tok, err = f.r.Refresh(ctx, tok.Refresh, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.r.Refresh(ctx, seen[0], now); !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
		t.Errorf("token older than the history: err = %v, want ErrRefreshInvalid only", err)
	}
	if _, err := f.r.Refresh(ctx, seen[len(seen)-auth.RefreshHistory], now); !errors.Is(err, auth.ErrRefreshReused) {
		t.Errorf("oldest remembered token: err = %v, want ErrRefreshReused", err)
	}
}

// A full store refuses new logins rather than forgetting live families, and makes room
// once families have ended.
func TestMemoryRefreshStoreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, err := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{MaxFamilies: 1})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := auth.NewRefresher(auth.RefreshOptions{Signer: newSigner(t, active(keys().ec)), Store: store,
			IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		ctx := context.Background()
		if _, err := r.Login(ctx, aliceClaims(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Login(ctx, aliceClaims(), time.Now()); !errors.Is(err, auth.ErrStoreFull) {
			t.Errorf("second family: err = %v, want ErrStoreFull", err)
		}
		time.Sleep(time.Hour) // the first family's idle end
		if _, err := r.Login(ctx, aliceClaims(), time.Now()); err != nil {
			t.Errorf("after the first family ended: %v", err)
		}
	})
	if _, err := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{MaxFamilies: -1}); err == nil {
		t.Error("negative MaxFamilies accepted")
	}
}
