package ratelimit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

// Sentinel errors passed to ErrorHandler (inside an [*encode.Error]); match them with
// [errors.Is].
var (
	// ErrLimited means the client exceeded a policy: 429 with Retry-After.
	ErrLimited = errors.New("ratelimit: rate exceeded")
	// ErrUnavailable means the Store could not decide (for example Redis is down and the
	// store fails closed): 503, because letting the request through unchecked is what an
	// attacker who can slow the store down would want.
	ErrUnavailable = errors.New("ratelimit: limit store unavailable")
	// ErrBanned means [Guard] has banned the client after repeated failures: 429.
	ErrBanned = errors.New("ratelimit: client banned after repeated failures")
	// ErrOverloaded means [Concurrency] had no free slot within the queue timeout: 503.
	ErrOverloaded = errors.New("ratelimit: too many requests in flight")
)

// Log events (OWASP logging vocabulary style) of the default ErrorHandler.
const (
	EventExceeded    = "ratelimit_exceeded"
	EventBanned      = "ratelimit_banned"
	EventUnavailable = "ratelimit_unavailable"
)

// QuotaExceededType is the problem type of a 429 from [New] (RL-draft §5).
const QuotaExceededType = "https://iana.org/assignments/http-problem-types#quota-exceeded"

// Count selects which responses are charged to the client's quota.
type Count int

const (
	// CountAll, the zero value, charges every request before the handler runs.
	CountAll Count = iota
	// CountFailures charges only requests whose response status is 400 or above, after the
	// handler ran, such as failed logins. The check still happens before the handler: a
	// client over the limit is refused without reaching it.
	CountFailures
	// CountSuccesses charges only requests whose response status is below 400.
	CountSuccesses
)

// Options configures [New]. The zero value is valid: 60 requests per minute with bursts of
// 60, per client address (IPv6 grouped by /64), in a [MemoryStore], with RateLimit and
// RateLimit-Policy headers on every response.
type Options struct {
	// Policies all apply to every request, evaluated together: a request is allowed only if
	// each allows it, and is then charged to each (for example a per-second burst policy and a
	// per-day quota, as RL-draft §8 advises). At most MaxPolicies. If empty, "60 per minute".
	// Unnamed policies are named "p0", "p1", ... in order.
	Policies []Policy
	// Key returns the key a request is counted under, such as an authenticated subject, an
	// API key ([HeaderKey]) or a route ([PatternKey]). If nil, the client address: the TCP
	// peer, or behind TrustedProxies the address they vouch for. A request whose key is ""
	// (or whose address is unknown) is counted under FallbackKey, never let through free.
	Key func(r *http.Request) string
	// FallbackKey is the key shared by all requests whose key cannot be determined. If
	// empty, "unknown". Those requests share one bucket: a broken key function slows
	// everyone down rather than letting everyone through.
	FallbackKey string
	// TrustedProxies are the proxies whose X-Forwarded-For (or Forwarded, see
	// UseForwardedHeader) the client-address key believes, walked right to left. If empty,
	// proxy headers are ignored and the key is the TCP peer (ASVS5 4.1.3).
	TrustedProxies []netip.Prefix
	// UseForwardedHeader reads the RFC 7239 Forwarded header instead of X-Forwarded-For.
	UseForwardedHeader bool
	// IPv6PrefixLen is how many leading bits of an IPv6 client address form its key, from 1
	// to 128. If zero, 64: one host usually owns a /64 and could rotate addresses within it.
	IPv6PrefixLen int
	// Store keeps the state. If nil, a new [MemoryStore] with default options.
	Store Store
	// Cost returns the weight of a request, e.g. a larger cost for an expensive search. If
	// nil, every request costs 1. Values below 1 count as 1 (no request is free), and values
	// above the smallest policy's burst count as that burst (so a request can always succeed
	// once the client has waited).
	Cost func(r *http.Request) int64
	// UnsafeSkip, if set, exempts the requests for which it returns true from every policy
	// (for example health checks from a monitoring network). It sees the raw request: never
	// base it on a header a client can set.
	UnsafeSkip func(r *http.Request) bool
	// Count selects which responses are charged. The zero value charges every request.
	Count Count
	// UnsafeShadowMode logs refusals without refusing: for trying a new policy on live
	// traffic. The handler runs, and the headers say what would have happened.
	UnsafeShadowMode bool
	// OmitHeaders turns off the RateLimit and RateLimit-Policy headers (RL-draft §6 lets a
	// server hide its quotas). Retry-After is still sent on 429.
	OmitHeaders bool
	// LegacyHeaders adds X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset
	// (seconds) for the tightest policy, for clients that predate the draft.
	LegacyHeaders bool
	// ErrorHandler writes the response when a request is refused, with an [*encode.Error]
	// wrapping ErrLimited (429, RetryAfter set) or ErrUnavailable (503). The RateLimit and
	// Retry-After headers are already set. If nil, the refusal is logged at Warn as
	// "ratelimit_exceeded" (the key only as a hash) and written by [encode.WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives refusal events from the default ErrorHandler and shadow mode. If nil,
	// [slog.Default].
	Logger *slog.Logger
}

