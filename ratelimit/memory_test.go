package ratelimit_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
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
