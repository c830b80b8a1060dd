package encode

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Profile picks the defaults of [Headers].
type Profile int

const (
	// ProfileAPI, the zero value, is for responses that are data, never rendered as a page:
	// Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" lets nothing load or
	// run even if a browser is tricked into rendering the body.
	ProfileAPI Profile = iota
	// ProfileDocument is for HTML pages: a strict, nonce-based Content-Security-Policy with
	// 'strict-dynamic', object-src 'none' and base-uri 'none', and a fresh random nonce per
	// response (see [NonceFromContext]).
	ProfileDocument
)

// Default header values. They are exported so that tests and documentation can name them.
const (
	// APIContentSecurityPolicy is the Content-Security-Policy of [ProfileAPI].
	APIContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"
	// DocumentContentSecurityPolicy is the Content-Security-Policy of [ProfileDocument].
	// NoncePlaceholder stands for the response's nonce.
	DocumentContentSecurityPolicy = "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; " +
		"style-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; " +
		"frame-ancestors 'none'; form-action 'self'"
	// NoncePlaceholder, in a Content-Security-Policy, is replaced by the response's nonce.
	NoncePlaceholder = "{nonce}"
	// DefaultPermissionsPolicy turns off powerful browser features for the page and its frames.
	DefaultPermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), " +
		"encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), " +
		"microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), " +
		"screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=()"
	// DefaultHSTSMaxAge is two years, the value Mozilla's TLS guidelines recommend.
	DefaultHSTSMaxAge = 2 * 365 * 24 * time.Hour
	// MinHSTSPreloadMaxAge is the shortest max-age the HSTS preload list accepts.
	MinHSTSPreloadMaxAge = 365 * 24 * time.Hour
)

// nonceBytes is the size of a CSP nonce before encoding: 128 bits, as CSP3 asks.
const nonceBytes = 16

// disclosureHeaders are always stripped: the two that name the server's software in front of or
// behind a Go service (a reverse-proxied upstream, a framework), and X-XSS-Protection, which is
// obsolete and whose "1" enabled an XSS vector in old browsers. The list is short because every
// name costs a map lookup on every response; other stacks' headers go in RemoveHeaders.
var disclosureHeaders = []string{"Server", "X-Powered-By", "X-Xss-Protection"}

