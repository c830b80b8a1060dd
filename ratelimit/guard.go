package ratelimit

import (
	"context"
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

// GuardRule says when [Guard] bans a key: after MaxFailures failures within Window (counted
// as a GCRA, so failures spread thinner than that never add up), for Ban, doubling with each
// further ban up to MaxBan. A success forgets the failures and the ban level.
type GuardRule struct {
	MaxFailures int64
	Window      time.Duration
	Ban         time.Duration
	MaxBan      time.Duration
}

// GuardStore keeps the failures and bans of [Guard]. [MemoryStore] and the redisstore
// package implement it. It must be safe for concurrent use.
type GuardStore interface {
	// Banned returns how long key stays banned after now, or zero.
	Banned(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Fail records one failure of key at now and returns the length of the ban it starts, or
	// zero if it starts none.
	Fail(ctx context.Context, key string, rule GuardRule, now time.Time) (time.Duration, error)
	// Reset forgets the failures and ban level of key.
	Reset(ctx context.Context, key string) error
}

// GuardOptions configures [Guard]. The zero value is valid: per client address, 5 failures
// within 15 minutes ban for 1 minute, then 2, 4, ... up to 1 hour (RFC 4226 §7.3 throttling,
// NIST SP 800-63B-4 §3.2.2 increasing waits, well under its 100-failure ceiling), in a
// [MemoryStore].
type GuardOptions struct {
	// Key returns the key failures are counted under, such as the account being logged into
	// (CS-Authentication "Account Lockout": per account, so rotating addresses does not
	// help). If nil, the client address, as in [Options]. A request with no key is counted
	// under FallbackKey.
	Key func(r *http.Request) string
	// FallbackKey is the key of requests whose key cannot be determined. If empty, "unknown".
	FallbackKey string
	// TrustedProxies, UseForwardedHeader and IPv6PrefixLen work as in [Options].
	TrustedProxies     []netip.Prefix
	UseForwardedHeader bool
	IPv6PrefixLen      int
	// MaxFailures is the number of failures within Window that starts a ban, 1 to 100. If
	// zero, 5.
	MaxFailures int
	// Window is the period MaxFailures are counted over. If zero, 15 minutes.
	Window time.Duration
	// Ban is the first ban. If zero, 1 minute.
	Ban time.Duration
	// MaxBan caps the doubling bans. If zero, 1 hour. A key's ban level is forgotten after a
	// success, or once it has been quiet for MaxBan after its last ban.
	MaxBan time.Duration
	// Store keeps the state. If nil, a new [MemoryStore].
	Store GuardStore
	// ErrorHandler writes the response to a banned client, with an [*encode.Error] (429,
	// RetryAfter the time left) wrapping ErrBanned, or ErrUnavailable (503) if Store failed.
	// If nil, the refusal is logged as "ratelimit_banned" and written by [encode.WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives "ratelimit_banned" when a ban starts. If nil, [slog.Default].
	Logger *slog.Logger
}

type guard struct {
	keyer
	rule         GuardRule
	store        GuardStore
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
}

type guardKey struct{}

// guardCall is what Guard puts in the request context for ReportFailure and ReportSuccess.
type guardCall struct {
	g   *guard
	key string
	r   *http.Request
}

// Guard returns middleware that refuses clients banned after repeated failures, before the
// handler runs. The handler reports each outcome with [ReportFailure] or [ReportSuccess] on
// the request's context: a failed login, an invalid token, a wrong one-time code. A banned
// client gets 429 with Retry-After (the time left) and a problem+json body. Guard reports
// invalid options as an error and never panics; it is safe for concurrent use.
func Guard(opts GuardOptions) (func(http.Handler) http.Handler, error) {
	g, err := newGuard(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("ratelimit: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := g.keyString(r)
			left, err := g.store.Banned(r.Context(), key, time.Now())
			if err != nil {
				w.Header()[headerRetryAfter] = []string{"1"}
				g.errorHandler(w, r, &encode.Error{Status: http.StatusServiceUnavailable, RetryAfter: time.Second,
					Err: fmt.Errorf("%w: %w", ErrUnavailable, err)})
				return
			}
			if left > 0 {
				w.Header()[headerRetryAfter] = []string{strconv.FormatInt(seconds(left), 10)}
				g.errorHandler(w, r, &encode.Error{
					Status:     http.StatusTooManyRequests,
					Detail:     "Too many failed attempts; retry after the time given in Retry-After.",
					RetryAfter: left,
					Err:        fmt.Errorf("%w: key %s", ErrBanned, digest([]byte(key))),
				})
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), guardKey{}, &guardCall{g: g, key: key, r: r})))
		})
	}, nil
}

func newGuard(opts GuardOptions) (*guard, error) {
	var errs []error
	g := &guard{
		rule:         GuardRule{MaxFailures: int64(opts.MaxFailures), Window: opts.Window, Ban: opts.Ban, MaxBan: opts.MaxBan},
		store:        opts.Store,
		errorHandler: opts.ErrorHandler,
		logger:       opts.Logger,
	}
	if g.rule.MaxFailures == 0 {
		g.rule.MaxFailures = 5
	}
	if g.rule.Window == 0 {
		g.rule.Window = 15 * time.Minute
	}
	if g.rule.Ban == 0 {
		g.rule.Ban = time.Minute
	}
	if g.rule.MaxBan == 0 {
		g.rule.MaxBan = max(time.Hour, g.rule.Ban)
	}
	if g.rule.MaxFailures < 1 || g.rule.MaxFailures > 100 {
		errs = append(errs, fmt.Errorf("ratelimit: MaxFailures %d out of range 1..100", opts.MaxFailures))
	}
	if g.rule.Window < time.Second || g.rule.Window > MaxPeriod {
		errs = append(errs, fmt.Errorf("ratelimit: Window %v out of range 1s..%v", opts.Window, MaxPeriod))
	}
	if g.rule.Ban < time.Second || g.rule.Ban > MaxPeriod {
		errs = append(errs, fmt.Errorf("ratelimit: Ban %v out of range 1s..%v", opts.Ban, MaxPeriod))
	}
	if g.rule.MaxBan < g.rule.Ban || g.rule.MaxBan > MaxPeriod {
		errs = append(errs, fmt.Errorf("ratelimit: MaxBan %v out of range Ban..%v", opts.MaxBan, MaxPeriod))
	}
	k, err := newKeyer(opts.Key, opts.FallbackKey, opts.TrustedProxies, opts.UseForwardedHeader, opts.IPv6PrefixLen)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.keyer = k
	if g.store == nil {
		g.store, _ = NewMemoryStore(MemoryOptions{})
	}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	if g.errorHandler == nil {
		g.errorHandler = defaultErrorHandler(g.logger)
	}
	return g, nil
}

