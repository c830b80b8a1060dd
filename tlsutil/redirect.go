package tlsutil

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/bulwark-go/bulwark/encode"
)

// ErrHostNotAllowed is passed to ErrorHandler when a plain-HTTP request names a Host that is
// neither the canonical host nor on the allow-list, and there is no canonical host to send it
// to instead. Clients see a generic 400.
var ErrHostNotAllowed = errors.New("tlsutil: host not allowed")

// ErrInvalidTarget is passed to ErrorHandler when the request target holds characters that
// must not be copied into a Location header (control characters or spaces). Clients see a
// generic 400.
var ErrInvalidTarget = errors.New("tlsutil: invalid request target")

// ChallengeHandler answers ACME HTTP-01 challenges on the plain-HTTP listener and passes every
// other request to fallback. [*autocert.Manager] (golang.org/x/crypto/acme/autocert) has this
// method.
type ChallengeHandler interface {
	HTTPHandler(fallback http.Handler) http.Handler
}

// RedirectOptions configures [RedirectHandler]. CanonicalHost or AllowedHosts is required.
type RedirectOptions struct {
	// CanonicalHost is the host every redirect goes to unless the request's Host is in
	// AllowedHosts. If empty, a Host that is not allowed gets a 400 instead of a redirect.
	CanonicalHost string
	// AllowedHosts are hosts a redirect keeps as they are (same-host redirects, as HSTS
	// preload asks). Matching ignores case, the port and a trailing dot.
	AllowedHosts []string
	// HTTPSPort is the port of the HTTPS listener. If zero, 443 (left out of the URL).
	HTTPSPort int
	// ACME, if set, answers ACME HTTP-01 challenges before redirecting. If nil, challenge
	// paths are redirected like any other.
	ACME ChallengeHandler
	// ErrorHandler writes the response for a refused request (ErrHostNotAllowed,
	// ErrInvalidTarget). If nil, encode.ErrorHandler(Logger, "input_validation_fail").
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger is used by the default ErrorHandler. If nil, slog.Default().
	Logger *slog.Logger
}

// redirector builds https URLs for plain-HTTP requests without trusting the Host header.
type redirector struct {
	canonical string
	allowed   map[string]bool
	port      int
}

func newRedirector(typ, canonical string, allowed []string, port int) (*redirector, []error) {
	var errs []error
	rd := &redirector{allowed: make(map[string]bool, len(allowed)), port: port}
	if canonical != "" {
		h, ok := normalizeHost(canonical)
		if !ok {
			errs = append(errs, fmt.Errorf("tlsutil: %s.CanonicalHost %q is not a host name or IP address", typ, canonical))
		}
		rd.canonical = h
	}
	for _, a := range allowed {
		h, ok := normalizeHost(a)
		if !ok {
			errs = append(errs, fmt.Errorf("tlsutil: %s.AllowedHosts entry %q is not a host name or IP address", typ, a))
			continue
		}
		rd.allowed[h] = true
	}
	if rd.canonical == "" && len(rd.allowed) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("tlsutil: %s needs CanonicalHost or AllowedHosts, so that redirects never echo the Host header", typ))
	}
	if port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("tlsutil: %s.HTTPSPort %d is out of range 0..65535", typ, port))
	}
	return rd, errs
}

// redirect answers r with a 301 (GET, HEAD) or 308 (other methods, which keeps the method and
// body) to the https URL with the same path and query. The host is the request's own when it
// is allowed, else the canonical host; the Host header itself is never copied.
func (rd *redirector) redirect(w http.ResponseWriter, r *http.Request, errorHandler func(http.ResponseWriter, *http.Request, error)) {
	host := requestHost(r.Host)
	if !rd.allowed[host] {
		host = rd.canonical
	}
	if host == "" {
		errorHandler(w, r, &encode.Error{Status: http.StatusBadRequest, Err: ErrHostNotAllowed})
		return
	}
	path := r.URL.EscapedPath()
	if path == "" || path[0] != '/' {
		path = "/"
	}
	if !safeTarget(path) || !safeTarget(r.URL.RawQuery) {
		errorHandler(w, r, &encode.Error{Status: http.StatusBadRequest, Err: ErrInvalidTarget})
		return
	}
	loc := "https://" + hostPort(host, rd.port) + path
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	status := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		status = http.StatusMovedPermanently
	}
	h := w.Header()
	h.Set("Location", loc)
	// No Strict-Transport-Security here: browsers ignore it over plain HTTP (RFC 6797 §7.2).
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

// safeTarget reports whether s has no control characters, spaces or non-ASCII bytes.
func safeTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// RedirectHandler returns the handler for the plain-HTTP listener: every request is redirected
// to HTTPS with the same path and query, 301 for GET and HEAD and 308 for other methods. The
// target host is the request's Host only when it is in opts.AllowedHosts, else
// opts.CanonicalHost; a Host such as "evil.example" or one carrying CR/LF is never echoed
// (no open redirect, no header injection), and without a canonical host it gets a generic
// 400 problem+json. ACME HTTP-01 challenges are answered first when opts.ACME is set.
//
// Use it only for browser-facing hosts: an API should not listen on plain HTTP at all, or
// answer it with [RequireHTTPS], which refuses (ASVS5 4.1.2). Responses carry no HSTS header.
// It reports invalid options as an error and never panics. It is safe for concurrent use.
func RedirectHandler(opts RedirectOptions) (http.Handler, error) {
	rd, errs := newRedirector("RedirectOptions", opts.CanonicalHost, opts.AllowedHosts, opts.HTTPSPort)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	eh := opts.ErrorHandler
	if eh == nil {
		eh = encode.ErrorHandler(opts.Logger, "input_validation_fail")
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.redirect(w, r, eh)
	})
	if opts.ACME != nil {
		h = opts.ACME.HTTPHandler(h)
	}
	return h, nil
}
