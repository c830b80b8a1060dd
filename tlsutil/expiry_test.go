package tlsutil_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// TestExpiryWatcherRun: on a fake clock, a certificate that expires in 30 days triggers
// the warning and the hook once it is within 21 days (the default), not before.
func TestExpiryWatcherRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		leaf := &x509.Certificate{SerialNumber: big.NewInt(42), NotAfter: time.Now().Add(30 * 24 * time.Hour)}
		var mu sync.Mutex
		var lefts []time.Duration
		var logs syncBuffer
		w, err := tlsutil.NewExpiryWatcher(tlsutil.ExpiryOptions{
			Certificate: func() *x509.Certificate { return leaf },
			OnExpiring: func(c *x509.Certificate, left time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				lefts = append(lefts, left)
			},
			Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		calls := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(lefts)
		}

		time.Sleep(9*24*time.Hour - time.Minute) // 21 days and a minute left: still quiet
		synctest.Wait()
		if n := calls(); n != 0 {
			t.Fatalf("hook called %d times with more than 21 days left", n)
		}
		time.Sleep(12 * time.Hour) // next 12-hour check: 20.5 days left
		synctest.Wait()
		if n := calls(); n != 1 {
			t.Fatalf("hook called %d times within 21 days, want 1", n)
		}
		if lefts[0] > tlsutil.DefaultExpiryWarning || lefts[0] < 20*24*time.Hour {
			t.Errorf("left = %v, want just under 21 days", lefts[0])
		}
		if !strings.Contains(logs.String(), `"msg":"tls_cert_expiring"`) || !strings.Contains(logs.String(), `"level":"WARN"`) {
			t.Errorf("log = %s, want a WARN tls_cert_expiring record", logs.String())
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

func TestExpiryWatcherCheck(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		notAfter  time.Time
		nilCert   bool
		within    time.Duration
		want      bool
		wantHook  bool
		wantLevel string
	}{
		{"far", now.Add(60 * 24 * time.Hour), false, 0, false, false, ""},
		{"exactly 21 days", now.Add(21 * 24 * time.Hour), false, 0, true, true, "WARN"},
		{"custom window", now.Add(10 * 24 * time.Hour), false, 7 * 24 * time.Hour, false, false, ""},
		{"expired", now.Add(-time.Hour), false, 0, true, true, "ERROR"},
		{"no certificate", time.Time{}, true, 0, true, false, "ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			hooked := false
			w, err := tlsutil.NewExpiryWatcher(tlsutil.ExpiryOptions{
				Certificate: func() *x509.Certificate {
					if tt.nilCert {
						return nil
					}
					return &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: tt.notAfter}
				},
				Within:     tt.within,
				OnExpiring: func(*x509.Certificate, time.Duration) { hooked = true },
				Logger:     slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Check(now); got != tt.want || hooked != tt.wantHook {
				t.Errorf("Check = %v, hook %v; want %v, %v", got, hooked, tt.want, tt.wantHook)
			}
			if tt.wantLevel != "" && !strings.Contains(logs.String(), `"level":"`+tt.wantLevel+`"`) {
				t.Errorf("log = %s, want level %s", logs.String(), tt.wantLevel)
			}
		})
	}
}

func TestNewExpiryWatcherErrors(t *testing.T) {
	cert := func() *x509.Certificate { return nil }
	for _, opts := range []tlsutil.ExpiryOptions{
		{},
		{Certificate: cert, Within: -1},
		{Certificate: cert, Interval: -1},
	} {
		if _, err := tlsutil.NewExpiryWatcher(opts); err == nil {
			t.Errorf("NewExpiryWatcher(%+v): err = nil, want an error", opts)
		}
	}
}