// HeadersOptions configures [Headers]. The zero value is the strict API profile:
//
//	Strict-Transport-Security: max-age=63072000; includeSubDomains   (TLS requests only)
//	X-Content-Type-Options: nosniff
//	Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//	Referrer-Policy: no-referrer
//	Permissions-Policy: accelerometer=(), ... (DefaultPermissionsPolicy)
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//	Cache-Control: no-store
//
// The document profile changes the Content-Security-Policy (see [ProfileDocument]) and adds
// Cross-Origin-Embedder-Policy: require-corp, which only governs what a page may embed and so
// has no effect on an API response.
// and Server, X-Powered-By and similar disclosure headers are removed from the response.
// A handler may still override any of these per response with w.Header().Set.
type HeadersOptions struct {
	// Profile selects the defaults; the zero value is ProfileAPI.
	Profile Profile
	// ContentSecurityPolicy replaces the profile's policy. Every NoncePlaceholder in it is
	// replaced by a fresh nonce for each response. If empty, the profile's policy.
	ContentSecurityPolicy string
	// ReportingEndpoint is an absolute https URL that receives CSP violation reports. If set,
	// a Reporting-Endpoints header is sent and the policy gains report-to and report-uri.
	// If empty, no reports are requested.
	ReportingEndpoint string

	// HSTSMaxAge is the max-age of Strict-Transport-Security, in whole seconds.
	// If zero, DefaultHSTSMaxAge (two years). Negative values and values under a second
	// (which would switch HSTS off) are an error.
	HSTSMaxAge time.Duration
	// HSTSPreload adds the preload directive. The constructor refuses it unless the header
	// meets the preload list's rules: max-age of at least a year and includeSubDomains.
	// Preloading is hard to undo; read https://hstspreload.org first.
	HSTSPreload bool
	// UnsafeHSTSNoSubdomains drops includeSubDomains, leaving subdomains open to SSL stripping.
	UnsafeHSTSNoSubdomains bool
	// UnsafeNoHSTS sends no Strict-Transport-Security at all: only for when another layer
	// (a TLS-terminating proxy, tlsutil.RequireHTTPS) sends it.
	UnsafeNoHSTS bool
	// IsTLS reports whether the request reached the service over TLS; HSTS is only sent then,
	// as browsers ignore it over plain HTTP (RFC 6797 §7.2). If nil, r.TLS != nil. Behind a
	// TLS-terminating proxy, pass a function that trusts X-Forwarded-Proto only from that
	// proxy (for example the one from tlsutil).
	IsTLS func(r *http.Request) bool

	// ReferrerPolicy is one of "no-referrer", "same-origin", "strict-origin" or
	// "strict-origin-when-cross-origin". If empty, "no-referrer".
	ReferrerPolicy string
	// PermissionsPolicy replaces DefaultPermissionsPolicy. If empty, the default.
	PermissionsPolicy string
	// CrossOriginOpenerPolicy is "same-origin", "same-origin-allow-popups" or
	// "noopener-allow-popups". If empty, "same-origin".
	CrossOriginOpenerPolicy string
	// CrossOriginResourcePolicy is "same-origin", "same-site" or "cross-origin" (for public
	// resources other sites may embed). If empty, "same-origin".
	CrossOriginResourcePolicy string
	// CrossOriginEmbedderPolicy is "require-corp", "credentialless" or "unsafe-none".
	// If empty, "require-corp" in the document profile and none in the API profile.
	CrossOriginEmbedderPolicy string
	// CacheControl replaces the default "no-store", which keeps responses (and nonces) out of
	// every cache. Set a looser value per response in the handler rather than here.
	CacheControl string
	// RemoveHeaders names more response headers to strip, on top of Server, X-Powered-By and
	// X-XSS-Protection: for example X-AspNet-Version or X-Generator when proxying such stacks.
	RemoveHeaders []string
}

// maxFixedHeaders bounds the header values one response carries; it sizes secureWriter.vals.
const maxFixedHeaders = 10

type headerField struct {
	key string // canonical
	val string
}

type headerSet struct {
	fixed    []headerField // sent on every response
	hsts     string        // empty when HSTS is off
	isTLS    func(*http.Request) bool
	cspParts []string // the policy split at NoncePlaceholder; len > 1 means nonces
	cspLen   int      // length of the policy with nonces filled in
	remove   []string
}

// Headers returns middleware that adds security headers to every response and strips headers
// that disclose the server's software. The headers are set before the wrapped handler runs, so
// they are also on error responses, and the handler may override any of them.
//
// In the document profile (or whenever the policy holds NoncePlaceholder) each response gets
// a new 128-bit nonce from crypto/rand, available to the handler through [NonceFromContext].
// It reports invalid options (bad tokens, CR or LF in values, a preload setting the preload
// list would refuse) as one error naming every bad field, and never panics.
func Headers(opts HeadersOptions) (func(http.Handler) http.Handler, error) {
	hs, err := newHeaderSet(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("encode: Headers wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hs.serve(w, r, next)
		})
	}, nil
}

