package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

// Errors passed to the ErrorHandler, inside an [*encode.Error] that carries the status.
var (
	// ErrNoSubject: the request has no subject (401).
	ErrNoSubject = errors.New("rbac: no authenticated subject")
	// ErrDenied: the subject lacks a permission (403). The [*DeniedError] wrapping it says
	// which permission, route and rule.
	ErrDenied = errors.New("rbac: permission denied")
	// ErrNoAuthorizer: [Require], [RequireAny] or [CheckAccess] ran outside
	// [Authorizer.Middleware], or was given malformed permissions (500). The request is
	// refused: a missing authorization layer never lets a request through.
	ErrNoAuthorizer = errors.New("rbac: no authorizer in request context")
	// ErrNoFile: Reload or Run was called on an Authorizer without Options.File.
	ErrNoFile = errors.New("rbac: no policy file configured")
)

// DeniedError describes a refusal for the operator. Clients never see it: they get a generic
// 403. It unwraps to [ErrDenied].
type DeniedError struct {
	Subject string
	Route   string // the ServeMux pattern; empty when unknown
	Owner   string // for object-level checks ([CheckAccess]); empty otherwise
	// Decision is the check that failed, with the deciding rule. Its Permission is empty
	// when the route has no rule at all.
	Decision Decision
	Reason   string // set when no permission was checked, e.g. "route has no rule"
}

// Error returns a one-line description with the deciding rule.
func (e *DeniedError) Error() string {
	s := "rbac: permission denied: subject " + strconv.Quote(e.Subject)
	if e.Route != "" {
		s += " route " + strconv.Quote(e.Route)
	}
	if e.Owner != "" {
		s += " owner " + strconv.Quote(e.Owner)
	}
	if e.Reason != "" {
		return s + ": " + e.Reason
	}
	return s + ": " + e.Decision.String()
}

// Unwrap returns [ErrDenied].
func (e *DeniedError) Unwrap() error { return ErrDenied }

// Decision is the outcome of one permission check, as [Authorizer.Explain] reports it.
type Decision struct {
	Allowed    bool
	Permission string // the permission checked
	// Role is the subject's role through which the deciding rule applies (the rule itself may
	// be declared by a role it inherits). Empty when no rule covers the permission.
	Role string
	// Rule is the deciding rule: the first deny that covers the permission, else the first
	// allow. Zero when none covers it, which denies by default.
	Rule Rule
}

// String returns e.g. `"notes:write": deny notes:* (role suspended, line 9) via "suspended"`.
func (d Decision) String() string {
	s := strconv.Quote(d.Permission) + ": " + d.Rule.String()
	if d.Role != "" && d.Role != d.Rule.Role {
		s += " via " + strconv.Quote(d.Role)
	}
	return s
}

// Options configures [New]. Subject, Roles, and Policy or File are required; the zero value
// of every other field is the strict choice.
type Options struct {
	// Policy is the policy, built in code. Exactly one of Policy and File must be set.
	Policy Policy
	// File is the path of a YAML or JSON policy file (see [ParsePolicy]), read by New and
	// again by [Authorizer.Reload] and [Authorizer.Run].
	File string
	// ReloadInterval is how often [Authorizer.Run] checks File. If zero, 10 seconds.
	// Between 1 second and 1 hour.
	ReloadInterval time.Duration

	// Subject returns the authenticated subject of a request, or "" if there is none
	// (then the request gets 401). Required. auth.SubjectKey fits.
	Subject func(*http.Request) string
	// Roles returns the subject's roles. Required. auth.Roles fits, or
	// [ClaimMapper.Roles] to map claims centrally. Names the policy does not define are
	// ignored. Roles are never read from request headers or bodies by this package.
	Roles func(*http.Request) []string

	// Mux is the mux the middleware wraps, needed to learn each request's route pattern
	// when [Authorizer.Middleware] wraps the whole mux (r.Pattern is only set inside it).
	// If nil, only r.Pattern is used, and a request without one is refused.
	Mux *http.ServeMux

	// DryRun logs what would be refused (event authz_fail, dry_run=true) and lets the
	// request through. For rolling out a new policy; never leave it on. If false, refusals
	// are enforced.
	DryRun bool
	// LogGranted logs every granted request at Info as authz_granted, with the subject,
	// permission, route and rule. If false, only refusals are logged.
	LogGranted bool

	// ReviewSubjects is how many subjects the access review remembers (see
	// [Authorizer.AccessReview]); the least recently seen is forgotten first. If zero,
	// 10000. At most 1000000.
	ReviewSubjects int

	// ErrorHandler writes the response when a request is refused, after WWW-Authenticate is
	// set. err wraps [ErrNoSubject] (401), [ErrDenied] (403, a [*DeniedError]) or
	// [ErrNoAuthorizer] (500) in an [*encode.Error]. If nil, the refusal is logged as
	// authz_fail with the deciding rule and written as a generic problem+json.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives refusals (with the default ErrorHandler), dry-run and granted
	// decisions, and policy reloads. If nil, slog.Default().
	Logger *slog.Logger
}

