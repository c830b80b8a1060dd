package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

// ConcurrencyOptions configures [Concurrency]. The zero value is valid: at most 100 requests
// in flight, at most 10 per client address, a request over either limit waits up to 100 ms
// for a slot (with at most 100 waiting), then gets 503.
type ConcurrencyOptions struct {
	// MaxInFlight is the most requests served at once, 1 to 1,000,000. If zero, 100.
	MaxInFlight int
	// PerKey is the most requests of one key served at once, 1 to MaxInFlight. If zero,
	// MaxInFlight/10 (at least 1), so that one client cannot take every slot.
	PerKey int
	// Key, FallbackKey, TrustedProxies, UseForwardedHeader and IPv6PrefixLen work as in
	// [Options].
	Key                func(r *http.Request) string
	FallbackKey        string
	TrustedProxies     []netip.Prefix
	UseForwardedHeader bool
	IPv6PrefixLen      int
	// QueueTimeout is how long a request over a limit waits for a slot. If zero, 100 ms; it
	// must be at most one minute.
	QueueTimeout time.Duration
	// MaxQueue is the most requests waiting for the global limit at once; more are refused at
	// once. If zero, MaxInFlight.
	MaxQueue int
	// Adaptive lowers the global limit when requests get slow and raises it when they are
	// fast again (AIMD: additive increase, multiplicative decrease), between MinInFlight and
	// MaxInFlight, so that a server under load sheds work early instead of queueing until
	// everything times out.
	Adaptive bool
	// TargetLatency is the handler time the adaptive limit aims below. If zero, 250 ms.
	TargetLatency time.Duration
	// MinInFlight is the floor of the adaptive limit. If zero, 1.
	MinInFlight int
	// OnLimit, if set, is called with the new global limit each time the adaptive limit
	// changes (for a metrics gauge). It must be fast and must not block.
	OnLimit func(limit int)
	// ErrorHandler writes the 503 with an [*encode.Error] wrapping ErrOverloaded (Retry-After
	// is set). If nil, the refusal is logged as "ratelimit_exceeded" and written by
	// [encode.WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger is used by the default ErrorHandler. If nil, [slog.Default].
	Logger *slog.Logger
}

// Concurrency returns middleware that limits how many requests are served at once, globally
// and per key. A request over a limit waits up to QueueTimeout for a slot, in arrival order,
// then gets 503 Service Unavailable with Retry-After and a problem+json body. It reports
// invalid options as an error and never panics; it is safe for concurrent use.
func Concurrency(opts ConcurrencyOptions) (func(http.Handler) http.Handler, error) {
	c, err := newConcurrency(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("ratelimit: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.serve(w, r, next)
		})
	}, nil
}

type concurrency struct {
	keyer
	global       *semaphore
	perKey       int
	timeout      time.Duration
	adaptive     bool
	target       time.Duration
	min, max     int
	onLimit      func(int)
	errorHandler func(http.ResponseWriter, *http.Request, error)

	mu   sync.Mutex
	keys map[string]*semaphore // only keys with requests in flight or waiting

	aimdMu       sync.Mutex
	done         int       // completions since the last increase
	lastDecrease time.Time // decreases are at most one per TargetLatency
}

func newConcurrency(opts ConcurrencyOptions) (*concurrency, error) {
	var errs []error
	c := &concurrency{
		perKey:       opts.PerKey,
		timeout:      opts.QueueTimeout,
		adaptive:     opts.Adaptive,
		target:       opts.TargetLatency,
		min:          opts.MinInFlight,
		max:          opts.MaxInFlight,
		onLimit:      opts.OnLimit,
		errorHandler: opts.ErrorHandler,
		keys:         make(map[string]*semaphore),
	}
	if c.max == 0 {
		c.max = 100
	}
	if c.max < 1 || c.max > 1_000_000 {
		errs = append(errs, fmt.Errorf("ratelimit: MaxInFlight %d out of range 1..1000000", opts.MaxInFlight))
	}
	if c.perKey == 0 {
		c.perKey = max(1, c.max/10)
	}
	if c.perKey < 1 || c.perKey > c.max {
		errs = append(errs, fmt.Errorf("ratelimit: PerKey %d out of range 1..MaxInFlight", opts.PerKey))
	}
	if c.timeout == 0 {
		c.timeout = 100 * time.Millisecond
	}
	if c.timeout < 0 || c.timeout > time.Minute {
		errs = append(errs, fmt.Errorf("ratelimit: QueueTimeout %v out of range 0..1m", opts.QueueTimeout))
	}
	queue := opts.MaxQueue
	if queue == 0 {
		queue = c.max
	}
	if queue < 0 {
		errs = append(errs, fmt.Errorf("ratelimit: MaxQueue %d is negative", opts.MaxQueue))
	}
	if c.target == 0 {
		c.target = 250 * time.Millisecond
	}
	if c.target < 0 {
		errs = append(errs, fmt.Errorf("ratelimit: TargetLatency %v is negative", opts.TargetLatency))
	}
	if c.min == 0 {
		c.min = 1
	}
	if c.min < 1 || c.min > c.max {
		errs = append(errs, fmt.Errorf("ratelimit: MinInFlight %d out of range 1..MaxInFlight", opts.MinInFlight))
	}
	k, err := newKeyer(opts.Key, opts.FallbackKey, opts.TrustedProxies, opts.UseForwardedHeader, opts.IPv6PrefixLen)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.keyer = k
	c.global = newSemaphore(c.max, queue)
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if c.errorHandler == nil {
		c.errorHandler = defaultErrorHandler(logger)
	}
	return c, nil
}

