package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/bulwark-go/bulwark/encode"
	"golang.org/x/net/http/httpguts"
)

// ErrCSRF is passed (in an [*encode.Error] with status 403) to CSRFOptions.ErrorHandler
// when a cookie-authenticated, state-changing request looks cross-site.
var ErrCSRF = errors.New("auth: cross-site request refused")

// CSRFHeader is the request header that carries the double-submit token.
const CSRFHeader = "X-CSRF-Token"

// CSRFOptions configures [NewCSRF]. The zero value checks every state-changing request that
// does not authenticate with a bearer header, with no trusted cross-origin sites and no
// double-submit token.
type CSRFOptions struct {
	// Cookies are the names of the cookies that authenticate requests, such as
	// [TokenCookie.Name]. A request carrying none of them is not cookie-authenticated and
	// passes. If empty, every state-changing request is checked unless it authenticates
	// with an Authorization: Bearer header and carries no cookies.
	Cookies []string
	// TrustedOrigins are origins, such as "https://admin.example.com", whose cross-origin
	// requests are allowed. If empty, none.
	TrustedOrigins []string
	// DoubleSubmit also demands, from browsers that send no Sec-Fetch-Site header (older
	// ones, which Go's fetch-metadata check lets through when Origin is missing too), that
	// the X-CSRF-Token header repeat the token of the CSRF cookie set by
	// [CSRF.SetToken]. If false, such requests are judged by their Origin header alone.
	DoubleSubmit bool
	// ErrorHandler writes the refusal. If nil, it is logged as authz_fail and written with
	// [encode.WriteError] (a generic 403 problem).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives refusals with the default ErrorHandler. If nil, slog.Default().
	Logger *slog.Logger
}

// CSRF protects cookie-authenticated, state-changing requests against cross-site request
// forgery. It relies on Go's [http.CrossOriginProtection] (the Sec-Fetch-Site header, or
// the Origin header compared with Host), which lets safe methods (GET, HEAD, OPTIONS)
// through: never change state on them. Requests authenticated by an Authorization:
// Bearer header are exempt, since browsers never attach one on their own. It is read-only
// after construction and safe for concurrent use.
type CSRF struct {
	cop     *http.CrossOriginProtection
	cookies []string
	double  bool
	token   *TokenCookie
	onError func(http.ResponseWriter, *http.Request, error)
}

// NewCSRF returns a CSRF for opts. It reports invalid options as an error naming each bad
// field and never panics.
func NewCSRF(opts CSRFOptions) (*CSRF, error) {
	var errs []error
	c := &CSRF{cop: http.NewCrossOriginProtection(), cookies: append([]string(nil), opts.Cookies...), double: opts.DoubleSubmit}
	for i, o := range opts.TrustedOrigins {
		if err := c.cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("auth: CSRFOptions.TrustedOrigins[%d]: %w", i, err))
		}
	}
	for i, name := range opts.Cookies {
		if !httpguts.ValidHeaderFieldName(name) {
			errs = append(errs, fmt.Errorf("auth: CSRFOptions.Cookies[%d] is not a valid cookie name", i))
		}
	}
	tc, err := NewTokenCookie(CookieOptions{Name: "csrf"})
	if err != nil {
		errs = append(errs, err)
	}
	// Scripts must read the double-submit token to send it back: not HttpOnly.
	c.token = tc
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.onError = opts.ErrorHandler
	if c.onError == nil {
		logger := opts.Logger
		if logger == nil {
			logger = slog.Default()
		}
		c.onError = func(w http.ResponseWriter, r *http.Request, err error) {
			encode.LogRefusal(logger, r, "authz_fail", err)
			encode.WriteError(w, r, err)
		}
	}
	return c, nil
}

// Protect returns next wrapped in the CSRF check. Refused requests get 403 with a generic
// problem body.
func (c *CSRF) Protect(next http.Handler) http.Handler {
	if next == nil {
		panic("auth: nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.check(r); err != nil {
			c.onError(w, r, &encode.Error{Status: http.StatusForbidden, Err: fmt.Errorf("%w: %w", ErrCSRF, err)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *CSRF) check(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !c.cookieAuthenticated(r) {
		return nil
	}
	if err := c.cop.Check(r); err != nil {
		return err
	}
	if c.double && r.Header.Get("Sec-Fetch-Site") == "" {
		// An older browser: Origin alone may be missing; demand the token too.
		sent := r.Header.Get(CSRFHeader)
		ck, err := r.Cookie(c.token.name)
		if err != nil || sent == "" || len(r.CookiesNamed(c.token.name)) != 1 ||
			subtle.ConstantTimeCompare([]byte(sent), []byte(ck.Value)) != 1 {
			return errors.New("double-submit token missing or wrong")
		}
	}
	return nil
}

// cookieAuthenticated reports whether r may be authenticated by a cookie the browser
// attached on its own.
func (c *CSRF) cookieAuthenticated(r *http.Request) bool {
	if len(c.cookies) == 0 {
		_, isBearer, _ := bearer(r.Header.Get("Authorization"))
		return !isBearer || r.Header.Get("Cookie") != ""
	}
	for _, name := range c.cookies {
		if len(r.CookiesNamed(name)) > 0 {
			return true
		}
	}
	return false
}

// SetToken sets the double-submit cookie ("__Host-csrf", Secure, SameSite=Strict, Path=/,
// readable by scripts but bound to this host) with a new 256-bit random token and returns
// the token, which the page's scripts send back in the X-CSRF-Token header. Call it at
// login, next to the token cookies.
func (c *CSRF) SetToken(w http.ResponseWriter) (string, error) {
	tok, err := randomString(32)
	if err != nil {
		return "", err
	}
	ck := c.token.cookie(tok, 0)
	ck.HttpOnly = false
	http.SetCookie(w, ck)
	return tok, nil
}

// ClearToken deletes the double-submit cookie, for a logout.
func (c *CSRF) ClearToken(w http.ResponseWriter) {
	ck := c.token.cookie("", -1)
	ck.HttpOnly = false
	http.SetCookie(w, ck)
}
