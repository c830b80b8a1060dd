package ratelimit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/ratelimit"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func mustNew(t testing.TB, opts ratelimit.Options) http.Handler {
	t.Helper()
	mw, err := ratelimit.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return mw(ok)
}

func policy(t testing.TB, s string) ratelimit.Policy {
	t.Helper()
	p, err := ratelimit.ParsePolicy(s)
	if err != nil {
		t.Fatalf("ParsePolicy(%q): %v", s, err)
	}
	return p
}

func get(h http.Handler, remote string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://api.example/v1/items", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// API4:2023, RFC6585 §4, RFC9110 §10.2.3, RL-draft §4–§6: a burst over the policy gets 429
// with an exact Retry-After, no-store, problem+json that says when to retry, and RateLimit
// headers whose t is not later than Retry-After.
func TestRefusal_API4_RFC6585(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{policy(t, "10 per minute, burst 3")}, Logger: discard()})
		for i := range 3 {
			if w := get(h, "192.0.2.1:1234"); w.Code != http.StatusOK {
				t.Fatalf("request %d: status = %d, want 200", i+1, w.Code)
			}
		}
		w := get(h, "192.0.2.1:1234")
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("4th request: status = %d, want 429", w.Code)
		}
		// 3 requests at once used the burst; the next unit comes back 6 s after the first.
		for k, want := range map[string]string{
			"Retry-After":      "6",
			"Content-Type":     encode.ProblemContentType,
			"Cache-Control":    "no-store",
			"RateLimit":        `"p0";r=0;t=6`,
			"RateLimit-Policy": `"p0";q=10;w=60`,
		} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		var body struct {
			Type       string `json:"type"`
			Status     int    `json:"status"`
			RetryAfter int    `json:"retry_after"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if body.Type != ratelimit.QuotaExceededType || body.Status != 429 || body.RetryAfter != 6 {
			t.Errorf("body = %+v, want quota-exceeded type, status 429, retry_after 6", body)
		}
		// Retry-After is exact: one nanosecond early is still refused, on time is allowed.
		time.Sleep(6*time.Second - time.Nanosecond)
		if w := get(h, "192.0.2.1:1234"); w.Code != http.StatusTooManyRequests {
			t.Errorf("just before Retry-After: status = %d, want 429", w.Code)
		}
		time.Sleep(time.Nanosecond)
		if w := get(h, "192.0.2.1:1234"); w.Code != http.StatusOK {
			t.Errorf("at Retry-After: status = %d, want 200", w.Code)
		}
		// Another client is not affected.
		if w := get(h, "192.0.2.2:1234"); w.Code != http.StatusOK {
			t.Errorf("other client: status = %d, want 200", w.Code)
		}
	})
}

// RL-draft §4: after k requests r = q-k (with burst = limit), never negative.
func TestRemainingCountsDown_RLdraft4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{{Name: "default", Limit: 5, Period: 10 * time.Second}}, Logger: discard()})
		re := regexp.MustCompile(`^"default";r=(\d+);t=(\d+)$`)
		for k := 1; k <= 7; k++ {
			w := get(h, "192.0.2.1:1")
			m := re.FindStringSubmatch(w.Header().Get("RateLimit"))
			if m == nil {
				t.Fatalf("request %d: RateLimit = %q", k, w.Header().Get("RateLimit"))
			}
			want := fmt.Sprint(max(5-k, 0))
			if m[1] != want {
				t.Errorf("request %d: r = %s, want %s", k, m[1], want)
			}
			if m[2] != "2" {
				t.Errorf("request %d: t = %s, want 2 (one unit per 2 s)", k, m[2])
			}
		}
	})
}

// RL-draft §8, API6:2023: a short burst policy and a long quota evaluated together; a request
// refused by one is charged to neither.
func TestSeveralPolicies_RLdraft8_API6(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{
			{Name: "burst", Limit: 2, Period: time.Second},
			{Name: "hourly", Limit: 5, Period: time.Hour},
		}, Logger: discard()})
		allowed := 0
		for range 20 {
			for range 3 { // 3 per second against a limit of 2
				if get(h, "192.0.2.1:1").Code == http.StatusOK {
					allowed++
				}
			}
			time.Sleep(time.Second)
		}
		if allowed != 5 {
			t.Errorf("allowed %d requests in 20 s, want 5 (the hourly quota)", allowed)
		}
		w := get(h, "192.0.2.1:1")
		if got, want := w.Header().Get("RateLimit-Policy"), `"burst";q=2;w=1, "hourly";q=5;w=3600`; got != want {
			t.Errorf("RateLimit-Policy = %q, want %q", got, want)
		}
		if got := w.Header().Get("RateLimit"); !strings.HasPrefix(got, `"burst";r=2;t=0, "hourly";r=0;t=`) {
			t.Errorf("RateLimit = %q, want burst full and hourly empty", got)
		}
		ra := w.Header().Get("Retry-After")
		if ra == "" || ra == "0" || ra == "1" {
			t.Errorf("Retry-After = %q, want the hourly policy's wait", ra)
		}
	})
}

// Exactness (ASVS5 15.4.2): N goroutines on one key at one instant allow exactly the burst.
func TestExactUnderConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 100, Period: time.Minute}}, Logger: discard()})
		var allowed, refused atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for range 20 {
					switch get(h, "198.51.100.7:9").Code {
					case http.StatusOK:
						allowed.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 100 || refused.Load() != 64*20-100 {
			t.Errorf("allowed %d, refused %d; want exactly 100 allowed", allowed.Load(), refused.Load())
		}
	})
}

// ASVS5 4.1.3, RFC9700 §4.13, RFC7239 §8.1: the client-address key believes proxy headers only
// from trusted proxies, reads them right to left, groups IPv6 by /64, and sends requests it
// cannot place to the fallback key rather than letting them through.
func TestClientKey_ASVS5_4_1_3(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	many := strings.Repeat("203.0.113.9, ", 1000) + "203.0.113.10"
	for _, tt := range []struct {
		name       string
		forwarded  bool
		first      []string // remote, then header pairs, of the request that uses the quota
		second     []string // a request that must share (same) or not share the bucket
		sameBucket bool
	}{
		{"spoofed XFF from untrusted peer is ignored", false,
			[]string{"192.0.2.1:1", "X-Forwarded-For", "203.0.113.1"},
			[]string{"192.0.2.1:1", "X-Forwarded-For", "203.0.113.2"}, true},
		{"trusted proxy: right-most untrusted entry", false,
			[]string{"10.0.0.9:1", "X-Forwarded-For", "203.0.113.1, 198.51.100.1"},
			[]string{"10.0.0.9:1", "X-Forwarded-For", "203.0.113.2, 198.51.100.1"}, true},
		{"trusted proxy: different clients", false,
			[]string{"10.0.0.9:1", "X-Forwarded-For", "198.51.100.1"},
			[]string{"10.0.0.9:1", "X-Forwarded-For", "198.51.100.2"}, false},
		{"1,000 entries is absurd: the proxy itself", false,
			[]string{"10.0.0.9:1", "X-Forwarded-For", many},
			[]string{"10.0.0.9:1"}, true},
		{"garbage entry stops the walk at the proxy", false,
			[]string{"10.0.0.9:1", "X-Forwarded-For", "not-an-ip"},
			[]string{"10.0.0.9:1", "X-Forwarded-For", "also garbage"}, true},
		{"IPv6 /64 grouped", false,
			[]string{"[2001:db8:1:2::1]:1"},
			[]string{"[2001:db8:1:2:ffff::9]:1"}, true},
		{"IPv6 other /64", false,
			[]string{"[2001:db8:1:2::1]:1"},
			[]string{"[2001:db8:1:3::1]:1"}, false},
		{"IPv6 zone dropped", false,
			[]string{"[fe80::1%eth0]:1"},
			[]string{"[fe80::1%eth1]:1"}, true},
		{"IPv4-mapped IPv6 is the IPv4 client", false,
			[]string{"[::ffff:192.0.2.1]:1"},
			[]string{"192.0.2.1:2"}, true},
		{"Forwarded header when chosen", true,
			[]string{"10.0.0.9:1", "Forwarded", `for="[2001:db8::1]"`},
			[]string{"10.0.0.9:1", "Forwarded", `for="[2001:db8::2]"`}, true},
		{"unparsable RemoteAddr uses the fallback", false,
			[]string{"@unix"},
			[]string{"also-not-an-address"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, ratelimit.Options{
				Policies:           []ratelimit.Policy{{Limit: 1, Period: time.Hour}},
				TrustedProxies:     trusted,
				UseForwardedHeader: tt.forwarded,
				Logger:             discard(),
			})
			if w := get(h, tt.first[0], tt.first[1:]...); w.Code != http.StatusOK {
				t.Fatalf("first request: status = %d, want 200", w.Code)
			}
			want := http.StatusOK
			if tt.sameBucket {
				want = http.StatusTooManyRequests
			}
			if w := get(h, tt.second[0], tt.second[1:]...); w.Code != want {
				t.Errorf("second request %q: status = %d, want %d", tt.second, w.Code, want)
			}
		})
	}
}

// A key function that cannot find a key sends the request to the fallback bucket, never a
// free pass (issue item 2).
func TestEmptyKeyUsesFallback(t *testing.T) {
	h := mustNew(t, ratelimit.Options{
		Policies: []ratelimit.Policy{{Limit: 2, Period: time.Hour}},
		Key:      ratelimit.HeaderKey("X-API-Key"),
		Logger:   discard(),
	})
	codes := []int{get(h, "192.0.2.1:1").Code, get(h, "192.0.2.2:1").Code, get(h, "192.0.2.3:1", "X-API-Key", "").Code}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("keyless requests: statuses %v, want [200 200 429]", codes)
	}
	if w := get(h, "192.0.2.3:1", "X-API-Key", "k1"); w.Code != http.StatusOK {
		t.Errorf("request with a key: status = %d, want 200", w.Code)
	}
}

// CS-Logging "Data to exclude", issue item 10: a refusal is logged once as ratelimit_exceeded
// with the key hashed, never the raw API key.
func TestLogNeverHasRawKey_CSLogging(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	const secret = "sk_live_0123456789abcdef"
	h := mustNew(t, ratelimit.Options{
		Policies: []ratelimit.Policy{{Limit: 1, Period: time.Hour}},
		Key:      ratelimit.HeaderKey("X-API-Key"),
		Logger:   logger,
	})
	get(h, "192.0.2.1:1", "X-API-Key", secret)
	if buf.Len() != 0 {
		t.Errorf("allowed request logged %q", buf.String())
	}
	get(h, "192.0.2.1:1", "X-API-Key", secret)
	line := buf.String()
	if strings.Contains(line, secret) || strings.Contains(line, "0123456789abcdef") {
		t.Errorf("log contains the API key: %s", line)
	}
	if !strings.Contains(line, `"msg":"ratelimit_exceeded"`) || !strings.Contains(line, `"level":"WARN"`) {
		t.Errorf("log = %s, want one ratelimit_exceeded at WARN", line)
	}
	if !regexp.MustCompile(`key [0-9a-f]{16}`).MatchString(line) {
		t.Errorf("log = %s, want the key as a 16-hex-digit hash", line)
	}
	if n := strings.Count(line, "\n"); n != 1 {
		t.Errorf("%d log lines, want 1", n)
	}
}

// The ErrorHandler gets an *encode.Error wrapping ErrLimited with the exact RetryAfter, after
// the headers are set.
func TestErrorHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got error
		var retryHeader string
		h := mustNew(t, ratelimit.Options{
			Policies: []ratelimit.Policy{{Limit: 3, Period: time.Second, Burst: 1}},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				got, retryHeader = err, w.Header().Get("Retry-After")
				w.WriteHeader(http.StatusTeapot)
			},
		})
		get(h, "192.0.2.1:1")
		time.Sleep(100 * time.Millisecond)
		if w := get(h, "192.0.2.1:1"); w.Code != http.StatusTeapot {
			t.Fatalf("status = %d, want the ErrorHandler's 418", w.Code)
		}
		var e *encode.Error
		if !errors.Is(got, ratelimit.ErrLimited) || !errors.As(got, &e) {
			t.Fatalf("err = %v, want an *encode.Error wrapping ErrLimited", got)
		}
		// interval = ceil(1s/3) = 333333334 ns; 100 ms have passed.
		if want := 333333334*time.Nanosecond - 100*time.Millisecond; e.RetryAfter != want || e.Status != 429 {
			t.Errorf("RetryAfter = %v, Status = %d; want %v, 429", e.RetryAfter, e.Status, want)
		}
		if retryHeader != "1" {
			t.Errorf("Retry-After set before ErrorHandler = %q, want 1", retryHeader)
		}
	})
}

func TestOptionsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts ratelimit.Options
		want []string // each field named in the joined error
	}{
		{"bad policy fields", ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 0, Period: 0, Burst: -1}}}, []string{"Limit", "Period", "Burst"}},
		{"bad name", ratelimit.Options{Policies: []ratelimit.Policy{{Name: `a"b`, Limit: 1, Period: time.Second}}}, []string{"Name"}},
		{"duplicate names", ratelimit.Options{Policies: []ratelimit.Policy{{Name: "a", Limit: 1, Period: time.Second}, {Name: "a", Limit: 2, Period: time.Second}}}, []string{"duplicate"}},
		{"too many policies", ratelimit.Options{Policies: make([]ratelimit.Policy, 9)}, []string{"more than 8"}},
		{"window too long", ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 1, Period: 99 * 24 * time.Hour, Burst: 2}}}, []string{"exceeds"}},
		{"ipv6 prefix and count", ratelimit.Options{IPv6PrefixLen: 129, Count: 7}, []string{"IPv6PrefixLen", "Count"}},
		{"bad proxy prefix", ratelimit.Options{TrustedProxies: []netip.Prefix{{}}}, []string{"TrustedProxies"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := ratelimit.New(tt.opts)
			if err == nil || mw != nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", tt.opts, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	if _, err := ratelimit.New(ratelimit.Options{}); err != nil {
		t.Errorf("zero Options: %v", err)
	}
}