// Limits of Options.
const (
	defaultReloadInterval = 10 * time.Second
	defaultReviewSubjects = 10000
	maxReviewSubjects     = 1000000
)

// Authorizer decides who may do what. Create it with [New]; it is safe for concurrent use.
// Its policy can be replaced while it serves ([Authorizer.SetPolicy], [Authorizer.Reload]):
// each check sees either the old or the new policy, never a mix.
type Authorizer struct {
	cur atomic.Pointer[compiled]

	subject      func(*http.Request) string
	roles        func(*http.Request) []string
	mux          *http.ServeMux
	dryRun       bool
	logGranted   bool
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger

	file     string
	interval time.Duration
	reloadMu sync.Mutex // serializes Reload; never taken on the request path
	fileSum  [32]byte   // content of the policy in use
	badSum   [32]byte   // content of the last rejected file, so it is logged once
	badErr   error

	review *recorder
}

// New checks opts, compiles the policy (reading Options.File if set) and returns the
// Authorizer. It reports every invalid option and every policy problem as an error and
// never panics. It starts no goroutine: call [Authorizer.Run] to watch the file.
func New(opts Options) (*Authorizer, error) {
	var errs []error
	if opts.Subject == nil {
		errs = append(errs, errors.New("rbac: Options.Subject is required"))
	}
	if opts.Roles == nil {
		errs = append(errs, errors.New("rbac: Options.Roles is required"))
	}
	hasPolicy := len(opts.Policy.Roles) > 0 || len(opts.Policy.Routes) > 0
	switch {
	case hasPolicy && opts.File != "":
		errs = append(errs, errors.New("rbac: set only one of Options.Policy and Options.File"))
	case !hasPolicy && opts.File == "":
		errs = append(errs, errors.New("rbac: Options.Policy or Options.File is required"))
	}
	interval := opts.ReloadInterval
	if interval == 0 {
		interval = defaultReloadInterval
	}
	if interval < time.Second || interval > time.Hour {
		errs = append(errs, fmt.Errorf("rbac: Options.ReloadInterval %v is not between 1s and 1h", opts.ReloadInterval))
	}
	subjects := opts.ReviewSubjects
	if subjects == 0 {
		subjects = defaultReviewSubjects
	}
	if subjects < 0 || subjects > maxReviewSubjects {
		errs = append(errs, fmt.Errorf("rbac: Options.ReviewSubjects %d is not between 1 and %d", opts.ReviewSubjects, maxReviewSubjects))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	a := &Authorizer{
		subject:      opts.Subject,
		roles:        opts.Roles,
		mux:          opts.Mux,
		dryRun:       opts.DryRun,
		logGranted:   opts.LogGranted,
		errorHandler: opts.ErrorHandler,
		logger:       opts.Logger,
		file:         opts.File,
		interval:     interval,
		review:       newRecorder(subjects, time.Now()),
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if a.errorHandler == nil {
		a.errorHandler = encode.ErrorHandler(a.logger, "authz_fail")
	}
	if a.file != "" {
		c, sum, err := loadFile(a.file)
		if err != nil {
			return nil, err
		}
		a.cur.Store(c)
		a.fileSum = sum
		return a, nil
	}
	c, err := compile(opts.Policy)
	if err != nil {
		return nil, err
	}
	a.cur.Store(c)
	return a, nil
}

// Allowed reports whether a subject holding roles has perm: some role grants it (directly,
// by inheritance or by a wildcard) and none denies it. A malformed perm (including one with
// a wildcard) is never allowed. It is the allocation-free core of every check.
func (a *Authorizer) Allowed(roles []string, perm string) bool {
	if !validPermission(perm, false) {
		return false
	}
	return a.cur.Load().allowed(roles, perm)
}

// Explain returns the decision for roles and perm with the rule that made it: the first
// deny covering perm, else the first allow, else none (deny by default). It allocates; use
// it for logs, tests and debugging, and [Authorizer.Allowed] on hot paths.
func (a *Authorizer) Explain(roles []string, perm string) Decision {
	return a.cur.Load().explain(roles, perm)
}

// Subject is who asks: an identifier in the form Options.Subject returns, and roles.
type Subject struct {
	ID    string
	Roles []string
}

// CanAccess is the object-level check (OWASP API1:2023 BOLA, ASVS5 8.2.2): may s apply perm
// to an object owned by owner? Yes if s has perm and owns the object (s.ID == owner, both
// non-empty), or if s has perm+":any" (such as "notes:read:any", also covered by
// "notes:*"), which reaches everyone's objects. Owner must be in the same form as the
// subject ids Options.Subject returns. For a multi-tenant service, make owner include the
// tenant, or check the tenant with a permission of its own.
func (a *Authorizer) CanAccess(s Subject, owner, perm string) bool {
	used := canAccess(a.cur.Load(), s, owner, perm)
	return used != ""
}

// canAccess returns the permission that grants access (perm or perm+":any"), or "".
func canAccess(c *compiled, s Subject, owner, perm string) string {
	if s.ID == "" || !validPermission(perm, false) {
		return ""
	}
	if owner != "" && s.ID == owner && c.allowed(s.Roles, perm) {
		return perm
	}
	if anyPerm := perm + ":any"; c.allowed(s.Roles, anyPerm) {
		return anyPerm
	}
	return ""
}

// Policy returns a copy of the policy in use.
func (a *Authorizer) Policy() Policy {
	return a.cur.Load().policy.clone()
}

// SetPolicy checks and compiles p and, if it is valid, makes it the policy in use at once.
// If not, the policy in use is kept, and the problems are logged and returned.
func (a *Authorizer) SetPolicy(p Policy) error {
	c, err := compile(p)
	if err != nil {
		a.logger.LogAttrs(context.Background(), slog.LevelError, "authz_policy_invalid",
			slog.String("source", "code"), slog.String("error", err.Error()))
		return err
	}
	a.cur.Store(c)
	a.logChange("code", c)
	return nil
}

func (a *Authorizer) logChange(src string, c *compiled) {
	a.logger.LogAttrs(context.Background(), slog.LevelWarn, "authz_change",
		slog.String("source", src), slog.Int("roles", len(c.roles)), slog.Int("routes", len(c.routes)))
}

type authorizerKey struct{}

// Middleware returns next wrapped so that [Require], [RequireAny] and [CheckAccess] find the
// Authorizer, and so that the policy's routes are enforced.
//
// Each request's route is the ServeMux pattern that serves it: r.Pattern when Middleware
// wraps one route, or the pattern Options.Mux picks when it wraps the whole mux; never the
// raw URL path, so "//admin", "/admin/../admin" or "%2e%2e" cannot slip past a rule. A
// route listed in the policy needs its permissions (or nothing, if public). A route not
// listed is refused, unless its registered handler is a [Require] or [RequireAny]
// middleware, which then decides: deny by default (OWASP API5:2023, ASVS5 8.2.1). A request
// no route matches reaches the mux, which answers 404 or 405 without running a handler.
//
// Refusals: 401 without a subject, 403 without a permission, both through the ErrorHandler
// with a generic body. Wrapping a nil handler panics. Middleware allocates the request's
// new context, and nothing else on the allow path.
func (a *Authorizer) Middleware(next http.Handler) http.Handler {
	if next == nil {
		panic("rbac: nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), authorizerKey{}, a))
		pattern, h := r.Pattern, next
		if pattern == "" && a.mux != nil {
			h, pattern = a.mux.Handler(r)
			if pattern == "" {
				// No route matches: the mux answers 404, 405 or a redirect, and runs no
				// handler of the application.
				next.ServeHTTP(w, r)
				return
			}
		}
		c := a.cur.Load()
		if rt := c.routes[pattern]; rt != nil {
			if rt.public {
				next.ServeHTTP(w, r)
				return
			}
			a.authorize(w, r, next, c, rt.perms, false, pattern)
			return
		}
		if _, ok := h.(*guard); ok {
			next.ServeHTTP(w, r)
			return
		}
		reason := "route has no rule (deny by default)"
		if pattern == "" {
			reason = "request has no route pattern (set Options.Mux when wrapping a mux)"
		}
		subject := a.subject(r)
		if subject == "" {
			a.refuse(w, r, next, http.StatusUnauthorized, ErrNoSubject)
			return
		}
		a.refuse(w, r, next, http.StatusForbidden, &DeniedError{Subject: subject, Route: pattern, Reason: reason})
	})
}

// authorize checks perms (all of them, or with any, at least one) and serves next or
// refuses.
func (a *Authorizer) authorize(w http.ResponseWriter, r *http.Request, next http.Handler, c *compiled, perms []string, anyOf bool, route string) {
	subject := a.subject(r)
	if subject == "" {
		a.refuse(w, r, next, http.StatusUnauthorized, ErrNoSubject)
		return
	}
	roles := a.roles(r)
	granted, failed := "", ""
	for _, p := range perms {
		ok := c.allowed(roles, p)
		if ok && granted == "" {
			granted = p
		}
		if !ok && failed == "" {
			failed = p
		}
		if anyOf && ok || !anyOf && !ok {
			break
		}
	}
	if anyOf && granted == "" || !anyOf && failed != "" {
		if anyOf {
			failed = perms[0]
		}
		a.refuse(w, r, next, http.StatusForbidden, &DeniedError{Subject: subject, Route: route, Decision: c.explain(roles, failed)})
		return
	}
	now := time.Now()
	if anyOf {
		a.review.record(subject, roles, c, []string{granted}, now)
	} else {
		a.review.record(subject, roles, c, perms, now)
	}
	if a.logGranted {
		a.logGrant(r, subject, route, "", c.explain(roles, granted))
	}
	next.ServeHTTP(w, r)
}

func (a *Authorizer) logGrant(r *http.Request, subject, route, owner string, d Decision) {
	attrs := []slog.Attr{
		slog.String("subject", subject),
		slog.String("permission", d.Permission),
		slog.String("route", route),
		slog.String("rule", d.Rule.String()),
		slog.String("method", r.Method),
	}
	if owner != "" {
		attrs = append(attrs, slog.String("owner", owner))
	}
	a.logger.LogAttrs(r.Context(), slog.LevelInfo, "authz_granted", attrs...)
}

// refuse sends a refusal through the ErrorHandler, or in dry-run mode logs it and serves
// next (with a nil next, as for CheckAccess, it only logs).
func (a *Authorizer) refuse(w http.ResponseWriter, r *http.Request, next http.Handler, status int, err error) {
	e := &encode.Error{Status: status, Err: err}
	if a.dryRun {
		encode.LogRefusal(a.logger.With(slog.Bool("dry_run", true)), r, "authz_fail", e)
		if next != nil {
			next.ServeHTTP(w, r)
		}
		return
	}
	h := w.Header()
	if h.Get("WWW-Authenticate") == "" {
		switch status {
		case http.StatusUnauthorized:
			h.Set("WWW-Authenticate", "Bearer")
		case http.StatusForbidden:
			h.Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		}
	}
	a.errorHandler(w, r, e)
}

// guard is the handler of Require and RequireAny. Middleware recognises it as a route rule.
type guard struct {
	perms []string
	anyOf bool
	bad   error
	next  http.Handler
}

// Require returns middleware that lets a request through only if its subject has every
// one of perms, for example Require("notes:write"). Perms are concrete permissions, without
// wildcards. It needs [Authorizer.Middleware] earlier in the chain, which supplies the
// policy, the subject and its roles.
//
// Refusals go through the Authorizer's ErrorHandler: 401 without a subject, 403 without a
// permission. Require fails closed: if the Authorizer is missing, or perms is empty or
// malformed, every request gets a 500 and the cause is logged. Wrapping a nil handler
// panics. The check allocates nothing.
func Require(perms ...string) func(http.Handler) http.Handler {
	return newGuard(perms, false)
}

// RequireAny is like [Require] but lets a request through if its subject has at least one
// of perms.
func RequireAny(perms ...string) func(http.Handler) http.Handler {
	return newGuard(perms, true)
}

func newGuard(perms []string, anyOf bool) func(http.Handler) http.Handler {
	g := guard{perms: append([]string(nil), perms...), anyOf: anyOf}
	if len(perms) == 0 {
		g.bad = fmt.Errorf("%w: Require or RequireAny needs at least one permission", ErrNoAuthorizer)
	}
	for _, p := range perms {
		if !validPermission(p, false) {
			g.bad = fmt.Errorf("%w: malformed permission %q in Require or RequireAny", ErrNoAuthorizer, p)
		}
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("rbac: nil handler")
		}
		h := g
		h.next = next
		return &h
	}
}

// ServeHTTP checks the permissions and serves the wrapped handler or refuses.
func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := r.Context().Value(authorizerKey{}).(*Authorizer)
	if !ok {
		missingAuthorizer(w, r, ErrNoAuthorizer)
		return
	}
	if g.bad != nil {
		a.errorHandler(w, r, &encode.Error{Status: http.StatusInternalServerError, Err: g.bad})
		return
	}
	a.authorize(w, r, g.next, a.cur.Load(), g.perms, g.anyOf, r.Pattern)
}