func newHeaderSet(o HeadersOptions) (*headerSet, error) {
	var errs []error
	field := func(name, val, def string, allowed ...string) string {
		if val == "" {
			return def
		}
		if len(allowed) > 0 {
			for _, a := range allowed {
				if val == a {
					return val
				}
			}
			errs = append(errs, fmt.Errorf("encode: HeadersOptions.%s %q is not one of %s", name, val, strings.Join(allowed, ", ")))
			return def
		}
		if !validHeaderValue(val) {
			errs = append(errs, fmt.Errorf("encode: HeadersOptions.%s holds a control or non-ASCII character", name))
			return def
		}
		return val
	}

	var csp string
	switch o.Profile {
	case ProfileAPI:
		csp = APIContentSecurityPolicy
	case ProfileDocument:
		csp = DocumentContentSecurityPolicy
	default:
		errs = append(errs, fmt.Errorf("encode: HeadersOptions.Profile %d is unknown", o.Profile))
	}
	csp = field("ContentSecurityPolicy", o.ContentSecurityPolicy, csp)

	hs := &headerSet{isTLS: o.IsTLS}
	add := func(key, val string) { hs.fixed = append(hs.fixed, headerField{key, val}) }
	add("X-Content-Type-Options", "nosniff")
	add("Referrer-Policy", field("ReferrerPolicy", o.ReferrerPolicy, "no-referrer",
		"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"))
	add("Permissions-Policy", field("PermissionsPolicy", o.PermissionsPolicy, DefaultPermissionsPolicy))
	add("Cross-Origin-Opener-Policy", field("CrossOriginOpenerPolicy", o.CrossOriginOpenerPolicy, "same-origin",
		"same-origin", "same-origin-allow-popups", "noopener-allow-popups"))
	add("Cross-Origin-Resource-Policy", field("CrossOriginResourcePolicy", o.CrossOriginResourcePolicy, "same-origin",
		"same-origin", "same-site", "cross-origin"))
	coep := ""
	if o.Profile == ProfileDocument {
		coep = "require-corp"
	}
	if coep = field("CrossOriginEmbedderPolicy", o.CrossOriginEmbedderPolicy, coep,
		"require-corp", "credentialless", "unsafe-none"); coep != "" {
		add("Cross-Origin-Embedder-Policy", coep)
	}
	add("Cache-Control", field("CacheControl", o.CacheControl, "no-store"))

	if o.ReportingEndpoint != "" {
		if err := checkReportingEndpoint(o.ReportingEndpoint); err != nil {
			errs = append(errs, err)
		} else {
			add("Reporting-Endpoints", `csp-endpoint="`+o.ReportingEndpoint+`"`)
			csp += "; report-to csp-endpoint; report-uri " + o.ReportingEndpoint
		}
	}
	hs.cspParts = strings.Split(csp, NoncePlaceholder)
	if len(hs.cspParts) == 1 {
		add("Content-Security-Policy", csp)
	} else {
		hs.cspLen = len(csp) - (len(hs.cspParts)-1)*(len(NoncePlaceholder)-nonceLen)
	}

	hstsValue, err := hstsHeader(o)
	if err != nil {
		errs = append(errs, err)
	}
	hs.hsts = hstsValue

	hs.remove = append(hs.remove, disclosureHeaders...)
	for _, k := range o.RemoveHeaders {
		if !httpguts.ValidHeaderFieldName(k) {
			errs = append(errs, fmt.Errorf("encode: HeadersOptions.RemoveHeaders holds an invalid header name %q", k))
			continue
		}
		hs.remove = append(hs.remove, textproto.CanonicalMIMEHeaderKey(k))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hs, nil
}

// hstsHeader builds the Strict-Transport-Security value of o, or "" when it is off.
func hstsHeader(o HeadersOptions) (string, error) {
	if o.UnsafeNoHSTS {
		if o.HSTSPreload {
			return "", errors.New("encode: HeadersOptions.HSTSPreload conflicts with UnsafeNoHSTS")
		}
		return "", nil
	}
	v, err := HSTSValue(o.HSTSMaxAge, !o.UnsafeHSTSNoSubdomains, o.HSTSPreload)
	if err != nil {
		return "", fmt.Errorf("encode: HeadersOptions: %w", err)
	}
	return v, nil
}

// ErrHSTSPreload is wrapped by the error of [HSTSValue] when a preload request would be
// refused by the HSTS preload list; the error names what is missing.
var ErrHSTSPreload = errors.New("encode: HSTS preload needs max-age of at least one year and includeSubDomains")

// HSTSValue returns a Strict-Transport-Security header value: max-age in whole seconds
// (DefaultHSTSMaxAge if maxAge is zero), then includeSubDomains and preload as asked. It is
// the one place bulwark builds the header, so every package agrees on it.
//
// It refuses a negative max-age, one under a second (it would be sent as max-age=0, which
// tells browsers to forget HSTS), and a preload request that the preload list would refuse:
// max-age under MinHSTSPreloadMaxAge or no includeSubDomains; that error wraps
// [ErrHSTSPreload] and names each missing part.
func HSTSValue(maxAge time.Duration, includeSubdomains, preload bool) (string, error) {
	switch {
	case maxAge < 0:
		return "", errors.New("HSTS max-age is negative")
	case maxAge == 0:
		maxAge = DefaultHSTSMaxAge
	case maxAge < time.Second:
		return "", fmt.Errorf("HSTS max-age %v is under one second and would switch HSTS off", maxAge)
	}
	if preload {
		var missing []error
		if maxAge < MinHSTSPreloadMaxAge {
			missing = append(missing, fmt.Errorf("a max-age of at least one year (31536000 seconds), not %d", int64(maxAge/time.Second)))
		}
		if !includeSubdomains {
			missing = append(missing, errors.New("includeSubDomains"))
		}
		if len(missing) > 0 {
			return "", fmt.Errorf("%w: missing %w", ErrHSTSPreload, errors.Join(missing...))
		}
	}
	v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	if includeSubdomains {
		v += "; includeSubDomains"
	}
	if preload {
		v += "; preload"
	}
	return v, nil
}

func checkReportingEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		strings.ContainsAny(s, "\"\\;, ") || !validHeaderValue(s) {
		return errors.New("encode: HeadersOptions.ReportingEndpoint must be an absolute https URL without quotes, backslashes, semicolons, commas or spaces")
	}
	return nil
}