// ReportFailure tells the [Guard] in front of the handler that this request failed (a wrong
// password, an invalid token). Enough failures ban the client. The ban applies from the next
// request; this one's response is the handler's. Outside a Guard it does nothing. If the
// store fails, the failure is logged and not counted.
func ReportFailure(ctx context.Context) {
	c, ok := ctx.Value(guardKey{}).(*guardCall)
	if !ok {
		return
	}
	ban, err := c.g.store.Fail(ctx, c.key, c.g.rule, time.Now())
	switch {
	case err != nil:
		c.g.logger.LogAttrs(ctx, slog.LevelError, EventUnavailable, slog.String("error", err.Error()))
	case ban > 0:
		encode.LogRefusal(c.g.logger, c.r, EventBanned, &encode.Error{Status: http.StatusTooManyRequests,
			Err: fmt.Errorf("%w: key %s, for %v", ErrBanned, digest([]byte(c.key)), ban)})
	}
}

// ReportSuccess tells the [Guard] in front of the handler that this request succeeded: the
// client's earlier failures and ban level are forgotten (NIST SP 800-63B-4 §3.2.2). Outside
// a Guard it does nothing.
func ReportSuccess(ctx context.Context) {
	c, ok := ctx.Value(guardKey{}).(*guardCall)
	if !ok {
		return
	}
	if err := c.g.store.Reset(ctx, c.key); err != nil {
		c.g.logger.LogAttrs(ctx, slog.LevelError, EventUnavailable, slog.String("error", err.Error()))
	}
}

// guardState is the memory store's record of one guarded key, in nanoseconds since the
// store's epoch.
type guardState struct {
	tat     int64 // GCRA state of the failures
	until   int64 // end of the current ban
	expires int64 // when the whole record may be forgotten
	level   int64 // bans so far
}

// Banned implements [GuardStore].
func (s *MemoryStore) Banned(_ context.Context, key string, now time.Time) (time.Duration, error) {
	h := maphash.String(s.seed, key)
	t := s.since(now)
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if st, ok := sh.guards[h]; ok && st.until > t {
		return time.Duration(st.until - t), nil
	}
	return 0, nil
}

// Fail implements [GuardStore].
func (s *MemoryStore) Fail(_ context.Context, key string, rule GuardRule, now time.Time) (time.Duration, error) {
	h := maphash.String(s.seed, key)
	t := s.since(now)
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, ok := sh.guards[h]
	if !ok || st.expires <= t {
		st = guardState{tat: t}
	}
	if st.until > t {
		return 0, nil // already banned: the ban is not extended by attempts it refused
	}
	ban, next := guardFail(st.tat, st.level, t, rule)
	if ban > 0 {
		st.level++
		st.until = t + int64(ban)
	}
	st.tat = next
	st.expires = max(st.tat, st.until+int64(rule.MaxBan))
	if !ok && len(sh.guards) >= s.perShard {
		// Full: among a few sampled records drop an idle one, else the one that would be
		// forgotten soonest, so that a flood of new keys is unlikely to lift a running ban.
		var victim uint64
		soonest, n := int64(1<<63-1), 0
		for k, old := range sh.guards {
			if old.expires < soonest {
				victim, soonest = k, old.expires
			}
			if n++; old.expires <= t || n == evictSample {
				break
			}
		}
		delete(sh.guards, victim)
	}
	sh.guards[h] = st
	return ban, nil
}

// guardFail is the rule's arithmetic, shared by the stores: one more failure on a key whose
// failure GCRA state is tat and which has been banned level times. It returns the ban to
// start (zero if none) and the new state; a ban starts when the failure uses the last of
// MaxFailures, and clears the count.
func guardFail(tat, level, now int64, rule GuardRule) (time.Duration, int64) {
	interval := (int64(rule.Window) + rule.MaxFailures - 1) / rule.MaxFailures
	ntat, r := gcra(tat, now, interval, rule.MaxFailures, 1)
	if r.Allowed && r.Remaining > 0 {
		return 0, ntat
	}
	return GuardBan(rule, level+1), now
}

// GuardBan returns the length of the n-th ban (n >= 1) under rule: Ban doubled n-1 times,
// capped at MaxBan.
func GuardBan(rule GuardRule, n int64) time.Duration {
	b := rule.Ban
	for i := int64(1); i < n && b < rule.MaxBan; i++ {
		b *= 2
	}
	return min(b, rule.MaxBan)
}

// Reset implements [GuardStore].
func (s *MemoryStore) Reset(_ context.Context, key string) error {
	h := maphash.String(s.seed, key)
	sh := s.shard(h)
	sh.mu.Lock()
	delete(sh.guards, h)
	sh.mu.Unlock()
	return nil
}
