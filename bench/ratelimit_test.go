package bench

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redisstore"
	"github.com/didip/tollbooth/v8"
	tblimiter "github.com/didip/tollbooth/v8/limiter"
	"github.com/go-chi/httprate"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"
	ulule "github.com/ulule/limiter/v3"
	ulstdlib "github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"
	"golang.org/x/time/rate"
)

// A limit no benchmark reaches, so that every request takes the allow path.
const (
	rlHuge   = 1_000_000_000
	rlWindow = time.Hour
)

// rlPeer is one middleware under test. Every peer keys by the client address (RemoteAddr).
type rlPeer struct {
	name string
	mw   func(b *testing.B) func(http.Handler) http.Handler
}

var rlMemoryPeers = []rlPeer{
	{"bare", func(*testing.B) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler { return h }
	}},
	{"bulwark", func(b *testing.B) func(http.Handler) http.Handler {
		return rlBulwark(b, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: rlHuge, Period: rlWindow}}, OmitHeaders: true})
	}},
	{"bulwark-headers", func(b *testing.B) func(http.Handler) http.Handler {
		return rlBulwark(b, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: rlHuge, Period: rlWindow}}})
	}},
	{"httprate", func(*testing.B) func(http.Handler) http.Handler {
		//lint:ignore SA1019 keyed by the TCP peer, as bulwark is in this benchmark
		return httprate.LimitBy(rlHuge, rlWindow, httprate.KeyByIP)
	}},
	{"ulule", func(*testing.B) func(http.Handler) http.Handler {
		l := ulule.New(ulmemory.NewStore(), ulule.Rate{Period: rlWindow, Limit: rlHuge})
		return ulstdlib.NewMiddleware(l).Handler
	}},
	{"tollbooth", func(*testing.B) func(http.Handler) http.Handler {
		l := tollbooth.NewLimiter(rlHuge, nil)
		l.SetIPLookup(tblimiter.IPLookup{Name: "RemoteAddr"})
		return func(h http.Handler) http.Handler { return tollbooth.LimitHandler(l, h) }
	}},
	{"sethvargo", func(b *testing.B) func(http.Handler) http.Handler {
		s, err := memorystore.New(&memorystore.Config{Tokens: rlHuge, Interval: rlWindow})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close(context.Background()) })
		m, err := httplimit.NewMiddleware(s, httplimit.IPKeyFunc())
		if err != nil {
			b.Fatal(err)
		}
		return m.Handle
	}},
	{"xtimerate-map", func(*testing.B) func(http.Handler) http.Handler { return rlXTimeRate() }},
}

func rlBulwark(b *testing.B, opts ratelimit.Options) func(http.Handler) http.Handler {
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := ratelimit.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return mw
}

// rlXTimeRate is the hand-rolled limiter many teams write: a mutex-guarded map of
// golang.org/x/time/rate limiters keyed by RemoteAddr's host, with no eviction.
func rlXTimeRate() func(http.Handler) http.Handler {
	var mu sync.Mutex
	m := map[string]*rate.Limiter{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			mu.Lock()
			l, ok := m[host]
			if !ok {
				l = rate.NewLimiter(rate.Every(rlWindow/rlHuge), rlHuge)
				m[host] = l
			}
			mu.Unlock()
			if !l.Allow() {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// rlRequests returns n requests from n distinct client addresses.
func rlRequests(n int) []*http.Request {
	rs := make([]*http.Request, n)
	for i := range rs {
		r := httptest.NewRequest("GET", "http://api.example/v1/items", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", i>>16&255, i>>8&255, i&255)
		rs[i] = r
	}
	return rs
}

func rlRunParallel(b *testing.B, h http.Handler, reqs []*http.Request) {
	// Warm every key, so that the benchmark measures decisions for known keys.
	for _, r := range reqs {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
	var start atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header, 8)}
		i := int(start.Add(7919)) // each goroutine walks the clients from its own place
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, reqs[i%len(reqs)])
			if w.code != http.StatusOK {
				b.Errorf("status %d", w.code)
				return
			}
			i++
		}
	})
}