// validHeaderValue reports whether s is non-empty visible ASCII and spaces: no CR, LF or other
// control characters that could split a header, and nothing a browser might decode oddly.
func validHeaderValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// nonceLen is the length of an encoded nonce.
var nonceLen = base64.RawURLEncoding.EncodedLen(nonceBytes)

func (hs *headerSet) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	// One allocation holds the wrapper and the header values. Each value gets its own
	// one-element slice with its capacity capped, so a handler that appends to or edits one
	// response's header can never change another response's.
	sw := &secureWriter{ResponseWriter: w, remove: hs.remove}
	h := w.Header()
	n := 0
	for _, f := range hs.fixed {
		sw.vals[n] = f.val
		h[f.key] = sw.vals[n : n+1 : n+1]
		n++
	}
	if hs.hsts != "" && hs.secure(r) {
		sw.vals[n] = hs.hsts
		h["Strict-Transport-Security"] = sw.vals[n : n+1 : n+1]
		n++
	}
	if len(hs.cspParts) > 1 {
		csp, nonce := hs.nonceCSP()
		sw.vals[n] = csp
		h["Content-Security-Policy"] = sw.vals[n : n+1 : n+1]
		r = r.WithContext(NewNonceContext(r.Context(), nonce))
	}
	next.ServeHTTP(sw, r)
}

func (hs *headerSet) secure(r *http.Request) bool {
	if hs.isTLS != nil {
		return hs.isTLS(r)
	}
	return r.TLS != nil
}

// nonceCSP returns the policy with a fresh nonce in every placeholder, and the nonce, which is
// a substring of the policy so that both cost one allocation.
func (hs *headerSet) nonceCSP() (csp, nonce string) {
	var raw [nonceBytes]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand crashes the program instead)
	var enc [32]byte
	base64.RawURLEncoding.Encode(enc[:], raw[:])
	var b strings.Builder
	b.Grow(hs.cspLen)
	b.WriteString(hs.cspParts[0])
	for _, p := range hs.cspParts[1:] {
		b.Write(enc[:nonceLen])
		b.WriteString(p)
	}
	csp = b.String()
	start := len(hs.cspParts[0])
	return csp, csp[start : start+nonceLen]
}

// secureWriter strips disclosure headers just before the response header is written.
type secureWriter struct {
	http.ResponseWriter
	remove []string
	wrote  bool
	vals   [maxFixedHeaders]string
}

func (w *secureWriter) strip() {
	h := w.ResponseWriter.Header()
	for _, k := range w.remove {
		delete(h, k)
	}
}

func (w *secureWriter) WriteHeader(code int) {
	if !w.wrote {
		w.strip()
		w.wrote = code >= 200 // 1xx responses may be followed by the final header
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *secureWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.strip()
		w.wrote = true
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client, as [http.Flusher].
func (w *secureWriter) Flush() {
	if !w.wrote {
		w.strip()
		w.wrote = true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets the handler take over the connection, as [http.Hijacker].
func (w *secureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for [http.ResponseController].
func (w *secureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
