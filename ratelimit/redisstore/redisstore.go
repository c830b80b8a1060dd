// Package redisstore keeps [ratelimit] state in Redis, so that a fleet of servers shares one
// limit per client. [Store] implements both [ratelimit.Store] (for [ratelimit.New] and
// [ratelimit.Login]) and [ratelimit.GuardStore] (for [ratelimit.Guard]).
//
// Each decision is one EVALSHA of one Lua script (EVAL once after a SCRIPT FLUSH or a
// failover, when Redis answers NOSCRIPT), in exactly one round trip: the script reads the
// Redis server's clock with TIME, checks every policy of the request and charges all or
// none, atomically. Decisions made at the same moment travel in one pipeline, each still its
// own script call, which spares Redis most of its per-command system-call cost. The state
// per key and policy is one string, the theoretical arrival time in microseconds, whose TTL
// ends one to two expiry slots (1 s to 1 min) after it, so Redis never fills with dead keys.
// Keys look like "ratelimit:{<hash>}:<policy>:<interval µs>:<burst>": the client's key is
// hashed (SHA-256, 128 bits), so API keys are never written to Redis, and the hash tag keeps
// the keys of one client in one Cluster slot.
//
// A key Redis has refused is remembered in the process until its quota comes back (likewise
// a Guard ban), so a client hammering while blocked costs no round trip.
//
// # When Redis fails
//
// Options.FailOpen chooses. Failing closed (the default) returns an error, which
// [ratelimit.New] answers with 503: an attacker who can slow Redis down must not get
// unlimited requests. Failing open decides with a local [ratelimit.MemoryStore] instead, so
// each server enforces the limit on its own (the fleet allows up to servers × limit). Either
// way a decision waits at most Options.Timeout, the first failure is logged at Error as
// "ratelimit_store_down", Redis is left alone for RetryInterval, then tried again; the first
// success is logged as "ratelimit_store_up".
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-go/bulwark/internal/redisclient"

	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/redis/go-redis/v9"
)

// Defaults of [Options].
const (
	DefaultPrefix        = "ratelimit:"
	DefaultTimeout       = 50 * time.Millisecond
	DefaultRetryInterval = time.Second
	DefaultBlockedKeys   = 10_000
)

// ErrRedis wraps the Redis error that made a fail-closed Store refuse to decide.
var ErrRedis = errors.New("redisstore: redis unavailable")

// Options configures [New]. Client is required; the zero value of every other field is the
// strict choice.
type Options struct {
	// Client is the Redis connection: a *redis.Client, a Sentinel failover client or a
	// *redis.ClusterClient. Its ContextTimeoutEnabled option must be set, or Timeout could not
	// bound a slow Redis; New checks this for the clients it knows.
	Client redis.UniversalClient
	// Prefix starts every key. If empty, DefaultPrefix.
	Prefix string
	// Timeout bounds one decision. If zero, DefaultTimeout.
	Timeout time.Duration
	// FailOpen decides with a local memory limiter while Redis is unreachable or slow. If
	// false, the Store returns an error (wrapping ErrRedis) and the middleware answers 503.
	FailOpen bool
	// Local is the memory store used when failing open. If nil, a new one with default
	// options.
	Local *ratelimit.MemoryStore
	// RetryInterval is how long Redis is left alone after a failure. If zero,
	// DefaultRetryInterval.
	RetryInterval time.Duration
	// BlockedKeys bounds the local caches of keys Redis said are over their limit or banned
	// by a Guard: while a key is known to be blocked, it is refused without a round trip. If
	// zero, DefaultBlockedKeys; if negative, no cache.
	BlockedKeys int
	// Logger receives the store-down and store-up events. If nil, [slog.Default].
	Logger *slog.Logger
}

// Store is a [ratelimit.Store] on Redis. It is safe for concurrent use.
type Store struct {
	client    redis.UniversalClient
	prefix    string
	timeout   time.Duration
	failOpen  bool
	local     *ratelimit.MemoryStore
	retry     time.Duration
	logger    *slog.Logger
	blocked   *blockedCache // nil when off
	bans      *blockedCache // bans reported by the Guard script; nil when off
	policies  sync.Map      // ratelimit.Policy -> *policyArgs
	batch     batcher
	downUntil atomic.Int64 // unix ns before which Redis is not asked; 0 when up
	down      atomic.Bool  // whether the last attempt failed, for logging transitions
}

