package tlsutil

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Defaults of [ServerOptions]. They bound how long a client may hold a connection and how much
// header it may send (API4:2023): a slow-header (slowloris) client is cut off after
// DefaultReadHeaderTimeout.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	// ShutdownTimeout is how long [Serve] waits for requests in flight after a stop signal.
	ShutdownTimeout = 30 * time.Second
)

// ServerOptions configures [NewServer]. Handler and TLSConfig are required, unless PlainHTTP
// is set; every zero timeout or limit means its default, which is never "unlimited".
type ServerOptions struct {
	// Addr is the address to listen on. If empty, ":https", or ":http" with PlainHTTP.
	Addr string
	// Handler serves requests. Required.
	Handler http.Handler
	// TLSConfig is the server's TLS configuration, for example [Intermediate] with
	// GetCertificate set to [Reloader.GetCertificate]. It must have Certificates,
	// GetCertificate or GetConfigForClient, and MinVersion TLS 1.2 or above (zero is raised
	// to TLS 1.2). It is cloned. Required unless PlainHTTP is set.
	TLSConfig *tls.Config
	// PlainHTTP serves without TLS. Use it only for the listener that runs [RedirectHandler];
	// TLSConfig must then be nil.
	PlainHTTP bool

	// ReadHeaderTimeout bounds reading the request line and headers, and the TLS handshake.
	// If zero, DefaultReadHeaderTimeout (5 s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. If zero, DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the response. If zero, DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next request.
	// If zero, DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers. If zero, DefaultMaxHeaderBytes
	// (64 KiB, not net/http's 1 MiB).
	MaxHeaderBytes int
	// Logger receives the server's own errors (TLS handshake failures, panics) at Warn.
	// If nil, slog.Default().
	Logger *slog.Logger
}

// NewServer returns an [http.Server] with every timeout and the header size bounded, and the
// TLS configuration checked. Run it with [Serve] or [ListenAndServe] to get graceful shutdown.
// It reports invalid options as an error and never panics.
func NewServer(opts ServerOptions) (*http.Server, error) {
	var errs []error
	if opts.Handler == nil {
		errs = append(errs, errors.New("tlsutil: ServerOptions.Handler is required"))
	}
	var cfg *tls.Config
	switch {
	case opts.PlainHTTP && opts.TLSConfig != nil:
		errs = append(errs, errors.New("tlsutil: ServerOptions.PlainHTTP and TLSConfig are both set"))
	case opts.PlainHTTP:
	case opts.TLSConfig == nil:
		errs = append(errs, errors.New("tlsutil: ServerOptions.TLSConfig is required (or set PlainHTTP for the redirect listener)"))
	default:
		cfg = opts.TLSConfig.Clone()
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
		if cfg.MinVersion < tls.VersionTLS12 {
			errs = append(errs, errors.New("tlsutil: ServerOptions.TLSConfig.MinVersion is below TLS 1.2"))
		}
		if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
			errs = append(errs, errors.New("tlsutil: ServerOptions.TLSConfig has no Certificates, GetCertificate or GetConfigForClient"))
		}
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReadHeaderTimeout", &opts.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"ReadTimeout", &opts.ReadTimeout, DefaultReadTimeout},
		{"WriteTimeout", &opts.WriteTimeout, DefaultWriteTimeout},
		{"IdleTimeout", &opts.IdleTimeout, DefaultIdleTimeout},
	}
	for _, d := range durations {
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("tlsutil: ServerOptions.%s %v is negative", d.name, *d.v))
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.MaxHeaderBytes < 0 {
		errs = append(errs, fmt.Errorf("tlsutil: ServerOptions.MaxHeaderBytes %d is negative", opts.MaxHeaderBytes))
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = ":https"
		if opts.PlainHTTP {
			addr = ":http"
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &http.Server{
		Addr:              addr,
		Handler:           opts.Handler,
		TLSConfig:         cfg,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, nil
}

// ListenAndServe listens on srv.Addr and calls [Serve].
func ListenAndServe(ctx context.Context, srv *http.Server) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", srv.Addr)
	if err != nil {
		return err
	}
	return Serve(ctx, srv, ln)
}

// Serve serves srv on ln (over TLS when srv.TLSConfig is set) until ctx is done or the
// process receives SIGINT or SIGTERM, then shuts down gracefully: it stops accepting, lets
// requests in flight finish for up to ShutdownTimeout, and returns. It returns nil after a
// clean shutdown, and the serve or shutdown error otherwise. ln is closed on return.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