// limiter is the validated, immutable form of Options.
type limiter struct {
	policies []Policy
	store    Store
	mem      *MemoryStore // store, when it is a *MemoryStore: the allocation-free path
	compiled []compiled   // mem.compile of each policy
	keyer
	cost         func(*http.Request) int64
	maxCost      int64
	skip         func(*http.Request) bool
	count        Count
	shadow       bool
	headers      bool
	legacy       bool
	policyHeader []string
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	epoch        time.Time
}

// now reads the clock. It reads only the monotonic clock, which is what a rate needs (a
// wall-clock step must not refill or drain buckets) and costs half of [time.Now] on Linux.
func (l *limiter) now() time.Time { return l.epoch.Add(time.Since(l.epoch)) }

// New returns middleware that limits how often each client may call the wrapped handler.
// Over the limit, the client gets 429 Too Many Requests with an exact Retry-After and a
// problem+json body; if the Store fails, 503. It reports invalid options as an error and
// never panics. The middleware is safe for concurrent use.
func New(opts Options) (func(http.Handler) http.Handler, error) {
	l, err := newLimiter(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("ratelimit: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l.serve(w, r, next)
		})
	}, nil
}

func newLimiter(opts Options) (*limiter, error) {
	var errs []error
	l := &limiter{
		cost:    opts.Cost,
		skip:    opts.UnsafeSkip,
		count:   opts.Count,
		shadow:  opts.UnsafeShadowMode,
		headers: !opts.OmitHeaders,
		legacy:  opts.LegacyHeaders,
		logger:  opts.Logger,
		epoch:   time.Now(),
	}
	l.policies = append([]Policy(nil), opts.Policies...)
	if len(l.policies) == 0 {
		l.policies = []Policy{{Limit: 60, Period: time.Minute}}
	}
	if len(l.policies) > MaxPolicies {
		errs = append(errs, fmt.Errorf("ratelimit: Policies has %d entries, more than %d", len(l.policies), MaxPolicies))
		l.policies = l.policies[:MaxPolicies]
	}
	seen := make(map[string]bool)
	l.maxCost = MaxLimit
	for i := range l.policies {
		p := &l.policies[i]
		if p.Name == "" {
			p.Name = "p" + strconv.Itoa(i)
		}
		if problems := p.problems(); len(problems) > 0 {
			for _, pr := range problems {
				errs = append(errs, fmt.Errorf("ratelimit: Policies[%d] %q: %s", i, p.Name, pr))
			}
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("ratelimit: Policies[%d]: duplicate Name %q", i, p.Name))
		}
		seen[p.Name] = true
		l.maxCost = min(l.maxCost, p.burst())
	}
	if opts.Count < CountAll || opts.Count > CountSuccesses {
		errs = append(errs, fmt.Errorf("ratelimit: unknown Count %d", opts.Count))
	}
	k, err := newKeyer(opts.Key, opts.FallbackKey, opts.TrustedProxies, opts.UseForwardedHeader, opts.IPv6PrefixLen)
	if err != nil {
		errs = append(errs, err)
	}
	l.keyer = k
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l.store = opts.Store
	if l.store == nil {
		l.store, _ = NewMemoryStore(MemoryOptions{})
	}
	l.mem, _ = l.store.(*MemoryStore)
	if l.mem != nil {
		l.epoch = l.mem.epoch // so that l.now() - epoch is the store's own time scale
		for i := range l.policies {
			l.compiled = append(l.compiled, l.mem.compile(&l.policies[i]))
		}
	}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	l.errorHandler = opts.ErrorHandler
	if l.errorHandler == nil {
		l.errorHandler = defaultErrorHandler(l.logger)
	}
	l.policyHeader = []string{formatPolicy(l.policies)}
	return l, nil
}

// defaultErrorHandler logs a refusal under the event its error names and writes it.
func defaultErrorHandler(logger *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		encode.LogRefusal(logger, r, eventOf(err), err)
		encode.WriteError(w, r, err)
	}
}

func eventOf(err error) string {
	switch {
	case errors.Is(err, ErrBanned):
		return EventBanned
	case errors.Is(err, ErrUnavailable):
		return EventUnavailable
	}
	return EventExceeded
}

// decision is what one request's check produced.
type decision struct {
	results [MaxPolicies]Result
	keyHash string // set only when refused, for the log line
	err     error  // the store's error
}

