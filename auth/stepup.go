package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

// ErrInsufficientAuthentication is passed (in an [*encode.Error] with status 401) to
// MFAOptions.ErrorHandler when a principal's authentication is too weak or too old for a
// route behind [RequireMFA] (RFC 9470).
var ErrInsufficientAuthentication = errors.New("auth: insufficient user authentication")

// Reasons wrapped with ErrInsufficientAuthentication.
var (
	// ErrNoSecondFactor: "amr" names none of MFAOptions.Methods.
	ErrNoSecondFactor = errors.New("auth: no second factor in amr")
	// ErrAuthTooOld: "auth_time" is missing, older than MFAOptions.MaxAge, or in the future.
	ErrAuthTooOld = errors.New("auth: authentication too old")
)

// MFAOptions configures [RequireMFA]. The zero value demands "otp" or "mfa" in "amr" and an
// authentication at most 15 minutes old.
type MFAOptions struct {
	// Methods are the "amr" values (RFC 8176) that count as a second factor; the principal
	// needs one of them. If empty, "otp" and "mfa".
	Methods []string
	// MaxAge is how long ago the user may have authenticated ("auth_time"). If zero,
	// 15 minutes. At most 24 hours. A principal without auth_time is refused.
	MaxAge time.Duration
	// ACRValues, if set, is sent as the acr_values of the challenge: the authentication
	// context classes the client should ask the authorization server for, space-separated.
	ACRValues string
	// ErrorHandler writes the refusal after WWW-Authenticate is set. If nil, the refusal is
	// logged as authn_fail and written with [encode.WriteError] (a generic 401 body).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives refusals with the default ErrorHandler. If nil, slog.Default().
	Logger *slog.Logger
}

const (
	defaultMFAMaxAge = 15 * time.Minute
	authTimeLeeway   = time.Minute // auth_time this far in the future is clock skew
)

// RequireMFA returns middleware for sensitive routes, behind [New]: it lets a request
// through only if its [Principal] authenticated with a second factor (its AMR holds one of
// Methods) at most MaxAge ago (its AuthTime), as ASVS5 6.8.4 and 10.3.4 ask.
//
// Other requests get 401 with WWW-Authenticate: Bearer
// error="insufficient_user_authentication", an error_description, and acr_values and
// max_age (RFC 9470 §3), so that the client can send the user back to authenticate; the
// body is a generic problem. A request without a principal gets 401 with "Bearer": it
// fails closed. RequireMFA reports invalid options as an error and never panics.
func RequireMFA(opts MFAOptions) (func(http.Handler) http.Handler, error) {
	var errs []error
	methods := slices.Clone(opts.Methods)
	if len(methods) == 0 {
		methods = []string{"otp", "mfa"}
	}
	for _, m := range methods {
		if m == "" {
			errs = append(errs, errors.New("auth: MFAOptions.Methods has an empty method"))
			break
		}
	}
	maxAge := opts.MaxAge
	switch {
	case maxAge == 0:
		maxAge = defaultMFAMaxAge
	case maxAge < time.Second || maxAge > 24*time.Hour:
		errs = append(errs, fmt.Errorf("auth: MFAOptions.MaxAge %v must be between 1s and 24h", maxAge))
	}
	if opts.ACRValues != "" && !quotable(strings.Split(opts.ACRValues, " ")) {
		errs = append(errs, errors.New("auth: MFAOptions.ACRValues must be space-separated printable ASCII without quotes or backslashes"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	onError := opts.ErrorHandler
	if onError == nil {
		logger := opts.Logger
		if logger == nil {
			logger = slog.Default()
		}
		onError = func(w http.ResponseWriter, r *http.Request, err error) {
			encode.LogRefusal(logger, r, "authn_fail", err)
			encode.WriteError(w, r, err)
		}
	}
	params := ""
	if opts.ACRValues != "" {
		params += `, acr_values="` + opts.ACRValues + `"`
	}
	params += `, max_age="` + strconv.FormatInt(int64(maxAge/time.Second), 10) + `"`
	noFactor := []string{`Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"` + params}
	tooOld := []string{`Bearer error="insufficient_user_authentication", error_description="More recent authentication is required"` + params}
	noCredentials := []string{"Bearer"}

	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("auth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				w.Header()["Www-Authenticate"] = noCredentials
				onError(w, r, &encode.Error{Status: http.StatusUnauthorized, Err: ErrNoCredentials})
				return
			}
			if reason := stepUpReason(p, methods, maxAge, time.Now()); reason != nil {
				w.Header()["Www-Authenticate"] = tooOld
				if errors.Is(reason, ErrNoSecondFactor) {
					w.Header()["Www-Authenticate"] = noFactor
				}
				onError(w, r, &encode.Error{Status: http.StatusUnauthorized,
					Err: fmt.Errorf("%w: %w", ErrInsufficientAuthentication, reason)})
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// stepUpReason says why p does not meet the step-up policy at now, or nil if it does.
func stepUpReason(p Principal, methods []string, maxAge time.Duration, now time.Time) error {
	factor := false
	for _, m := range p.AMR {
		if slices.Contains(methods, m) {
			factor = true
			break
		}
	}
	if !factor {
		return ErrNoSecondFactor
	}
	switch {
	case p.AuthTime.IsZero():
		return fmt.Errorf("%w: no auth_time", ErrAuthTooOld)
	case now.Sub(p.AuthTime) > maxAge:
		return ErrAuthTooOld
	case p.AuthTime.Sub(now) > authTimeLeeway:
		return fmt.Errorf("%w: auth_time in the future", ErrAuthTooOld)
	}
	return nil
}