// The zero Options: 60 per minute per client address.
func TestZeroOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, ratelimit.Options{Logger: discard()})
		n := 0
		for get(h, "192.0.2.1:1").Code == http.StatusOK {
			n++
		}
		if n != 60 {
			t.Errorf("allowed %d at once, want 60", n)
		}
	})
}

// Weighted cost, exclusion, shadow mode, legacy headers, counting only failures (issue item 8).
func TestExtras(t *testing.T) {
	bubble := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) { synctest.Test(t, f) })
	}
	{
		one := []ratelimit.Policy{{Limit: 10, Period: time.Minute}}
		bubble("cost", func(t *testing.T) {
			h := mustNew(t, ratelimit.Options{Policies: one, Logger: discard(), Cost: func(r *http.Request) int64 {
				if r.URL.Query().Get("big") != "" {
					return 4
				}
				return -5 // below one counts as one
			}})
			r := httptest.NewRequest("GET", "/search?big=1", nil)
			codes := ""
			for range 3 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				codes += fmt.Sprint(w.Code, " ")
			}
			if codes != "200 200 429 " {
				t.Errorf("cost-4 requests against 10: %s, want 200 200 429", codes)
			}
			got := ""
			for range 3 {
				got += fmt.Sprint(get(h, "192.0.2.1:1234").Code, " ")
			}
			// The same client (httptest's default address) has 2 units left: a cost of -5
			// counts as 1, so two pass and the third is refused.
			if got != "200 200 429 " {
				t.Errorf("requests of cost -5: %s, want 200 200 429", got)
			}
		})
		bubble("skip", func(t *testing.T) {
			h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 1, Period: time.Minute}}, Logger: discard(),
				UnsafeSkip: func(r *http.Request) bool { return r.URL.Path == "/healthz" }})
			for range 3 {
				r := httptest.NewRequest("GET", "/healthz", nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					t.Fatalf("skipped path: %d", w.Code)
				}
			}
			if get(h, "192.0.2.1:1234").Code != 200 {
				t.Errorf("skipped requests were charged")
			}
		})
		bubble("shadow", func(t *testing.T) {
			var buf bytes.Buffer
			h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 1, Period: time.Minute}},
				Logger: slog.New(slog.NewTextHandler(&buf, nil)), UnsafeShadowMode: true})
			get(h, "192.0.2.1:1")
			w := get(h, "192.0.2.1:1")
			if w.Code != 200 || w.Header().Get("RateLimit") != `"p0";r=0;t=60` || w.Header().Get("Retry-After") != "" {
				t.Errorf("shadow: %d %q Retry-After %q, want 200 with r=0 and no Retry-After", w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"))
			}
			if !strings.Contains(buf.String(), "msg=ratelimit_exceeded") || !strings.Contains(buf.String(), "shadow") {
				t.Errorf("shadow log = %q", buf.String())
			}
		})
		bubble("legacy headers, no draft headers", func(t *testing.T) {
			h := mustNew(t, ratelimit.Options{Policies: one, LegacyHeaders: true, OmitHeaders: true})
			w := get(h, "192.0.2.1:1")
			got := [...]string{w.Header().Get("X-RateLimit-Limit"), w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("X-RateLimit-Reset"), w.Header().Get("RateLimit")}
			if got != [...]string{"10", "9", "6", ""} {
				t.Errorf("headers = %q", got)
			}
		})
		bubble("count failures only", func(t *testing.T) {
			var fail atomic.Bool
			mw, _ := ratelimit.New(ratelimit.Options{Policies: []ratelimit.Policy{{Limit: 2, Period: time.Hour}}, Count: ratelimit.CountFailures, Logger: discard()})
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if fail.Load() {
					http.Error(w, "no", http.StatusUnauthorized)
				}
			}))
			for range 5 {
				if c := get(h, "192.0.2.1:1").Code; c != 200 {
					t.Fatalf("successes are not counted, got %d", c)
				}
			}
			fail.Store(true)
			codes := fmt.Sprint(get(h, "192.0.2.1:1").Code, get(h, "192.0.2.1:1").Code, get(h, "192.0.2.1:1").Code)
			if codes != "401 401 429" {
				t.Errorf("after 2 failures: %s, want 401 401 429", codes)
			}
		})
	}
}

// A jump of the clock backwards does not hand out quota; a jump forwards gives at most a full
// burst (issue: clock jumps).
func TestClockJumps(t *testing.T) {
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	ps := []ratelimit.Policy{{Limit: 2, Period: time.Second}}
	res := make([]ratelimit.Result, 1)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	take := func(at time.Time) bool {
		_ = s.Allow(t.Context(), "k", ps, 1, at, res)
		return res[0].Allowed
	}
	take(t0)
	take(t0)
	if take(t0.Add(-time.Hour)) {
		t.Errorf("clock back one hour: allowed, want refused")
	}
	n := 0
	for take(t0.Add(24 * time.Hour)) {
		n++
	}
	if n != 2 {
		t.Errorf("clock forward one day: %d allowed, want the burst of 2", n)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
