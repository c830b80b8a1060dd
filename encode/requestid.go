package encode

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"

	"github.com/bulwark-go/bulwark/internal/forwarded"
	"golang.org/x/net/http/httpguts"
)

// MaxRequestIDLen is the longest incoming request id [RequestID] accepts.
const MaxRequestIDLen = 128

// RequestIDOptions configures [RequestID]. The zero value trusts no incoming id: every request
// gets a fresh random id in the X-Request-Id header.
type RequestIDOptions struct {
	// Header names the request and response header that carries the id.
	// If empty, "X-Request-Id".
	Header string
	// TrustedProxies lists the peers (by the address of the TCP connection) whose incoming
	// id is kept when it is well formed (see [ValidRequestID]). If empty, no incoming id is
	// trusted, since a client could otherwise pick the id under which its requests are logged.
	TrustedProxies []netip.Prefix
}

// RequestID returns middleware that gives every request an id: the incoming one when it came
// from a trusted proxy and is well formed, else 128 random bits. The id is stored in the
// request context (see [RequestIDFromContext]), echoed in the response header, and used by
// [WriteError] and [Recover] so that a client's report can be matched to the log.
// It reports invalid options as an error and never panics.
func RequestID(opts RequestIDOptions) (func(http.Handler) http.Handler, error) {
	header := "X-Request-Id"
	var errs []error
	if opts.Header != "" {
		header = textproto.CanonicalMIMEHeaderKey(opts.Header)
		if !httpguts.ValidHeaderFieldName(opts.Header) {
			errs = append(errs, fmt.Errorf("encode: RequestIDOptions.Header %q is not a valid header name", opts.Header))
		}
	}
	proxies, err := forwarded.New(opts.TrustedProxies, forwarded.XForwarded)
	trustAny := len(opts.TrustedProxies) > 0
	if err != nil {
		errs = append(errs, fmt.Errorf("encode: RequestIDOptions.TrustedProxies: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("encode: RequestID wraps a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := ""
			// Without trusted proxies there is nothing to check: skip parsing RemoteAddr.
			if trustAny && proxies.Trusted(forwarded.Peer(r)) {
				if v := r.Header[header]; len(v) == 1 && ValidRequestID(v[0]) {
					id = v[0]
				}
			}
			if id == "" {
				id = rand.Text()
			}
			w.Header()[header] = []string{id}
			next.ServeHTTP(w, r.WithContext(NewRequestIDContext(r.Context(), id)))
		})
	}, nil
}

// ValidRequestID reports whether s is an acceptable request id: 1 to [MaxRequestIDLen]
// characters from A-Z, a-z, 0-9 and "-._:+/=". Anything else (spaces, quotes, control
// characters, commas) could forge log fields or split headers, so it is replaced.
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}
