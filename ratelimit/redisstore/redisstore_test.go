package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redisstore"
	"github.com/redis/go-redis/v9"
)

func client(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 64,
		DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newStore(t testing.TB, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := redisstore.New(opts)
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return s
}

var hourly = []ratelimit.Policy{{Name: "h", Limit: 100, Period: time.Hour}}

// Exactness across a fleet (ASVS5 15.4.2, GCRA row of SECURITY-STANDARDS §7): two limiter
// instances with their own clients share one Redis; 64 goroutines hammering one key get
// exactly the limit, never more.
func TestTwoInstancesExact(t *testing.T) {
	srv := testredis.Start(t)
	var handlers []http.Handler
	for range 2 {
		st := newStore(t, redisstore.Options{Client: client(t, srv.Addr), BlockedKeys: -1, Timeout: 5 * time.Second})
		mw, err := ratelimit.New(ratelimit.Options{Policies: hourly, Store: st, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		handlers = append(handlers, mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for range 10 {
				r := httptest.NewRequest("GET", "/", nil)
				r.RemoteAddr = "203.0.113.5:1000"
				w := httptest.NewRecorder()
				handlers[g%2].ServeHTTP(w, r)
				switch w.Code {
				case http.StatusOK:
					allowed.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				default:
					t.Errorf("status %d", w.Code)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 100 || refused.Load() != 540 {
		t.Errorf("allowed %d, refused %d of 640; want exactly 100 allowed", allowed.Load(), refused.Load())
	}
}

// The Redis store gives the same answers as the memory store: same Remaining, Reset within
// the time that passes on the server's clock, charges all policies or none.
func TestSameAsMemory(t *testing.T) {
	srv := testredis.Start(t)
	rs := newStore(t, redisstore.Options{Client: client(t, srv.Addr), BlockedKeys: -1})
	ms, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Name: "a", Limit: 3, Period: time.Hour}, {Name: "b", Limit: 10, Period: 24 * time.Hour, Burst: 5}}
	now := time.Now()
	for i, cost := range []int64{1, 2, 0, 1, 1, 5, 1} {
		got, want := make([]ratelimit.Result, 2), make([]ratelimit.Result, 2)
		if err := rs.Allow(t.Context(), "k", ps, cost, now, got); err != nil {
			t.Fatal(err)
		}
		_ = ms.Allow(t.Context(), "k", ps, cost, now, want)
		for j := range got {
			g, w := got[j], want[j]
			if g.Allowed != w.Allowed || g.Remaining != w.Remaining || absDiff(g.Reset, w.Reset) > time.Second || absDiff(g.RetryAfter, w.RetryAfter) > time.Second {
				t.Errorf("step %d (cost %d) policy %s: redis %+v, memory %+v", i, cost, ps[j].Name, g, w)
			}
		}
	}
}

func absDiff(a, b time.Duration) time.Duration { return max(a-b, b-a) }

// Keys carry a TTL (so Redis never fills with dead keys), never the raw key, and one
// client's keys share a Cluster hash tag.
func TestKeysHaveTTLAndNoRawKey(t *testing.T) {
	srv := testredis.Start(t)
	c := client(t, srv.Addr)
	s := newStore(t, redisstore.Options{Client: c})
	const apiKey = "sk_live_secret_value"
	res := make([]ratelimit.Result, 2)
	ps := []ratelimit.Policy{{Name: "s", Limit: 10, Period: time.Second}, {Name: "d", Limit: 1000, Period: 24 * time.Hour}}
	if err := s.Allow(t.Context(), apiKey, ps, 1, time.Now(), res); err != nil {
		t.Fatal(err)
	}
	keys, _ := c.Keys(t.Context(), "*").Result()
	if len(keys) != 2 {
		t.Fatalf("keys = %q, want 2", keys)
	}
	tag := keys[0][strings.Index(keys[0], "{"):strings.Index(keys[0], "}")]
	for _, k := range keys {
		if strings.Contains(k, apiKey) || !strings.HasPrefix(k, redisstore.DefaultPrefix) || !strings.Contains(k, tag) {
			t.Errorf("key %q: want the prefix, the shared hash tag %q, no raw key", k, tag)
		}
		// The key must outlive the delay it owes (0.1 s or 86.4 s), by at most two expiry
		// slots (1 s for the per-second policy, the 1 min cap for the daily one).
		owed, slot := 100*time.Millisecond, time.Second
		if strings.Contains(k, ":d:") {
			owed, slot = 86400*time.Millisecond, time.Minute
		}
		ttl, _ := c.PTTL(t.Context(), k).Result()
		if ttl <= owed || ttl > owed+2*slot {
			t.Errorf("key %q: PTTL = %v, want in (%v, %v]", k, ttl, owed, owed+2*slot)
		}
	}
}

// After SCRIPT FLUSH (or a failover to a replica without the script) EVALSHA gets NOSCRIPT
// and the store falls back to EVAL once.
func TestNoScript(t *testing.T) {
	srv := testredis.Start(t)
	c := client(t, srv.Addr)
	s := newStore(t, redisstore.Options{Client: c})
	res := make([]ratelimit.Result, 1)
	for range 2 {
		if err := c.ScriptFlush(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.Allow(t.Context(), "k", hourly, 1, time.Now(), res); err != nil || !res[0].Allowed {
			t.Fatalf("after SCRIPT FLUSH: %v, %+v", err, res[0])
		}
	}
}

// Faults: Redis stopped mid-test, in both modes, then restarted: the store recovers by itself
// after RetryInterval, and logs one line per transition.
func TestRedisStoppedAndRestarted(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		name := "fail closed"
		if failOpen {
			name = "fail open"
		}
		t.Run(name, func(t *testing.T) {
			srv := testredis.Start(t)
			var logs bytes.Buffer
			s := newStore(t, redisstore.Options{Client: client(t, srv.Addr), FailOpen: failOpen,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), BlockedKeys: -1})
			ps := []ratelimit.Policy{{Limit: 2, Period: time.Hour}}
			res := make([]ratelimit.Result, 1)
			now := time.Now()
			if err := s.Allow(t.Context(), "k", ps, 1, now, res); err != nil || !res[0].Allowed {
				t.Fatalf("Redis up: %v %+v", err, res[0])
			}
			srv.Stop()
			for i := range 3 {
				err := s.Allow(t.Context(), "k", ps, 1, now, res)
				switch {
				case failOpen && err != nil:
					t.Fatalf("fail open, Redis down, request %d: %v", i, err)
				case failOpen && res[0].Allowed != (i < 2):
					t.Errorf("fail open, request %d: allowed = %v; the local limiter (2 per hour) must apply", i, res[0].Allowed)
				case !failOpen && !errors.Is(err, redisstore.ErrRedis):
					t.Fatalf("fail closed, Redis down: err = %v, want ErrRedis", err)
				}
			}
			if n := strings.Count(logs.String(), "ratelimit_store_down"); n != 1 {
				t.Errorf("%d store_down lines, want 1: %s", n, logs.String())
			}
			srv.Restart()
			// Within RetryInterval Redis is not asked; after it, the store is back by itself.
			later := now.Add(redisstore.DefaultRetryInterval)
			if err := s.Allow(t.Context(), "k", ps, 1, later, res); err != nil || !res[0].Allowed {
				t.Fatalf("Redis back: %v %+v", err, res[0])
			}
			if !strings.Contains(logs.String(), "ratelimit_store_up") {
				t.Errorf("no store_up line: %s", logs.String())
			}
		})
	}
}

// A slow Redis (DEBUG SLEEP) is bounded by Timeout: the decision fails over in time.
func TestRedisSlow(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		srv := testredis.Start(t)
		s := newStore(t, redisstore.Options{Client: client(t, srv.Addr), FailOpen: failOpen, Timeout: 50 * time.Millisecond, BlockedKeys: -1})
		res := make([]ratelimit.Result, 1)
		if err := s.Allow(t.Context(), "k", hourly, 1, time.Now(), res); err != nil {
			t.Fatal(err)
		}
		sleeper := client(t, srv.Addr)
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = sleeper.Do(ctx, "DEBUG", "SLEEP", "0.5").Err()
		}()
		var err error
		var took time.Duration
		for i := 0; ; i++ { // until a call meets the sleeping server
			start := time.Now()
			err = s.Allow(t.Context(), "k", hourly, 1, start, res)
			took = time.Since(start)
			if took >= 40*time.Millisecond || i > 10000 {
				break
			}
		}
		<-done
		if took > 300*time.Millisecond {
			t.Errorf("failOpen=%v: a decision against a sleeping Redis took %v, want about the 50ms Timeout", failOpen, took)
		}
		if failOpen && (err != nil || !res[0].Allowed) {
			t.Errorf("fail open on a slow Redis: %v %+v, want a local decision", err, res[0])
		}
		if !failOpen && !errors.Is(err, redisstore.ErrRedis) {
			t.Errorf("fail closed on a slow Redis: err = %v, want ErrRedis", err)
		}
	}
}

// While a key is known to be over its limit, it is refused from the local cache with no round
// trip (issue item 8): the script is not called again.
func TestBlockedCacheSavesRoundTrips(t *testing.T) {
	srv := testredis.Start(t)
	c := client(t, srv.Addr)
	s := newStore(t, redisstore.Options{Client: c})
	ps := []ratelimit.Policy{{Limit: 1, Period: time.Hour}}
	res := make([]ratelimit.Result, 1)
	now := time.Now()
	_ = s.Allow(t.Context(), "k", ps, 1, now, res)
	_ = s.Allow(t.Context(), "k", ps, 1, now, res) // refused by Redis: cached
	before := scriptCalls(t, c)
	for i := range 100 {
		if err := s.Allow(t.Context(), "k", ps, 1, now.Add(time.Duration(i)*time.Second), res); err != nil || res[0].Allowed {
			t.Fatalf("blocked key: %v %+v", err, res[0])
		}
		if want := time.Hour - time.Duration(i)*time.Second; absDiff(res[0].RetryAfter, want) > time.Second {
			t.Fatalf("cached RetryAfter = %v, want about %v", res[0].RetryAfter, want)
		}
	}
	if after := scriptCalls(t, c); after != before {
		t.Errorf("script calls went from %d to %d while the key was blocked", before, after)
	}
	// After the block ends, Redis is asked again.
	_ = s.Allow(t.Context(), "k", ps, 1, now.Add(2*time.Hour), res)
	if after := scriptCalls(t, c); after != before+1 {
		t.Errorf("script calls %d after the block ended, want %d", after, before+1)
	}
}

func scriptCalls(t *testing.T, c *redis.Client) int {
	info, err := c.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(line, "cmdstat_evalsha:") || strings.HasPrefix(line, "cmdstat_eval:") {
			var calls int
			_, _ = fmtSscanf(line[strings.Index(line, "calls="):], &calls)
			n += calls
		}
	}
	return n
}

func TestOptionsErrors(t *testing.T) {
	if _, err := redisstore.New(redisstore.Options{}); err == nil || !strings.Contains(err.Error(), "Client") {
		t.Errorf("no client: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	_, err := redisstore.New(redisstore.Options{Client: c, Timeout: -1, RetryInterval: -1})
	for _, want := range []string{"ContextTimeoutEnabled", "Timeout", "RetryInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func fmtSscanf(s string, calls *int) (int, error) { return fmt.Sscanf(s, "calls=%d", calls) }
