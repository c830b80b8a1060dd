package ratelimit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
)

func ExampleNew() {
	burst, _ := ratelimit.ParsePolicy("10 per second, burst 5")
	daily, _ := ratelimit.ParsePolicy("1000 per day")
	burst.Name, daily.Name = "burst", "daily"
	limit, err := ratelimit.New(ratelimit.Options{
		Policies:       []ratelimit.Policy{burst, daily},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, // your load balancers
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for i := range 6 {
		r := httptest.NewRequest("GET", "/v1/items", nil)
		r.RemoteAddr = "10.0.0.7:4711"
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(i+1, w.Code, w.Header().Get("RateLimit"))
	}
	// Output:
	// 1 200 "burst";r=4;t=1, "daily";r=999;t=87
	// 2 200 "burst";r=3;t=1, "daily";r=998;t=87
	// 3 200 "burst";r=2;t=1, "daily";r=997;t=87
	// 4 200 "burst";r=1;t=1, "daily";r=996;t=87
	// 5 200 "burst";r=0;t=1, "daily";r=995;t=87
	// 6 429 "burst";r=0;t=1, "daily";r=995;t=87
}

func ExampleParsePolicy() {
	p, err := ratelimit.ParsePolicy("100 per minute, burst 20")
	fmt.Println(p.Limit, p.Period, p.Burst, p.Interval(), err)
	// Output: 100 1m0s 20 600ms <nil>
}

func ExampleNewMemoryStore() {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 100_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	policies := []ratelimit.Policy{{Name: "otp", Limit: 3, Period: time.Minute}}
	results := make([]ratelimit.Result, 1)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for range 4 {
		_ = store.Allow(context.Background(), "user:42", policies, 1, now, results)
		fmt.Println(results[0].Allowed, results[0].Remaining, results[0].RetryAfter)
	}
	// Output:
	// true 2 0s
	// true 1 0s
	// true 0 0s
	// false 0 20s
}

func ExampleGuard() {
	guard, err := ratelimit.Guard(ratelimit.GuardOptions{
		Key:         ratelimit.HeaderKey("X-Account"), // per account, from any address
		MaxFailures: 3,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Password") != "correct horse" {
			ratelimit.ReportFailure(r.Context())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ratelimit.ReportSuccess(r.Context())
	}))
	for _, password := range []string{"a", "b", "c", "correct horse"} {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Header.Set("X-Account", "alice")
		r.Header.Set("X-Password", password)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if ra := w.Header().Get("Retry-After"); ra != "" {
			fmt.Println(w.Code, "Retry-After:", ra)
			continue
		}
		fmt.Println(w.Code)
	}
	// Output:
	// 401
	// 401
	// 401
	// 429 Retry-After: 60
}

func ExampleConcurrency() {
	limit, err := ratelimit.Concurrency(ratelimit.ConcurrencyOptions{
		MaxInFlight:   200,
		PerKey:        20,
		Adaptive:      true, // shed load when handlers get slower than TargetLatency
		TargetLatency: 300 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/report", nil))
	fmt.Println(w.Code)
	// Output: 200
}

func ExampleLogin() {
	login, err := ratelimit.Login(ratelimit.LoginOptions{
		Account: func(r *http.Request) string { return r.PostFormValue("username") },
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", login(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // every password is wrong here
	})))
	codes := ""
	for range 6 {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Form = map[string][]string{"username": {"alice"}}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		codes += fmt.Sprint(w.Code, " ")
	}
	fmt.Println(codes)
	// Output: 401 401 401 401 401 429
}

func ExamplePatternKey() {
	perRoute, _ := ratelimit.New(ratelimit.Options{
		Policies: []ratelimit.Policy{{Name: "checkout", Limit: 2, Period: time.Minute}},
		Key:      ratelimit.PatternKey, // one bucket per route, however many paths it matches
		Logger:   slog.New(slog.DiscardHandler),
	})
	mux := http.NewServeMux()
	mux.Handle("POST /carts/{id}/checkout", perRoute(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	for _, id := range []string{"1", "2", "3"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("POST", "/carts/"+id+"/checkout", nil))
		fmt.Print(w.Code, " ")
	}
	fmt.Println()
	// Output: 200 200 429
}
