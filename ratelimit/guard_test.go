package ratelimit_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/ratelimit"
)

// login is a handler that fails unless the password is "right".
var login = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Password") != "right" {
		ratelimit.ReportFailure(r.Context())
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	ratelimit.ReportSuccess(r.Context())
})

func attempt(h http.Handler, account, password string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "192.0.2.1:1"
	r.Header.Set("X-Account", account)
	r.Header.Set("X-Password", password)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func guarded(t *testing.T, opts ratelimit.GuardOptions) http.Handler {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discard()
	}
	mw, err := ratelimit.Guard(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mw(login)
}

// RFC4226 §7.3, NIST-63B4 §3.2.2, ASVS5 6.3.1: after MaxFailures failures the key is banned,
// even with the right password, for a ban that grows; the ban is enforced before the handler.
func TestGuardBansAndGrows_RFC4226_NIST(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := guarded(t, ratelimit.GuardOptions{Key: ratelimit.HeaderKey("X-Account"), MaxFailures: 3, Ban: time.Minute, MaxBan: 3 * time.Minute})
		for ban, want := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
			for i := range 3 {
				if w := attempt(h, "alice", "wrong"); w.Code != http.StatusUnauthorized {
					t.Fatalf("ban %d, failure %d: status = %d, want 401", ban, i+1, w.Code)
				}
			}
			w := attempt(h, "alice", "right")
			if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != fmt.Sprint(int(want.Seconds())) {
				t.Fatalf("ban %d: right password while banned: %d Retry-After %q, want 429 %v", ban, w.Code, w.Header().Get("Retry-After"), want)
			}
			time.Sleep(want - time.Second)
			if w := attempt(h, "alice", "right"); w.Code != http.StatusTooManyRequests {
				t.Fatalf("ban %d: one second before its end: %d, want 429", ban, w.Code)
			}
			time.Sleep(time.Second)
		}
		// Another account is not affected.
		if w := attempt(h, "bob", "right"); w.Code != http.StatusOK {
			t.Errorf("other account: %d, want 200", w.Code)
		}
	})
}

// NIST-63B4 §3.2.2 "SHOULD disregard earlier failures after a success".
func TestGuardSuccessResets_NIST(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := guarded(t, ratelimit.GuardOptions{MaxFailures: 3})
		for range 10 {
			attempt(h, "", "wrong")
			attempt(h, "", "wrong")
			if w := attempt(h, "", "right"); w.Code != http.StatusOK {
				t.Fatalf("success after 2 failures: %d, want 200", w.Code)
			}
		}
	})
}

// CS-Authentication "Account Lockout", API2:2023: failures against one account from many
// addresses still lock that account.
func TestGuardPerAccountAcrossIPs_API2(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mw, _ := ratelimit.Guard(ratelimit.GuardOptions{Key: ratelimit.HeaderKey("X-Account"), Logger: discard()})
		h := mw(login)
		for i := range 50 {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = fmt.Sprintf("198.51.100.%d:1", i)
			r.Header.Set("X-Account", "alice")
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		if w := attempt(h, "alice", "right"); w.Code != http.StatusTooManyRequests {
			t.Errorf("after 50 failures from 50 addresses: %d, want 429", w.Code)
		}
	})
}

// Bans are logged as ratelimit_banned with the key hashed, and refusals carry ErrBanned.
func TestGuardLogsAndErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var got error
		mw, _ := ratelimit.Guard(ratelimit.GuardOptions{Key: ratelimit.HeaderKey("X-Account"), MaxFailures: 1,
			Logger: slog.New(slog.NewTextHandler(&buf, nil)),
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				got = err
				encode.WriteError(w, r, err)
			}})
		h := mw(login)
		attempt(h, "carol@example.com", "wrong")
		w := attempt(h, "carol@example.com", "right")
		var e *encode.Error
		if !errors.Is(got, ratelimit.ErrBanned) || !errors.As(got, &e) || e.Status != 429 || e.RetryAfter != time.Minute {
			t.Errorf("err = %v, want a 429 encode.Error wrapping ErrBanned with RetryAfter 1m", got)
		}
		if w.Header().Get("Content-Type") != encode.ProblemContentType {
			t.Errorf("Content-Type = %q", w.Header().Get("Content-Type"))
		}
		if !strings.Contains(buf.String(), "msg=ratelimit_banned") || strings.Contains(buf.String(), "carol") {
			t.Errorf("log = %q, want ratelimit_banned without the account name", buf.String())
		}
	})
}

func TestGuardOptionsErrors(t *testing.T) {
	_, err := ratelimit.Guard(ratelimit.GuardOptions{MaxFailures: 101, Window: time.Millisecond, Ban: -1, IPv6PrefixLen: 200})
	for _, want := range []string{"MaxFailures", "Window", "Ban", "IPv6PrefixLen"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	// Outside a Guard the reports do nothing.
	ratelimit.ReportFailure(t.Context())
	ratelimit.ReportSuccess(t.Context())
}

func TestGuardBan(t *testing.T) {
	rule := ratelimit.GuardRule{Ban: 30 * time.Second, MaxBan: time.Hour}
	for _, tt := range []struct {
		n    int64
		want time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {7, 32 * time.Minute}, {8, time.Hour}, {1000, time.Hour}} {
		if got := ratelimit.GuardBan(rule, tt.n); got != tt.want {
			t.Errorf("GuardBan(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