func (c *concurrency) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key := c.keyString(r)
	dl := deadline{d: c.timeout}
	defer dl.stop()
	ks := c.keySemaphore(key)
	defer c.releaseKey(key, ks)
	if !ks.acquire(r, &dl) {
		c.refuse(w, r, "per-key")
		return
	}
	defer ks.release()
	if !c.global.acquire(r, &dl) {
		c.refuse(w, r, "global")
		return
	}
	start := time.Now()
	defer func() {
		c.global.release()
		if c.adaptive {
			c.observe(time.Since(start), time.Now())
		}
	}()
	next.ServeHTTP(w, r)
}

func (c *concurrency) refuse(w http.ResponseWriter, r *http.Request, which string) {
	w.Header()[headerRetryAfter] = []string{strconv.FormatInt(seconds(max(c.timeout, time.Second)), 10)}
	c.errorHandler(w, r, &encode.Error{
		Status:     http.StatusServiceUnavailable,
		Detail:     "The server is busy; retry after the time given in Retry-After.",
		RetryAfter: max(c.timeout, time.Second),
		Err:        fmt.Errorf("%w: %s limit", ErrOverloaded, which),
	})
}

// keySemaphore returns the semaphore of key, creating it, and counts one more user of it so
// that it stays in the map until releaseKey.
func (c *concurrency) keySemaphore(key string) *semaphore {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.keys[key]
	if !ok {
		s = newSemaphore(c.perKey, c.perKey)
		c.keys[key] = s
	}
	s.users++
	return s
}

// releaseKey drops the semaphore of key once no request uses it, so the map holds only keys
// with requests in flight or waiting: memory is bounded by the traffic, not by the keys seen.
func (c *concurrency) releaseKey(key string, s *semaphore) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(c.keys, key)
	}
}

// observe feeds one handler latency to the adaptive limit at now: above TargetLatency, the
// limit shrinks by a tenth (at most once per TargetLatency, so one slow burst does not
// collapse it); otherwise, once per limit fast completions, it grows by one.
func (c *concurrency) observe(latency time.Duration, now time.Time) {
	c.aimdMu.Lock()
	defer c.aimdMu.Unlock()
	limit := c.global.getLimit()
	next := limit
	if latency > c.target {
		c.done = 0
		if now.Sub(c.lastDecrease) < c.target {
			return
		}
		c.lastDecrease = now
		next = max(c.min, limit-max(1, limit/10))
	} else {
		if c.done++; c.done < limit {
			return
		}
		c.done = 0
		next = min(c.max, limit+1)
	}
	if next != limit {
		c.global.setLimit(next)
		if c.onLimit != nil {
			c.onLimit(next)
		}
	}
}

// semaphore is a counting semaphore with a bounded FIFO queue and a changeable limit.
type semaphore struct {
	mu       sync.Mutex
	limit    int
	inFlight int
	maxQueue int
	queue    []chan struct{}
	users    int // guarded by concurrency.mu, for per-key semaphores
}

func newSemaphore(limit, maxQueue int) *semaphore {
	return &semaphore{limit: limit, maxQueue: maxQueue}
}

// deadline is the queue timeout of one request, shared by the per-key and global waits. Its
// timer is made only if the request has to wait.
type deadline struct {
	d time.Duration
	t *time.Timer
}

func (dl *deadline) c() <-chan time.Time {
	if dl.t == nil {
		dl.t = time.NewTimer(dl.d)
	}
	return dl.t.C
}

func (dl *deadline) stop() {
	if dl.t != nil {
		dl.t.Stop()
	}
}

// acquire takes a slot, waiting in line until dl expires or the request is cancelled.
func (s *semaphore) acquire(r *http.Request, dl *deadline) bool {
	s.mu.Lock()
	if s.inFlight < s.limit && len(s.queue) == 0 {
		s.inFlight++
		s.mu.Unlock()
		return true
	}
	if len(s.queue) >= s.maxQueue {
		s.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	s.queue = append(s.queue, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-dl.c():
	case <-r.Context().Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.queue {
		if q == ch {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return false
		}
	}
	// Granted while giving up: keep the slot (the caller releases it as usual).
	return true
}

func (s *semaphore) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	s.grant()
}

// grant hands free slots to the waiters in order.
func (s *semaphore) grant() {
	for s.inFlight < s.limit && len(s.queue) > 0 {
		s.inFlight++
		close(s.queue[0])
		s.queue = s.queue[1:]
	}
}

func (s *semaphore) getLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

func (s *semaphore) setLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
	s.grant()
}
