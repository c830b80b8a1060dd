package ratelimit

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// LoginOptions configures [Login]. Account is required; the zero value of every other field
// is the strict default.
type LoginOptions struct {
	// Account returns the account a login request is for, such as the submitted user name
	// (a func that calls r.ParseForm leaves r.Form for the handler). Required. A request
	// without one is counted under a shared fallback key.
	Account func(r *http.Request) string
	// PerAccount limits failed logins per account, whatever address they come from
	// (CS-Authentication "Account Lockout"; API2:2023: rotating addresses does not help).
	// Only responses with status 400 or above are charged, so a user who logs in correctly
	// is never slowed down by it. If zero, "5 per 15 minutes" named "login-account".
	PerAccount Policy
	// PerAddress limits every login attempt per client address, so one address cannot spray
	// many accounts (credential stuffing). If zero, "20 per minute, burst 10" named
	// "login-address".
	PerAddress Policy
	// TrustedProxies, UseForwardedHeader and IPv6PrefixLen work as in [Options].
	TrustedProxies     []netip.Prefix
	UseForwardedHeader bool
	IPv6PrefixLen      int
	// Store keeps the state of both limits. If nil, a new [MemoryStore].
	Store Store
	// ErrorHandler and Logger work as in [Options].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	Logger       *slog.Logger
}

// Login returns middleware for a login endpoint: a per-address limit on all attempts in front
// of a per-account limit on failed attempts, both answered with 429 and Retry-After. Pair it
// with [Guard] for growing bans. It reports invalid options as an error and never panics.
func Login(opts LoginOptions) (func(http.Handler) http.Handler, error) {
	if opts.Account == nil {
		return nil, errors.New("ratelimit: LoginOptions.Account is required")
	}
	account, address := opts.PerAccount, opts.PerAddress
	if account == (Policy{}) {
		account = Policy{Name: "login-account", Limit: 5, Period: 15 * time.Minute}
	}
	if address == (Policy{}) {
		address = Policy{Name: "login-address", Limit: 20, Period: time.Minute, Burst: 10}
	}
	store := opts.Store
	if store == nil {
		store, _ = NewMemoryStore(MemoryOptions{})
	}
	byAddress, errA := New(Options{
		Policies:           []Policy{address},
		TrustedProxies:     opts.TrustedProxies,
		UseForwardedHeader: opts.UseForwardedHeader,
		IPv6PrefixLen:      opts.IPv6PrefixLen,
		Store:              store,
		ErrorHandler:       opts.ErrorHandler,
		Logger:             opts.Logger,
	})
	byAccount, errB := New(Options{
		Policies:     []Policy{account},
		Key:          opts.Account,
		FallbackKey:  "login-no-account",
		Count:        CountFailures,
		Store:        store,
		ErrorHandler: opts.ErrorHandler,
		Logger:       opts.Logger,
		OmitHeaders:  true, // the per-address limiter's headers describe the client's own quota
	})
	if err := errors.Join(errA, errB); err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return byAddress(byAccount(next))
	}, nil
}
