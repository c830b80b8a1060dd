package redisstore_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redisstore"
)

// RFC4226 §7.3, NIST-63B4 §3.2.2 on Redis: two servers share one account's failures; the
// ban starts at MaxFailures, grows, and a success resets it.
func TestGuardOnRedis_NIST(t *testing.T) {
	srv := testredis.Start(t)
	c := client(t, srv.Addr)
	stores := []*redisstore.Store{newStore(t, redisstore.Options{Client: c}), newStore(t, redisstore.Options{Client: client(t, srv.Addr)})}
	rule := ratelimit.GuardRule{MaxFailures: 4, Window: time.Hour, Ban: time.Minute, MaxBan: 3 * time.Minute}
	now := time.Now()
	endBan := func() { // as if the ban had run out: Redis keeps time, the test cannot wait
		keys, _ := c.Keys(t.Context(), "*guard*").Result()
		for _, k := range keys {
			c.HSet(t.Context(), k, "until", 0)
		}
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute} {
		for j := range 4 {
			ban, err := stores[j%2].Fail(t.Context(), "alice", rule, now)
			if err != nil {
				t.Fatal(err)
			}
			if (j == 3) != (ban > 0) || (ban > 0 && ban != want) {
				t.Fatalf("ban %d, failure %d: ban = %v, want %v on the 4th only", i, j+1, ban, want)
			}
		}
		left, err := stores[1].Banned(t.Context(), "alice", now)
		if err != nil || left <= want-time.Second || left > want {
			t.Fatalf("Banned = %v, %v; want about %v", left, err, want)
		}
		if ban, _ := stores[0].Fail(t.Context(), "alice", rule, now); ban != 0 {
			t.Errorf("a failure during a ban started another: %v", ban)
		}
		endBan()
		_ = stores[0].Reset(t.Context(), "nobody") // no effect on alice
	}
	if err := stores[0].Reset(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	for j := range 3 {
		if ban, _ := stores[0].Fail(t.Context(), "alice", rule, now); ban != 0 {
			t.Fatalf("after a success, failure %d banned", j+1)
		}
	}
}

// The Guard middleware works unchanged on the Redis store.
func TestGuardMiddlewareOnRedis(t *testing.T) {
	srv := testredis.Start(t)
	st := newStore(t, redisstore.Options{Client: client(t, srv.Addr)})
	mw, err := ratelimit.Guard(ratelimit.GuardOptions{Store: st, MaxFailures: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ratelimit.ReportFailure(r.Context())
		w.WriteHeader(http.StatusUnauthorized)
	}))
	codes := []int{}
	for range 3 {
		r := httptest.NewRequest("POST", "/login", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if codes[0] != 401 || codes[1] != 401 || codes[2] != 429 {
		t.Errorf("statuses %v, want [401 401 429]", codes)
	}
}
