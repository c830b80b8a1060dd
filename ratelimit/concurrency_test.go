package ratelimit_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// API4:2023 (resource consumption): at most MaxInFlight requests run at once; excess waits up
// to QueueTimeout, then gets 503 with Retry-After.
func TestConcurrencyGlobal_API4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var running, peak atomic.Int64
		mw, err := ratelimit.Concurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 3, PerKey: 3, QueueTimeout: 50 * time.Millisecond, MaxQueue: 2, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := running.Add(1)
			peak.Store(max(peak.Load(), n))
			<-release
			running.Add(-1)
		}))
		codes := make(chan int, 10)
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				r := httptest.NewRequest("GET", "/", nil)
				r.RemoteAddr = fmt.Sprintf("192.0.2.%d:1", i)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				codes <- w.Code
				if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") != "1" {
					t.Errorf("503 without Retry-After: %q", w.Header().Get("Retry-After"))
				}
			})
		}
		synctest.Wait()
		// 3 run, 2 wait, 1 is refused at once (queue full).
		if got := len(codes); got != 1 || <-codes != http.StatusServiceUnavailable {
			t.Fatalf("%d responses before any release, want the one refused 503", got)
		}
		time.Sleep(50 * time.Millisecond) // the two waiters time out
		synctest.Wait()
		if got := len(codes); got != 2 {
			t.Fatalf("%d responses after the queue timeout, want 2", got)
		}
		close(release)
		wg.Wait()
		close(codes)
		n := map[int]int{}
		for c := range codes {
			n[c]++
		}
		if n[200] != 3 || n[503] != 2 || peak.Load() != 3 {
			t.Errorf("statuses %v, peak %d; want 3 served (peak 3) and 2 more refused", n, peak.Load())
		}
	})
}

// A waiting request gets the slot a finishing one frees, within the timeout; per-key limits
// keep one client from taking every slot.
func TestConcurrencyQueueAndPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu   sync.Mutex // refusals are written from several request goroutines
			errs []error
		)
		mw, _ := ratelimit.Concurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 4, PerKey: 1, QueueTimeout: time.Second,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				encode.WriteError(w, r, err)
			}})
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) }))
		var wg sync.WaitGroup
		var ok, refused atomic.Int64
		for range 5 { // one client: one at a time, 300 ms each, 1 s queue timeout
			wg.Go(func() {
				r := httptest.NewRequest("GET", "/", nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code == 200 {
					ok.Add(1)
				} else {
					refused.Add(1)
				}
			})
		}
		wg.Wait()
		// One runs, one waits (the per-key queue holds PerKey waiters) and is served at
		// 300 ms, three are refused at once.
		if ok.Load() != 2 || refused.Load() != 3 {
			t.Errorf("served %d, refused %d; want 2 and 3", ok.Load(), refused.Load())
		}
		for _, err := range errs {
			if !errors.Is(err, ratelimit.ErrOverloaded) {
				t.Errorf("err = %v, want ErrOverloaded", err)
			}
		}
	})
}

// The adaptive limit falls when the handler is slower than TargetLatency and climbs back
// when it is fast again.
func TestConcurrencyAdaptive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var limits []int
		var slow atomic.Bool
		mw, _ := ratelimit.Concurrency(ratelimit.ConcurrencyOptions{MaxInFlight: 20, PerKey: 20, Adaptive: true,
			TargetLatency: 100 * time.Millisecond, MinInFlight: 2, QueueTimeout: time.Minute,
			OnLimit: func(n int) { limits = append(limits, n) }})
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slow.Load() {
				time.Sleep(time.Second)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}))
		run := func(n int) {
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) })
			}
			wg.Wait()
		}
		slow.Store(true)
		for range 30 {
			run(4)
		}
		low := limits[len(limits)-1]
		if low != 2 {
			t.Fatalf("limit after slow responses = %d (history %v), want the floor 2", low, limits)
		}
		slow.Store(false)
		for range 200 {
			run(4)
		}
		if high := limits[len(limits)-1]; high <= low+5 {
			t.Errorf("limit after fast responses = %d, want it to climb back from %d", high, low)
		}
	})
}

func TestConcurrencyOptionsErrors(t *testing.T) {
	_, err := ratelimit.Concurrency(ratelimit.ConcurrencyOptions{MaxInFlight: -1, QueueTimeout: time.Hour, MinInFlight: -3, MaxQueue: -1})
	for _, want := range []string{"MaxInFlight", "QueueTimeout", "MinInFlight", "MaxQueue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}
