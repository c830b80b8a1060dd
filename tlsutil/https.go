package tlsutil

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/internal/forwarded"
)

const (
	// DefaultHSTSMaxAge is the HSTS max-age used when Options.HSTSMaxAge is zero: two years,
	// Mozilla's recommendation (MOZ-TLS 6.0), above ASVS5 3.4.1's one year.
	DefaultHSTSMaxAge = encode.DefaultHSTSMaxAge
	// MinPreloadMaxAge is the shortest max-age the HSTS preload list accepts (HSTSP: one year).
	MinPreloadMaxAge = encode.MinHSTSPreloadMaxAge
)

// ErrInsecureTransport is passed to ErrorHandler when a request did not arrive over HTTPS.
// Clients see a 403 problem+json whose detail says HTTPS is required.
var ErrInsecureTransport = errors.New("tlsutil: request not made over https")

// ErrHSTSPreload is wrapped by the error of [RequireHTTPS] when HSTSPreload is set but the
// header would not be accepted by the preload list; the error names what is missing. It is
// the same value as encode.ErrHSTSPreload: both packages build the header with
// encode.HSTSValue.
var ErrHSTSPreload = encode.ErrHSTSPreload

// Options configures [RequireHTTPS] and [IsHTTPS]. The zero value refuses every request that
// did not arrive over TLS on this server, trusts no proxy header, and sends
// Strict-Transport-Security: max-age=63072000; includeSubDomains on HTTPS responses.
type Options struct {
	// TrustedProxies are the peers (by TCP address) whose X-Forwarded-Proto (or Forwarded
	// proto=) is believed. If empty, only a TLS connection to this server counts as HTTPS,
	// and a forged header from a client is ignored (ASVS5 4.1.3).
	TrustedProxies []netip.Prefix
	// UseForwardedHeader reads the RFC 7239 Forwarded header instead of X-Forwarded-Proto.
	// Set it only when the trusted proxies write Forwarded; the other header is then ignored.
	UseForwardedHeader bool

	// Redirect sends plain-HTTP requests to HTTPS (301 for GET and HEAD, 308 otherwise)
	// instead of refusing them. If false, they get a 403 problem+json: the right answer for
	// APIs, whose clients would silently resend tokens over plain HTTP (ASVS5 4.1.2).
	// Use it only on browser routes. It needs CanonicalHost or AllowedHosts.
	Redirect bool
	// CanonicalHost, AllowedHosts and HTTPSPort choose the redirect target as in
	// [RedirectOptions]. Setting them without Redirect is an error.
	CanonicalHost string
	AllowedHosts  []string
	HTTPSPort     int

	// HSTSMaxAge is the max-age of Strict-Transport-Security. If zero, DefaultHSTSMaxAge
	// (two years). It is truncated to whole seconds and must be at least a second; values
	// under a year are accepted for a staged roll-out but fail ASVS5 3.4.1.
	HSTSMaxAge time.Duration
	// UnsafeHSTSNoSubdomains leaves includeSubDomains out of the header, leaving subdomains
	// open to SSL stripping. If false, it is sent.
	UnsafeHSTSNoSubdomains bool
	// HSTSPreload adds the preload directive (ASVS5 3.7.4). It is refused unless HSTSMaxAge is
	// at least MinPreloadMaxAge and UnsafeHSTSNoSubdomains is false. Read the preload caveats
	// in the package documentation first: leaving the list takes months.
	HSTSPreload bool
	// UnsafeNoHSTS sends no Strict-Transport-Security header, for when encode.Headers or the
	// proxy already sends it. If false, every HTTPS response carries it.
	UnsafeNoHSTS bool

	// OnLeakedCredential is called (on the request goroutine, before the refusal or redirect)
	// for a plain-HTTP request that carried an Authorization header or a cookie: the credential
	// crossed the network in clear text and should be revoked. If nil, the event is only
	// logged. The values are never logged.
	OnLeakedCredential func(r *http.Request)
	// ErrorHandler writes the response for a refused request (ErrInsecureTransport, and
	// ErrHostNotAllowed or ErrInvalidTarget when redirecting).
	// If nil, encode.ErrorHandler(Logger, "input_validation_fail").
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives the leaked-credential event and is used by the default ErrorHandler.
	// If nil, slog.Default().
	Logger *slog.Logger
}

// policy is the validated, read-only form of Options.
type policy struct {
	res          *forwarded.Resolver // nil when no proxy is trusted
	hsts         []string            // shared, never modified; nil when omitted
	redirect     *redirector         // nil when refusing
	onLeak       func(*http.Request)
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
}