func (l *limiter) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if l.skip != nil && l.skip(r) {
		next.ServeHTTP(w, r)
		return
	}
	cost := int64(1)
	if l.cost != nil {
		cost = min(max(l.cost(r), 1), l.maxCost)
	}
	charge := cost
	if l.count != CountAll {
		charge = 0 // only ask now; charge once the status is known
	}
	var d decision
	if l.mem != nil {
		l.decideMemory(r, charge, &d)
	} else {
		l.decideStore(r, charge, l.now(), &d)
	}
	n := len(l.policies)
	if d.err != nil {
		// Fail closed: see ErrUnavailable.
		w.Header()[headerRetryAfter] = []string{"1"}
		l.errorHandler(w, r, &encode.Error{
			Status:     http.StatusServiceUnavailable,
			RetryAfter: time.Second,
			Err:        fmt.Errorf("%w: %w", ErrUnavailable, d.err),
		})
		return
	}
	results := d.results[:n]
	l.writeHeaders(w.Header(), results)
	if i := tightest(results); !results[i].Allowed {
		err := l.refusal(i, results[i], d.keyHash)
		if !l.shadow {
			w.Header()[headerRetryAfter] = []string{strconv.FormatInt(seconds(results[i].RetryAfter), 10)}
			l.errorHandler(w, r, err)
			return
		}
		encode.LogRefusal(l.logger, r, EventExceeded, fmt.Errorf("shadow mode, not refused: %w", err))
	}
	if l.count == CountAll {
		next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	failed := sw.status() >= 400
	if failed == (l.count == CountFailures) {
		// The response is already sent: a refusal or a store error here changes nothing,
		// and the next request's check sees the charge if there was one.
		var after decision
		if l.mem != nil {
			l.decideMemory(r, cost, &after)
		} else {
			l.decideStore(r, cost, l.now(), &after)
		}
	}
}

// refusal builds the error for a request refused by policy i.
func (l *limiter) refusal(i int, res Result, keyHash string) error {
	return &encode.Error{
		Status:     http.StatusTooManyRequests,
		Type:       QuotaExceededType,
		Title:      "Request cannot be satisfied as assigned quota has been exceeded",
		Detail:     "Too many requests; retry after the time given in Retry-After.",
		RetryAfter: res.RetryAfter,
		Err:        fmt.Errorf("%w: policy %q, key %s", ErrLimited, l.policies[i].Name, keyHash),
	}
}

func (l *limiter) writeHeaders(h http.Header, results []Result) {
	if l.headers {
		var buf [160]byte
		h[headerRateLimitPolicy] = l.policyHeader
		h[headerRateLimit] = []string{string(appendRateLimit(buf[:0], l.policies, results))}
	}
	if l.legacy {
		i := tightest(results)
		h[headerLegacyLimit] = []string{strconv.FormatInt(l.policies[i].Limit, 10)}
		h[headerLegacyRemaining] = []string{strconv.FormatInt(results[i].Remaining, 10)}
		h[headerLegacyReset] = []string{strconv.FormatInt(seconds(results[i].Reset), 10)}
	}
}

// decideMemory decides against the MemoryStore with no allocation for the client-address key.
// It reads the clock as the store keeps it, in nanoseconds since the store's epoch.
func (l *limiter) decideMemory(r *http.Request, cost int64, d *decision) {
	now := int64(time.Since(l.epoch))
	results := d.results[:len(l.policies)]
	if l.key == nil {
		var buf [17]byte
		k := addrKey(&buf, clientAddr(l.resolver, r), l.v6bits)
		if k == nil {
			l.decideMemoryString(l.fallback, cost, now, d)
			return
		}
		l.mem.allowAt(maphash.Bytes(l.mem.seed, k), l.compiled, cost, now, results)
		if !allAllowed(results) {
			d.keyHash = digest(k)
		}
		return
	}
	k := l.key(r)
	if k == "" {
		k = l.fallback
	}
	l.decideMemoryString(k, cost, now, d)
}

func (l *limiter) decideMemoryString(k string, cost, now int64, d *decision) {
	results := d.results[:len(l.policies)]
	l.mem.allowAt(maphash.String(l.mem.seed, k), l.compiled, cost, now, results)
	if !allAllowed(results) {
		d.keyHash = digest([]byte(k))
	}
}

// decideStore decides against any other Store.
func (l *limiter) decideStore(r *http.Request, cost int64, now time.Time, d *decision) {
	k := l.keyString(r)
	results := make([]Result, len(l.policies))
	if d.err = l.store.Allow(r.Context(), k, l.policies, cost, now, results); d.err != nil {
		return
	}
	copy(d.results[:], results)
	if !allAllowed(results) {
		d.keyHash = digest([]byte(k))
	}
}

func allAllowed(rs []Result) bool {
	for _, r := range rs {
		if !r.Allowed {
			return false
		}
	}
	return true
}

// statusWriter records the status a handler sends. Unwrap lets [http.ResponseController]
// reach the Flusher and Hijacker underneath.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx responses are not the final status
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
