package tlsutil

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// maxPEMSize bounds how much of a certificate or key file is read.
const maxPEMSize = 1 << 20

// ErrInvalidCertificate is returned by [NewReloader] and [Reloader.Reload] when the files do
// not hold a usable certificate and matching private key (garbage, a key that does not
// match, an RSA key under 2048 bits). The wrapping error says why.
var ErrInvalidCertificate = errors.New("tlsutil: invalid certificate or key")

// ErrCertificateExpired is returned by [NewReloader] and [Reloader.Reload] when the
// certificate is expired or not yet valid.
var ErrCertificateExpired = errors.New("tlsutil: certificate outside its validity period")

// ReloaderOptions configures [NewReloader]. CertFile and KeyFile are required.
type ReloaderOptions struct {
	// CertFile is the PEM certificate file: the leaf first, then any intermediates.
	CertFile string
	// KeyFile is the PEM private key file of the leaf.
	KeyFile string
	// Interval is how often [Reloader.Run] checks the files for changes. If zero, one minute.
	Interval time.Duration
	// Logger receives "tls_cert_reloaded" (Info) and "tls_cert_reload_fail" (Error) events.
	// If nil, slog.Default().
	Logger *slog.Logger
}

// Reloader serves a certificate from PEM files and swaps in a new pair when the files change
// or [Reloader.Reload] is called, without restarting the server. A new pair replaces the
// served one only if it parses, the key matches, and the certificate is within its validity
// period; otherwise the old pair stays and the reason is logged. Handshakes in flight keep
// the pair they started with: the swap is a single atomic pointer store.
//
// It is safe for concurrent use. It starts no goroutine; call [Reloader.Run] to poll.
type Reloader struct {
	certFile, keyFile string
	interval          time.Duration
	logger            *slog.Logger

	cur atomic.Pointer[tls.Certificate]

	mu          sync.Mutex        // serializes reloads and guards the fields below
	lastSum     [sha256.Size]byte // of the files last tried, valid or not
	lastReadErr string            // last read failure logged by Run
}

// NewReloader loads the pair named by opts and returns a Reloader that serves it. It returns
// an error (wrapping [ErrInvalidCertificate] or [ErrCertificateExpired]) if the files cannot
// be read or do not hold a valid pair, so that a server never starts without a certificate.
func NewReloader(opts ReloaderOptions) (*Reloader, error) {
	var errs []error
	if opts.CertFile == "" {
		errs = append(errs, errors.New("tlsutil: ReloaderOptions.CertFile is required"))
	}
	if opts.KeyFile == "" {
		errs = append(errs, errors.New("tlsutil: ReloaderOptions.KeyFile is required"))
	}
	if opts.Interval < 0 {
		errs = append(errs, fmt.Errorf("tlsutil: ReloaderOptions.Interval %v is negative", opts.Interval))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Reloader{certFile: opts.CertFile, keyFile: opts.KeyFile, interval: opts.Interval, logger: opts.Logger}
	if r.interval == 0 {
		r.interval = time.Minute
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	certPEM, keyPEM, err := r.read()
	if err != nil {
		return nil, err
	}
	c, err := parsePair(certPEM, keyPEM, time.Now())
	if err != nil {
		return nil, err
	}
	r.cur.Store(c)
	r.lastSum = sum(certPEM, keyPEM)
	return r, nil
}

// GetCertificate returns the current certificate; use it as [tls.Config.GetCertificate].
// The returned value is shared and must not be modified.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// Leaf returns the parsed leaf of the current certificate, for [ExpiryOptions.Certificate].
func (r *Reloader) Leaf() *x509.Certificate {
	return r.cur.Load().Leaf
}

// Reload reads the files now and swaps in their pair if it is valid. On failure the current
// pair keeps being served, the reason is logged, and the error is returned.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	certPEM, keyPEM, err := r.read()
	if err != nil {
		r.logFail(err)
		return err
	}
	return r.swap(certPEM, keyPEM, time.Now())
}

// Run checks the files every ReloaderOptions.Interval and reloads when their content changed,
// until ctx is done. A pair that failed to load is not retried (nor logged again) until the
// files change once more. It returns ctx's error.
func (r *Reloader) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			r.reloadIfChanged()
		}
	}
}

func (r *Reloader) reloadIfChanged() {
	r.mu.Lock()
	defer r.mu.Unlock()
	certPEM, keyPEM, err := r.read()
	if err != nil {
		// A file missing for a moment during a rotation is normal; the next tick retries.
		// Log each distinct failure once, like a bad pair.
		if msg := err.Error(); msg != r.lastReadErr {
			r.lastReadErr = msg
			r.logFail(err)
		}
		return
	}
	r.lastReadErr = ""
	if sum(certPEM, keyPEM) == r.lastSum {
		return
	}
	_ = r.swap(certPEM, keyPEM, time.Now())
}

// swap validates the pair and stores it. r.mu is held.
func (r *Reloader) swap(certPEM, keyPEM []byte, now time.Time) error {
	r.lastSum = sum(certPEM, keyPEM)
	c, err := parsePair(certPEM, keyPEM, now)
	if err != nil {
		r.logFail(err)
		return err
	}
	old := r.cur.Swap(c)
	if old != nil && bytes.Equal(old.Certificate[0], c.Certificate[0]) {
		return nil
	}
	r.logger.LogAttrs(context.Background(), slog.LevelInfo, "tls_cert_reloaded",
		slog.String("cert_file", r.certFile),
		slog.String("serial", c.Leaf.SerialNumber.Text(16)),
		slog.String("subject", c.Leaf.Subject.CommonName),
		slog.Time("not_after", c.Leaf.NotAfter))
	return nil
}

func (r *Reloader) logFail(err error) {
	// The error text names the file and the reason; it never carries key material.
	r.logger.LogAttrs(context.Background(), slog.LevelError, "tls_cert_reload_fail",
		slog.String("cert_file", r.certFile),
		slog.String("key_file", r.keyFile),
		slog.String("error", err.Error()))
}

func (r *Reloader) read() (certPEM, keyPEM []byte, err error) {
	certPEM, err = readFile(r.certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = readFile(r.keyFile)
	if err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	if len(b) > maxPEMSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidCertificate, name, maxPEMSize)
	}
	return b, nil
}

func sum(certPEM, keyPEM []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	var s [sha256.Size]byte
	h.Sum(s[:0])
	return s
}

// parsePair checks that the PEM blocks are a certificate and its key, valid at now.
func parsePair(certPEM, keyPEM []byte, now time.Time) (*tls.Certificate, error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
		}
	}
	if pub, ok := c.Leaf.PublicKey.(*rsa.PublicKey); ok && pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("%w: RSA key of %d bits, under 2048", ErrInvalidCertificate, pub.N.BitLen())
	}
	if now.After(c.Leaf.NotAfter) {
		return nil, fmt.Errorf("%w: expired at %s", ErrCertificateExpired, c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(c.Leaf.NotBefore) {
		return nil, fmt.Errorf("%w: not valid before %s", ErrCertificateExpired, c.Leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return &c, nil
}