// missingAuthorizer refuses a request that reached rbac without an Authorizer: there is no
// ErrorHandler or Logger to use, so the defaults are.
func missingAuthorizer(w http.ResponseWriter, r *http.Request, err error) {
	encode.ErrorHandler(nil, "authz_fail")(w, r, &encode.Error{Status: http.StatusInternalServerError, Err: err})
}

// CheckAccess is the object-level check for handlers (OWASP API1:2023 BOLA): it reports
// whether the request's subject may apply perm to an object owned by owner (see
// [Authorizer.CanAccess]). When it returns false it has already written the refusal through
// the ErrorHandler (401 or 403, generic body, authz_fail logged), and the handler must
// return:
//
//	if !rbac.CheckAccess(w, r, note.Owner, "notes:write") {
//		return
//	}
//
// Call it after loading the object and before using it, on every route that takes an
// object id. It needs [Authorizer.Middleware]; without it, it writes a 500 and returns
// false. In dry-run mode it logs the refusal and returns true.
func CheckAccess(w http.ResponseWriter, r *http.Request, owner, perm string) bool {
	a, ok := r.Context().Value(authorizerKey{}).(*Authorizer)
	if !ok {
		missingAuthorizer(w, r, ErrNoAuthorizer)
		return false
	}
	subject := a.subject(r)
	if subject == "" {
		a.refuse(w, r, nil, http.StatusUnauthorized, ErrNoSubject)
		return a.dryRun
	}
	c := a.cur.Load()
	roles := a.roles(r)
	s := Subject{ID: subject, Roles: roles}
	if used := canAccess(c, s, owner, perm); used != "" {
		a.review.record(subject, roles, c, []string{used}, time.Now())
		if a.logGranted {
			a.logGrant(r, subject, r.Pattern, owner, c.explain(roles, used))
		}
		return true
	}
	d := c.explain(roles, perm)
	if d.Allowed {
		// The subject has perm, but not on someone else's object: the missing grant is ":any".
		d = c.explain(roles, perm+":any")
	}
	a.refuse(w, r, nil, http.StatusForbidden, &DeniedError{Subject: subject, Route: r.Pattern, Owner: owner, Decision: d})
	return a.dryRun
}
