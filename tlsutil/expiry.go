package tlsutil

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultExpiryWarning is how long before expiry [ExpiryWatcher] starts warning when
// ExpiryOptions.Within is zero.
const DefaultExpiryWarning = 21 * 24 * time.Hour

// ExpiryOptions configures [NewExpiryWatcher]. Certificate is required.
type ExpiryOptions struct {
	// Certificate returns the leaf being served, for example [Reloader.Leaf]. A nil result
	// is reported as a problem.
	Certificate func() *x509.Certificate
	// Within is how long before NotAfter warnings start. If zero, DefaultExpiryWarning
	// (21 days).
	Within time.Duration
	// Interval is how often [ExpiryWatcher.Run] checks. If zero, 12 hours.
	Interval time.Duration
	// OnExpiring is called on each check that finds the certificate within Within of its
	// expiry (or past it, with a negative left), for example to page someone or to force a
	// renewal. If nil, the event is only logged.
	OnExpiring func(leaf *x509.Certificate, left time.Duration)
	// Logger receives "tls_cert_expiring" (Warn, or Error once expired or missing).
	// If nil, slog.Default().
	Logger *slog.Logger
}

// ExpiryWatcher warns when the served certificate nears its expiry. It is safe for
// concurrent use and starts no goroutine; call [ExpiryWatcher.Run] or [ExpiryWatcher.Check].
type ExpiryWatcher struct {
	cert       func() *x509.Certificate
	within     time.Duration
	interval   time.Duration
	onExpiring func(*x509.Certificate, time.Duration)
	logger     *slog.Logger
}

// NewExpiryWatcher returns an ExpiryWatcher, or an error naming the invalid options.
func NewExpiryWatcher(opts ExpiryOptions) (*ExpiryWatcher, error) {
	var errs []error
	if opts.Certificate == nil {
		errs = append(errs, errors.New("tlsutil: ExpiryOptions.Certificate is required"))
	}
	if opts.Within < 0 {
		errs = append(errs, fmt.Errorf("tlsutil: ExpiryOptions.Within %v is negative", opts.Within))
	}
	if opts.Interval < 0 {
		errs = append(errs, fmt.Errorf("tlsutil: ExpiryOptions.Interval %v is negative", opts.Interval))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w := &ExpiryWatcher{cert: opts.Certificate, within: opts.Within, interval: opts.Interval,
		onExpiring: opts.OnExpiring, logger: opts.Logger}
	if w.within == 0 {
		w.within = DefaultExpiryWarning
	}
	if w.interval == 0 {
		w.interval = 12 * time.Hour
	}
	if w.logger == nil {
		w.logger = slog.Default()
	}
	return w, nil
}

// Check looks at the certificate as of now. If it expires within the warning window (or has
// expired, or is missing), Check logs it, calls OnExpiring (except when missing) and reports
// true.
func (w *ExpiryWatcher) Check(now time.Time) bool {
	leaf := w.cert()
	if leaf == nil {
		w.logger.LogAttrs(context.Background(), slog.LevelError, "tls_cert_expiring",
			slog.String("error", "no certificate is being served"))
		return true
	}
	left := leaf.NotAfter.Sub(now)
	if left > w.within {
		return false
	}
	level := slog.LevelWarn
	if left <= 0 {
		level = slog.LevelError
	}
	w.logger.LogAttrs(context.Background(), level, "tls_cert_expiring",
		slog.String("serial", leaf.SerialNumber.Text(16)),
		slog.String("subject", leaf.Subject.CommonName),
		slog.Time("not_after", leaf.NotAfter),
		slog.Duration("left", left))
	if w.onExpiring != nil {
		w.onExpiring(leaf, left)
	}
	return true
}

// Run calls Check at once and then every ExpiryOptions.Interval until ctx is done, and
// returns ctx's error.
func (w *ExpiryWatcher) Run(ctx context.Context) error {
	w.Check(time.Now())
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			w.Check(now)
		}
	}
}
