package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"

	"github.com/bulwark-go/bulwark/ratelimit"
)

// CS-Authentication "Account Lockout", API2:2023: failed logins for one account from many
// addresses hit the per-account limit; one address spraying many accounts hits the
// per-address limit; correct logins are not charged to the account.
func TestLoginPreset_API2(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mw, err := ratelimit.Login(ratelimit.LoginOptions{Account: ratelimit.HeaderKey("X-Account"), Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		h := mw(login)
		try := func(addr, account, password string) int {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = addr
			r.Header.Set("X-Account", account)
			r.Header.Set("X-Password", password)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		for i := range 8 {
			if c := try(fmt.Sprintf("198.51.100.%d:1", i), "alice", "right"); c != http.StatusOK {
				t.Fatalf("correct login %d: %d", i, c)
			}
		}
		for i := range 5 {
			if c := try(fmt.Sprintf("203.0.113.%d:1", i), "alice", "wrong"); c != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i, c)
			}
		}
		if c := try("203.0.113.200:1", "alice", "right"); c != http.StatusTooManyRequests {
			t.Errorf("6th attempt on alice from a new address: %d, want 429", c)
		}
		n := 0
		for i := range 30 {
			if try("192.0.2.9:1", fmt.Sprintf("user%d", i), "wrong") == http.StatusUnauthorized {
				n++
			}
		}
		if n != 10 {
			t.Errorf("one address spraying 30 accounts got %d attempts through, want the burst of 10", n)
		}
	})
	if _, err := ratelimit.Login(ratelimit.LoginOptions{}); err == nil {
		t.Error("Login without Account: no error")
	}
}