// BenchmarkRatelimitMemoryHotKey: every goroutine is the same client (issue: at least 5x
// faster than the fastest peer, 0 allocs/op with headers off).
func BenchmarkRatelimitMemoryHotKey(b *testing.B) {
	for _, p := range rlMemoryPeers {
		b.Run(p.name, func(b *testing.B) {
			rlRunParallel(b, p.mw(b)(final), rlRequests(1))
		})
	}
}

// BenchmarkRatelimitMemory10kKeys: 10,000 clients, spread over the goroutines.
func BenchmarkRatelimitMemory10kKeys(b *testing.B) {
	reqs := rlRequests(10_000)
	for _, p := range rlMemoryPeers {
		b.Run(p.name, func(b *testing.B) {
			rlRunParallel(b, p.mw(b)(final), reqs)
		})
	}
}

// BenchmarkRatelimitRedis: 64 goroutines deciding for 64 clients through one client each
// peer, against a bare PING loop through an identical client in the same run (issue: at
// least 90% of PING's rate). It reports the Redis time per call of each peer's command
// (INFO commandstats usec_per_call) as redis-µs/call.
func BenchmarkRatelimitRedis(b *testing.B) {
	addr := rlRedis(b)
	reqs := rlRequests(64)
	peers := []struct {
		name string
		cmd  string // the command whose usec_per_call is reported
		op   func(b *testing.B, c *redis.Client) func(ctx context.Context, i int) error
	}{
		{"ping", "ping", func(_ *testing.B, c *redis.Client) func(context.Context, int) error {
			return func(ctx context.Context, _ int) error { return c.Ping(ctx).Err() }
		}},
		{"bulwark", "evalsha", func(b *testing.B, c *redis.Client) func(context.Context, int) error {
			st, err := redisstore.New(redisstore.Options{Client: c, Timeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			h := rlBulwark(b, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: rlHuge, Period: rlWindow}}, Store: st, OmitHeaders: true})(final)
			return func(_ context.Context, i int) error {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.code != http.StatusOK {
					return fmt.Errorf("status %d", w.code)
				}
				return nil
			}
		}},
		{"ulule", "evalsha", func(b *testing.B, c *redis.Client) func(context.Context, int) error {
			st, err := ulredis.NewStore(c)
			if err != nil {
				b.Fatal(err)
			}
			h := ulstdlib.NewMiddleware(ulule.New(st, ulule.Rate{Period: rlWindow, Limit: rlHuge})).Handler(final)
			return func(_ context.Context, i int) error {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.code != http.StatusOK {
					return fmt.Errorf("status %d", w.code)
				}
				return nil
			}
		}},
		{"redis_rate", "evalsha", func(_ *testing.B, c *redis.Client) func(context.Context, int) error {
			l := redis_rate.NewLimiter(c)
			limit := redis_rate.Limit{Rate: rlHuge, Burst: rlHuge, Period: rlWindow}
			return func(ctx context.Context, i int) error {
				host, _, _ := net.SplitHostPort(reqs[i%len(reqs)].RemoteAddr)
				res, err := l.Allow(ctx, host, limit)
				if err == nil && res.Allowed == 0 {
					err = fmt.Errorf("refused")
				}
				return err
			}
		}},
	}
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64, ContextTimeoutEnabled: true})
			defer c.Close()
			ctx := context.Background()
			op := p.op(b, c)
			for i := range 64 { // warm the pool and the script cache
				if err := op(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
			_ = c.ConfigResetStat(ctx).Err()
			b.SetParallelism(max(1, 64/runtimeProcs()))
			b.ReportAllocs()
			b.ResetTimer()
			var mu sync.Mutex
			next := 0
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				for pb.Next() {
					if err := op(ctx, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			if us, ok := rlUsecPerCall(ctx, c, p.cmd); ok {
				b.ReportMetric(us, "redis-µs/call")
			}
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// rlUsecPerCall reads usec_per_call of cmd from INFO commandstats.
func rlUsecPerCall(ctx context.Context, c *redis.Client, cmd string) (float64, bool) {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(info, "\r\n") {
		if !strings.HasPrefix(line, "cmdstat_"+cmd+":") {
			continue
		}
		for _, f := range strings.Split(line[strings.IndexByte(line, ':')+1:], ",") {
			if v, ok := strings.CutPrefix(f, "usec_per_call="); ok {
				us, err := strconv.ParseFloat(v, 64)
				return us, err == nil
			}
		}
	}
	return 0, false
}

var (
	rlRedisOnce sync.Once
	rlRedisAddr string
	rlRedisErr  error
)

// rlRedis starts one redis-server for all Redis benchmarks, with the flags of
// internal/testredis (which this module cannot import), and skips when none is installed.
// TestMain stops it when the benchmarks are done.
func rlRedis(b *testing.B) string {
	rlRedisOnce.Do(func() { rlRedisAddr, rlRedisErr = rlStartRedis() })
	if rlRedisErr != nil {
		b.Skipf("redis benchmarks skipped: %v", rlRedisErr)
	}
	return rlRedisAddr
}

var (
	rlRedisCmd *exec.Cmd
	rlRedisDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if rlRedisCmd != nil {
		_ = rlRedisCmd.Process.Signal(os.Interrupt)
		_ = rlRedisCmd.Wait()
		_ = os.RemoveAll(rlRedisDir)
	}
	os.Exit(code)
}

func rlStartRedis() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "", "--daemonize", "no")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
				signalled = true
			}
		}
		if !signalled {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			return "", fmt.Errorf("redis-server exited before it was ready")
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", fmt.Errorf("redis-server was not ready in time")
	}
	rlRedisCmd, rlRedisDir = cmd, dir
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// TestRatelimitPeersLimit checks that the comparison is fair: every peer, configured as in
// the benchmarks but with a limit of 5, refuses the 6th request of a client and not another
// client's first.
func TestRatelimitPeersLimit(t *testing.T) {
	for _, p := range rlMemoryPeers[1:] {
		t.Run(p.name, func(t *testing.T) {
			h := rlSmall(t, p.name)(final)
			reqs := rlRequests(2)
			codes := ""
			for range 6 {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, reqs[0])
				codes += strconv.Itoa(w.code) + " "
			}
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, reqs[1])
			if want := strings.Repeat("200 ", 5) + "429 "; codes != want || w.code != 200 {
				t.Errorf("%s: %s then %d for another client; want %s then 200", p.name, codes, w.code, want)
			}
		})
	}
}