func newPolicy(opts Options) (*policy, error) {
	var errs []error
	p := &policy{onLeak: opts.OnLeakedCredential, logger: opts.Logger}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	p.errorHandler = opts.ErrorHandler
	if p.errorHandler == nil {
		p.errorHandler = encode.ErrorHandler(p.logger, "input_validation_fail")
	}
	if len(opts.TrustedProxies) > 0 {
		src := forwarded.XForwarded
		if opts.UseForwardedHeader {
			src = forwarded.Forwarded
		}
		res, err := forwarded.New(opts.TrustedProxies, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("tlsutil: Options.TrustedProxies holds an invalid prefix: %w", err))
		}
		p.res = res
	}
	if opts.Redirect {
		rd, rerrs := newRedirector("Options", opts.CanonicalHost, opts.AllowedHosts, opts.HTTPSPort)
		errs = append(errs, rerrs...)
		p.redirect = rd
	} else if opts.CanonicalHost != "" || len(opts.AllowedHosts) > 0 || opts.HTTPSPort != 0 {
		// Silently ignoring them would leave the operator believing redirects are on.
		errs = append(errs, errors.New("tlsutil: Options.CanonicalHost, AllowedHosts and HTTPSPort need Redirect"))
	}
	hsts, err := hstsValue(opts)
	if err != nil {
		errs = append(errs, err)
	}
	if !opts.UnsafeNoHSTS {
		// A full slice expression, so that a handler's Header().Add copies instead of
		// writing into the shared array.
		v := []string{hsts}
		p.hsts = v[:1:1]
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// hstsValue builds the Strict-Transport-Security value (HSTSP, ASVS5 3.4.1, 3.7.4).
func hstsValue(opts Options) (string, error) {
	if opts.UnsafeNoHSTS {
		if opts.HSTSPreload {
			return "", errors.New("tlsutil: Options.HSTSPreload conflicts with UnsafeNoHSTS")
		}
		return "", nil
	}
	v, err := encode.HSTSValue(opts.HSTSMaxAge, !opts.UnsafeHSTSNoSubdomains, opts.HSTSPreload)
	if err != nil {
		return "", fmt.Errorf("tlsutil: Options: %w", err)
	}
	return v, nil
}

// isHTTPS reports whether r reached this server, or the first trusted proxy, over TLS.
func (p *policy) isHTTPS(r *http.Request) bool {
	return r.TLS != nil || p.res.Secure(r)
}

// RequireHTTPS returns middleware that lets through only requests that arrived over HTTPS
// (directly, or through a trusted proxy that says so) and adds Strict-Transport-Security to
// their responses. Any other request is refused with a 403 problem+json through
// opts.ErrorHandler, or redirected when opts.Redirect is set. A plain-HTTP request that carried
// an Authorization header or a cookie is first logged as "authn_token_leaked" (never with
// the value) and passed to opts.OnLeakedCredential.
//
// On an HTTPS request it makes no allocations. It reports invalid options as an error (a
// preload request that the list would refuse wraps [ErrHSTSPreload]) and never panics.
// The middleware is safe for concurrent use.
func RequireHTTPS(opts Options) (func(http.Handler) http.Handler, error) {
	p, err := newPolicy(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("tlsutil: RequireHTTPS wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p.isHTTPS(r) {
				if p.hsts != nil {
					w.Header()["Strict-Transport-Security"] = p.hsts
				}
				next.ServeHTTP(w, r)
				return
			}
			p.plain(w, r)
		})
	}, nil
}

// IsHTTPS returns the check [RequireHTTPS] makes with the same opts: whether a request arrived
// over TLS, directly or through a trusted proxy. Pass it to encode.HeadersOptions.IsTLS so
// that both agree. It reports invalid options as [RequireHTTPS] does. The function is safe for
// concurrent use and makes no allocations.
func IsHTTPS(opts Options) (func(*http.Request) bool, error) {
	p, err := newPolicy(opts)
	if err != nil {
		return nil, err
	}
	return p.isHTTPS, nil
}

// plain handles a request that did not arrive over HTTPS.
func (p *policy) plain(w http.ResponseWriter, r *http.Request) {
	p.checkLeak(r)
	if p.redirect != nil {
		p.redirect.redirect(w, r, p.errorHandler)
		return
	}
	p.errorHandler(w, r, &encode.Error{
		Status: http.StatusForbidden,
		Detail: "HTTPS is required.",
		Err:    ErrInsecureTransport,
	})
}

// checkLeak logs and reports a plain-HTTP request that carried a credential. Only the kind of
// credential is logged, never its value or the cookie names.
func (p *policy) checkLeak(r *http.Request) {
	_, auth := r.Header["Authorization"]
	_, cookie := r.Header["Cookie"]
	if !auth && !cookie {
		return
	}
	kind := "authorization"
	switch {
	case auth && cookie:
		kind = "authorization,cookie"
	case cookie:
		kind = "cookie"
	}
	attrs := []slog.Attr{
		slog.String("credential", kind),
		slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()),
		slog.String("source_ip", r.RemoteAddr),
	}
	if c := p.res.ClientAddr(r); c.IsValid() {
		attrs = append(attrs, slog.String("client_ip", c.String()))
	}
	if id, ok := encode.RequestIDFromContext(r.Context()); ok {
		attrs = append(attrs, slog.String("request_id", id))
	}
	p.logger.LogAttrs(r.Context(), slog.LevelError, "authn_token_leaked", attrs...)
	if p.onLeak != nil {
		p.onLeak(r)
	}
}
