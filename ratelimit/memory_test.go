package ratelimit_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
)

// The allow path for a known key makes no allocation with headers off (issue item 3).
func TestZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under -race and -cover")
	}
	h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 1_000_000_000, Period: time.Second}}, OmitHeaders: true})
	r := httptest.NewRequest("GET", "/", nil)
	w := &nopWriter{h: http.Header{}}
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("allocs per request = %v, want 0", n)
	}
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 10, Period: time.Second}, {Limit: 1000, Period: time.Hour}}
	res := make([]ratelimit.Result, 2)
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { _ = s.Allow(t.Context(), "api-key-1", ps, 1, now, res) }); n != 0 {
		t.Errorf("MemoryStore.Allow allocs = %v, want 0", n)
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// Memory stays bounded: a flood of distinct keys never grows the store past MaxKeys, and keys
// whose quota is full again are dropped first.
func TestMemoryBounded(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 64 * 16})
	ps := []ratelimit.Policy{{Limit: 1, Period: time.Hour}}
	res := make([]ratelimit.Result, 1)
	now := time.Now()
	for i := range 100_000 {
		_ = s.Allow(t.Context(), strconv.Itoa(i), ps, 1, now, res)
	}
	if n := s.Len(); n > 64*16 {
		t.Errorf("Len = %d after a flood, want <= %d", n, 64*16)
	}
	// An hour later every entry is idle; new keys replace them instead of evicting busy ones.
	later := now.Add(time.Hour)
	for i := range 1000 {
		_ = s.Allow(t.Context(), "new"+strconv.Itoa(i), ps, 1, later, res)
	}
	if n := s.Len(); n > 64*16 {
		t.Errorf("Len = %d, want <= %d", n, 64*16)
	}
}

// TestBytesPerKey measures heap per key at 1,000,000 keys (issue target: at most 48 B).
func TestBytesPerKey(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates about 40 MB")
	}
	const n = 1_000_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 2 * n})
	ps := []ratelimit.Policy{{Limit: 10, Period: time.Minute}}
	res := make([]ratelimit.Result, 1)
	now := time.Now()
	var k [8]byte
	for i := range n {
		binary.LittleEndian.PutUint64(k[:], uint64(i))
		_ = s.Allow(t.Context(), string(k[:]), ps, 1, now, res)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Len() != n {
		t.Fatalf("Len = %d, want %d", s.Len(), n)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes of heap per key at %d keys", per, n)
	if per > 48 {
		t.Errorf("%.1f bytes per key, want <= 48", per)
	}
	runtime.KeepAlive(s)
}

func BenchmarkMemoryHotKey(b *testing.B) {
	h := mustNew(b, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 1_000_000_000, Period: time.Second}}, OmitHeaders: true})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

func BenchmarkStoreAllow(b *testing.B) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 1_000_000_000, Period: time.Second}}
	res := make([]ratelimit.Result, 1)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Allow(b.Context(), "k", ps, 1, now, res)
	}
}

// BenchmarkStoreAllowParallel10k: many keys from every core, the case sharding is for
// (run with -cpu 1,2,4).
func BenchmarkStoreAllowParallel10k(b *testing.B) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 1_000_000_000, Period: time.Second}}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	var start atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		res := make([]ratelimit.Result, 1)
		i := int(start.Add(7919))
		for pb.Next() {
			_ = s.Allow(context.Background(), keys[i%len(keys)], ps, 1, time.Now(), res)
			i++
		}
	})
}

// A huge cost on the public Store API neither overflows nor passes.
func TestHugeCostNeverConforms(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 10, Period: 90 * 24 * time.Hour}}
	res := make([]ratelimit.Result, 1)
	for _, cost := range []int64{11, 1 << 40, 1<<63 - 1} {
		_ = s.Allow(t.Context(), "k", ps, cost, time.Now(), res)
		if res[0].Allowed || res[0].RetryAfter <= 0 {
			t.Errorf("cost %d: %+v, want refused with a positive RetryAfter", cost, res[0])
		}
	}
	_ = s.Allow(t.Context(), "k", ps, 10, time.Now(), res)
	if !res[0].Allowed {
		t.Errorf("cost 10 (the burst) after refusals: refused; refusals must cost nothing")
	}
}

// The lock-free path is exact: goroutines charging one key at one instant, some under one
// policy and some under that policy and another together (the two paths of the store), are
// allowed exactly the limit, and every charge of the second policy is kept.
func TestMemoryExactMixedPaths(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	p1 := ratelimit.Policy{Name: "a", Limit: 300, Period: time.Hour}
	p2 := ratelimit.Policy{Name: "b", Limit: 100_000, Period: time.Hour}
	now := time.Now()
	var allowed, many atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ps := []ratelimit.Policy{p1}
			if g%2 == 1 {
				ps = append(ps, p2)
			}
			res := make([]ratelimit.Result, 2)
			for range 200 {
				_ = s.Allow(context.Background(), "hot", ps, 1, now, res)
				if res[0].Allowed && (len(ps) == 1 || res[1].Allowed) {
					allowed.Add(1)
					if len(ps) == 2 {
						many.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 300 {
		t.Errorf("allowed %d, want exactly 300", allowed.Load())
	}
	res := make([]ratelimit.Result, 1)
	_ = s.Allow(t.Context(), "hot", []ratelimit.Policy{p2}, 0, now, res)
	if want := 100_000 - many.Load() - 1; res[0].Remaining != want {
		t.Errorf("second policy: Remaining %d, want %d", res[0].Remaining, want)
	}
}

// Insertion, eviction and table growth race with lock-free decisions (run with -race):
// the store stays within MaxKeys.
func TestMemoryChurn(t *testing.T) {
	const maxKeys = 64 * 8
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: maxKeys})
	ps := []ratelimit.Policy{{Limit: 1_000_000, Period: time.Hour}}
	ps2 := []ratelimit.Policy{{Name: "x", Limit: 1_000_000, Period: time.Hour}, {Name: "y", Limit: 10, Period: time.Second}}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			res := make([]ratelimit.Result, 2)
			for i := range 5000 {
				now := start.Add(time.Duration(i) * time.Millisecond)
				_ = s.Allow(context.Background(), strconv.Itoa(g*100_000+i), ps, 1, now, res)
				_ = s.Allow(context.Background(), strconv.Itoa(i%3000), ps2, 1, now, res)
				_ = s.Allow(context.Background(), "hot", ps, 1, now, res)
			}
		})
	}
	wg.Wait()
	if n := s.Len(); n > maxKeys {
		t.Errorf("Len = %d, want <= %d", n, maxKeys)
	}
}

// Charges on a hot key are kept while other keys grow the tables under it (each growth
// rebuilds a shard's table): its remaining quota is exactly the limit minus what was allowed.
func TestMemoryExactDuringGrowth(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 1_000_000, Period: time.Hour}}
	now := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			res := make([]ratelimit.Result, 1)
			for i := range 20_000 {
				if g < 2 {
					_ = s.Allow(context.Background(), "k"+strconv.Itoa(g*100_000+i), ps, 1, now, res)
				} else if _ = s.Allow(context.Background(), "hot", ps, 1, now, res); res[0].Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res := make([]ratelimit.Result, 1)
	_ = s.Allow(t.Context(), "hot", ps, 0, now, res)
	if want := 1_000_000 - allowed.Load() - 1; res[0].Remaining != want {
		t.Errorf("hot key: Remaining %d after %d allowed, want %d (charges lost)", res[0].Remaining, allowed.Load(), want)
	}
}