// rlSmall builds the peer called name with a limit of 5 per hour.
func rlSmall(t *testing.T, name string) func(http.Handler) http.Handler {
	switch name {
	case "bulwark", "bulwark-headers":
		mw, err := ratelimit.New(ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 5, Period: time.Hour}}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return mw
	case "httprate":
		//lint:ignore SA1019 keyed by the TCP peer, as bulwark is in this test
		return httprate.LimitBy(5, time.Hour, httprate.KeyByIP)
	case "ulule":
		return ulstdlib.NewMiddleware(ulule.New(ulmemory.NewStore(), ulule.Rate{Period: time.Hour, Limit: 5})).Handler
	case "tollbooth":
		l := tollbooth.NewLimiter(5.0/3600, nil).SetBurst(5)
		l.SetIPLookup(tblimiter.IPLookup{Name: "RemoteAddr"})
		return func(h http.Handler) http.Handler { return tollbooth.LimitHandler(l, h) }
	case "sethvargo":
		s, _ := memorystore.New(&memorystore.Config{Tokens: 5, Interval: time.Hour})
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		m, _ := httplimit.NewMiddleware(s, httplimit.IPKeyFunc())
		return m.Handle
	}
	var mu sync.Mutex
	m := map[string]*rate.Limiter{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			mu.Lock()
			l, ok := m[host]
			if !ok {
				l = rate.NewLimiter(rate.Every(time.Hour/5), 5)
				m[host] = l
			}
			mu.Unlock()
			if !l.Allow() {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