// New returns a Store. It reports invalid options as an error; it does not contact Redis.
func New(opts Options) (*Store, error) {
	var errs []error
	if opts.Client == nil {
		errs = append(errs, errors.New("redisstore: Client is required"))
	} else if !redisclient.ContextTimeouts(opts.Client) {
		errs = append(errs, errors.New("redisstore: Client must set ContextTimeoutEnabled, or Timeout cannot bound a slow Redis"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("redisstore: Timeout is negative"))
	}
	if opts.RetryInterval < 0 {
		errs = append(errs, errors.New("redisstore: RetryInterval is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Store{
		client:   opts.Client,
		prefix:   cmp(opts.Prefix, DefaultPrefix),
		timeout:  cmp(opts.Timeout, DefaultTimeout),
		failOpen: opts.FailOpen,
		local:    opts.Local,
		retry:    cmp(opts.RetryInterval, DefaultRetryInterval),
		logger:   opts.Logger,
	}
	if s.local == nil {
		s.local, _ = ratelimit.NewMemoryStore(ratelimit.MemoryOptions{})
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if opts.BlockedKeys >= 0 {
		s.blocked = newBlockedCache(cmp(opts.BlockedKeys, DefaultBlockedKeys))
		s.bans = newBlockedCache(cmp(opts.BlockedKeys, DefaultBlockedKeys))
	}
	return s, nil
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// The scripts are the whole decision. The state of a key and policy is its theoretical
// arrival time (TAT) in microseconds on the Redis server's clock (the resolution of TIME), a
// whole number below 2^53, so exact in Lua's doubles; intervals are rounded up to a whole
// microsecond, so a limit can only be slightly stricter than configured, never looser.
//
// Expiry: a key must outlive its TAT (or the client would get a fresh bucket) and should not
// outlive it by much (or Redis fills with dead keys). Time is cut into slots of q µs (an
// eighth of the policy's window, from one second to one minute); a key expires at the end of the slot
// after its TAT's slot, so between q and 2q after the TAT. An update that stays within the
// TAT's slot keeps the TTL (SET KEEPTTL), which spares Redis an expiry update on most
// requests of a busy key.
//
// oneScript decides one policy. It is built per policy (see [policyArgs]) with the policy's
// constants in its text: $LIMIT is burst × interval and $Q the expiry slot (both µs), which
// spares Redis converting them from strings on every call. ARGV[1] is cost × interval (µs),
// negative to ask without charging. It returns the delay the key owed before this request
// (µs), or -1 minus that delay when the request does not conform. The new arrival time is
// written with string.format('%d'), an integer conversion, rather than as a Lua number, which
// Redis would format as a float; measured with INFO commandstats (bench/
// BenchmarkRatelimitRedis), the constants and the integer formatting take a call from
// 3.35 µs to 2.95 µs of Redis time.
const oneScript = `
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local v = tonumber(redis.call('GET', KEYS[1]))
local d = 0
if v and v > now then d = v - now end
local inc = tonumber(ARGV[1])
if d + (inc < 0 and -inc or inc) > $LIMIT then return -1 - d end
if inc > 0 then
  local tat = now + d + inc
  local slot = tat - tat % $Q
  if v and v - v % $Q == slot then
    redis.call('SET', KEYS[1], string.format('%d', tat), 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], string.format('%d', tat), 'PXAT', string.format('%d', (slot + 2 * $Q) / 1000))
  end
end
return d
`

// manyScript decides several policies together, charging all or none. ARGV[1] is the cost,
// ARGV[2] "1" to charge, then each policy's interval, burst × interval and q (µs). It returns
// 1 or 0 (conforms), then the delay each key owed.
const manyScript = `
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local cost = tonumber(ARGV[1])
local ok = 1
local out = {0}
local old = {}
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]))
  old[i] = v
  local d = (v or now) - now
  if d < 0 then d = 0 end
  out[i + 1] = d
  if d + cost * ARGV[3 * i] > tonumber(ARGV[3 * i + 1]) then ok = 0 end
end
out[1] = ok
if ok == 1 and ARGV[2] == '1' then
  for i = 1, #KEYS do
    local tat, q = now + out[i + 1] + cost * ARGV[3 * i], tonumber(ARGV[3 * i + 2])
    local slot = math.floor(tat / q)
    if old[i] and slot == math.floor(old[i] / q) then
      redis.call('SET', KEYS[i], string.format('%d', tat), 'KEEPTTL')
    else
      redis.call('SET', KEYS[i], string.format('%d', tat), 'PXAT', string.format('%d', (slot + 2) * q / 1000))
    end
  end
end
return out
`

var gcraMany = redis.NewScript(manyScript)

// Allow implements [ratelimit.Store]. now is used only for the local blocked-key cache and
// the fail-open memory limiter; Redis decides on its own clock.
func (s *Store) Allow(ctx context.Context, key string, policies []ratelimit.Policy, cost int64, now time.Time, results []ratelimit.Result) error {
	if len(policies) == 0 || len(policies) > ratelimit.MaxPolicies || len(results) < len(policies) {
		return errors.New("redisstore: need 1..MaxPolicies policies and as many results")
	}
	if s.blocked != nil && s.blocked.refuse(key, policies, now, results) {
		return nil
	}
	if !s.up(now) {
		if !s.failOpen {
			return errDown
		}
		return s.local.Allow(ctx, key, policies, cost, now, results)
	}
	if err := s.remote(ctx, key, policies, cost, results); err != nil {
		if !s.fail(ctx, now, err) {
			return fmt.Errorf("%w: %w", ErrRedis, err)
		}
		return s.local.Allow(ctx, key, policies, cost, now, results)
	}
	s.ok(ctx)
	if s.blocked != nil {
		s.blocked.remember(key, policies, now, results)
	}
	return nil
}

var errDown = fmt.Errorf("%w: marked down after a recent failure", ErrRedis)

// up reports whether Redis may be asked at now: it is left alone for RetryInterval after a
// failure, then tried again, so the store recovers by itself.
func (s *Store) up(now time.Time) bool {
	until := s.downUntil.Load()
	return until == 0 || now.UnixNano() >= until
}

// fail records a failure of Redis, logging the first of a run, and reports whether to fall
// back to the local store.
func (s *Store) fail(ctx context.Context, now time.Time, err error) bool {
	s.downUntil.Store(now.Add(s.retry).UnixNano())
	if !s.down.Swap(true) {
		s.logger.LogAttrs(ctx, slog.LevelError, "ratelimit_store_down",
			slog.String("error", err.Error()), slog.Bool("fail_open", s.failOpen), slog.Duration("retry_in", s.retry))
	}
	return s.failOpen
}

// ok records a success of Redis, logging the first after a failure.
func (s *Store) ok(ctx context.Context) {
	if s.down.Load() && s.down.Swap(false) {
		s.downUntil.Store(0)
		s.logger.LogAttrs(ctx, slog.LevelInfo, "ratelimit_store_up")
	}
}

// policyArgs is what the scripts need of a policy, formatted once.
type policyArgs struct {
	suffix   string // ":<name>:<interval µs>:<burst>", the end of its Redis key
	interval int64  // µs
	limit    int64  // burst × interval, µs
	limitArg string
	slotArg  string        // q, the expiry slot, µs
	one      *redis.Script // oneScript with this policy's constants
}

func (s *Store) args(p ratelimit.Policy) *policyArgs {
	if a, ok := s.policies.Load(p); ok {
		return a.(*policyArgs)
	}
	t := (int64(p.Interval()) + 999) / 1000
	a := &policyArgs{
		suffix:   ":" + p.Name + ":" + strconv.FormatInt(t, 10) + ":" + strconv.FormatInt(p.Capacity(), 10),
		interval: t,
		limit:    t * p.Capacity(),
	}
	a.limitArg = strconv.FormatInt(a.limit, 10)
	// An eighth of the window in whole milliseconds (PXAT takes ms), from 1 s to 1 min.
	a.slotArg = strconv.FormatInt(min(max((a.limit/8+999)/1000*1000, 1_000_000), 60_000_000), 10)
	a.one = redis.NewScript(strings.NewReplacer("$LIMIT", a.limitArg, "$Q", a.slotArg).Replace(oneScript))
	s.policies.Store(p, a)
	return a
}

// remote runs one script: exactly one round trip (two after Redis lost the script).
func (s *Store) remote(ctx context.Context, key string, policies []ratelimit.Policy, cost int64, results []ratelimit.Result) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	charge := "1"
	if cost <= 0 {
		cost, charge = 1, "0"
	}
	// As in the memory store: a cost above a burst never conforms, and the cap keeps
	// cost × interval far from overflowing.
	for _, p := range policies {
		cost = min(cost, p.Capacity()+1)
	}
	base := s.prefix + "{" + hashKey(key) + "}"
	if len(policies) == 1 {
		a := s.args(policies[0])
		inc := cost * a.interval
		if charge == "0" {
			inc = -inc
		}
		cmd, err := s.do(ctx, &call{script: a.one, keys: []string{base + a.suffix}, args: []any{strconv.FormatInt(inc, 10)}})
		if err != nil {
			return err
		}
		d, err := cmd.Int64()
		if err != nil {
			return err
		}
		allowed := d >= 0
		if !allowed {
			d = -1 - d
		}
		results[0] = decide(d*1000, a.interval*1000, policies[0].Capacity(), cost, allowed || charge == "0")
		return nil
	}
	keys := make([]string, len(policies))
	args := make([]any, 2, 2+3*len(policies))
	args[0], args[1] = strconv.FormatInt(cost, 10), charge
	as := make([]*policyArgs, len(policies))
	for i, p := range policies {
		as[i] = s.args(p)
		keys[i] = base + as[i].suffix
		args = append(args, strconv.FormatInt(as[i].interval, 10), as[i].limitArg, as[i].slotArg)
	}
	cmd, err := s.do(ctx, &call{script: gcraMany, keys: keys, args: args})
	if err != nil {
		return err
	}
	vals, err := cmd.Int64Slice()
	if err != nil {
		return err
	}
	if len(vals) != len(policies)+1 {
		return fmt.Errorf("redisstore: script returned %d values, want %d", len(vals), len(policies)+1)
	}
	allowed := vals[0] == 1
	for i, p := range policies {
		results[i] = decide(vals[i+1]*1000, as[i].interval*1000, p.Capacity(), cost, allowed || charge == "0")
	}
	return nil
}

// decide computes the Result of one policy from the delay d the key owed, with the same
// arithmetic as the memory store. counted says whether to report the state after this
// request (it was charged, or only asked about) or as it stays (another policy refused it).
func decide(d, t, burst, cost int64, counted bool) ratelimit.Result {
	limit := burst * t
	nd := d + cost*t
	if nd > limit {
		r := remaining(d, t, limit)
		r.RetryAfter = time.Duration(nd - limit)
		return r
	}
	if !counted {
		nd = d
	}
	r := remaining(nd, t, limit)
	r.Allowed = true
	return r
}

func remaining(d, t, limit int64) ratelimit.Result {
	if d > limit {
		return ratelimit.Result{Reset: time.Duration(d - limit + t)}
	}
	rem := (limit - d) / t
	var reset int64
	if d > 0 {
		reset = d - limit + (rem+1)*t
	}
	return ratelimit.Result{Remaining: rem, Reset: time.Duration(reset)}
}

// hashKey names a client in Redis without revealing its key: 128 bits of SHA-256.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// blockedCache remembers keys Redis refused, until their quota comes back, so that a client
// hammering while blocked costs no round trip. It is bounded and expires lazily.
type blockedCache struct {
	seed maphash.Seed
	max  int
	mu   sync.Mutex
	m    map[uint64]blockedEntry
}

type blockedEntry struct {
	until   int64 // unix ns
	results []ratelimit.Result
	names   []string // the policies the results belong to
}

func newBlockedCache(n int) *blockedCache {
	return &blockedCache{seed: maphash.MakeSeed(), max: n, m: make(map[uint64]blockedEntry)}
}

// remember caches key if even a request of cost one would be refused now: some policy has
// no quota left. It stays blocked until that quota comes back.
func (c *blockedCache) remember(key string, policies []ratelimit.Policy, now time.Time, results []ratelimit.Result) {
	var wait time.Duration
	for _, r := range results[:len(policies)] {
		if r.Remaining == 0 && r.Reset > wait {
			wait = r.Reset
		}
	}
	if wait <= 0 {
		return
	}
	e := blockedEntry{until: now.Add(wait).UnixNano(), results: append([]ratelimit.Result(nil), results[:len(policies)]...)}
	for _, p := range policies {
		e.names = append(e.names, p.Name)
	}
	c.put(maphash.String(c.seed, key), e, now)
}

// put stores e under h, first dropping an entry (expired ones first) if the cache is full.
func (c *blockedCache) put(h uint64, e blockedEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		n := 0
		for k, old := range c.m { // a random sample: drop the expired, else one
			if old.until <= now.UnixNano() || n == 0 {
				delete(c.m, k)
			}
			if n++; n == 8 {
				break
			}
		}
	}
	c.m[h] = e
}

// refuse fills results and reports true if key is known to be blocked at now.
func (c *blockedCache) refuse(key string, policies []ratelimit.Policy, now time.Time, results []ratelimit.Result) bool {
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	e, ok := c.m[h]
	if ok && e.until <= now.UnixNano() {
		delete(c.m, h)
		ok = false
	}
	c.mu.Unlock()
	if !ok || len(e.names) != len(policies) {
		return false
	}
	for i, p := range policies {
		if e.names[i] != p.Name {
			return false
		}
	}
	left := time.Duration(e.until - now.UnixNano())
	for i, r := range e.results {
		r.Allowed = false
		// Time has passed since Redis answered: what is left of the block is the wait.
		if r.Remaining == 0 {
			r.Reset = min(r.Reset, left)
			r.RetryAfter = max(left, 0)
		}
		results[i] = r
	}
	return true
}

// ban remembers that key is banned for d after now.
func (c *blockedCache) ban(key string, now time.Time, d time.Duration) {
	c.put(maphash.String(c.seed, key), blockedEntry{until: now.Add(d).UnixNano()}, now)
}

// banned returns the time left of a remembered ban of key.
func (c *blockedCache) banned(key string, now time.Time) time.Duration {
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[h]
	if !ok {
		return 0
	}
	if left := e.until - now.UnixNano(); left > 0 {
		return time.Duration(left)
	}
	delete(c.m, h)
	return 0
}

// forget drops key from the cache.
func (c *blockedCache) forget(key string) {
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	delete(c.m, h)
	c.mu.Unlock()
}
