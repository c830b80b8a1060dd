package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// MaxPolicies is the most policies one limiter evaluates together.
const MaxPolicies = 8

// Store keeps rate-limit state. [MemoryStore] keeps it in the process; the redisstore package
// shares it across a fleet through Redis. A Store must be safe for concurrent use.
type Store interface {
	// Allow decides a request of cost units for key under every policy at once, at time now,
	// and writes one Result per policy into results (len(results) >= len(policies)).
	// The request is charged to every policy only if every policy allows it; a refused request
	// costs nothing. A cost of zero asks the question for a cost of one without charging; a
	// cost above a policy's burst never conforms.
	// An error means no decision was made; results are then undefined.
	Allow(ctx context.Context, key string, policies []Policy, cost int64, now time.Time, results []Result) error
}

// DefaultMaxKeys is the number of entries a zero [MemoryOptions] allows: about 40 MB at most.
const DefaultMaxKeys = 1 << 20

// MemoryOptions configures [NewMemoryStore]. The zero value is valid.
type MemoryOptions struct {
	// MaxKeys bounds how many (key, policy) entries the store holds, so that a flood of new
	// keys cannot exhaust memory, and separately how many [Guard] records. If zero,
	// DefaultMaxKeys. When the store is full, a new key
	// first replaces idle entries (whose quota is full again, so nothing is lost), and
	// otherwise the entry of a few sampled ones that owes the least, which forgets some of
	// that key's usage. Size it above the number of keys active within your longest Period.
	MaxKeys int
}

// shardBits gives 64 shards: enough that 2..16 cores rarely meet on one lock with many keys,
// few enough that a shard's map stays large and its per-map overhead small.
const shardBits = 6

// MemoryStore is the in-process [Store]. It keeps one int64 per key and policy (the GCRA
// theoretical arrival time) in a map per shard, indexed by 64-bit hashes seeded at random per
// store with [hash/maphash], so that no client can craft a key that shares another's bucket.
// Idle entries expire lazily and memory is bounded by MaxKeys; it starts no goroutine. It is
// safe for concurrent use, and a decision for a key it already holds makes no allocation.
type MemoryStore struct {
	seed     maphash.Seed
	epoch    time.Time // times are kept as nanoseconds since epoch, on the monotonic clock
	perShard int
	shards   [1 << shardBits]shard
}

type shard struct {
	mu     sync.Mutex
	limits map[uint64]int64 // entry hash -> theoretical arrival time
	guards map[uint64]guardState
	_      [40]byte // keep shards on separate cache lines
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryOptions) (*MemoryStore, error) {
	if opts.MaxKeys < 0 {
		return nil, errors.New("ratelimit: MemoryOptions.MaxKeys is negative")
	}
	n := opts.MaxKeys
	if n == 0 {
		n = DefaultMaxKeys
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), epoch: time.Now(), perShard: max(1, n>>shardBits)}
	for i := range s.shards {
		s.shards[i].limits = make(map[uint64]int64)
		s.shards[i].guards = make(map[uint64]guardState)
	}
	return s, nil
}

// Allow implements [Store]. It never returns an error.
func (s *MemoryStore) Allow(_ context.Context, key string, policies []Policy, cost int64, now time.Time, results []Result) error {
	s.allow(maphash.String(s.seed, key), policies, cost, now, results)
	return nil
}

func (s *MemoryStore) since(now time.Time) int64 { return int64(now.Sub(s.epoch)) }

// policyHash identifies a policy within the store, so that limiters sharing a store keep
// separate buckets for differently named or sized policies.
func (s *MemoryStore) policyHash(p *Policy) uint64 {
	return maphash.String(s.seed, p.Name) ^ mix(uint64(p.Limit)*0x9e3779b97f4a7c15^uint64(p.Period)*0xc2b2ae3d27d4eb4f^uint64(p.Burst))
}

// mix is the splitmix64 finalizer: every input bit affects every output bit.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (s *MemoryStore) shard(h uint64) *shard { return &s.shards[h>>(64-shardBits)] }

func (s *MemoryStore) allow(h uint64, policies []Policy, cost int64, now time.Time, results []Result) {
	var ph [MaxPolicies]uint64
	for i := range min(len(policies), MaxPolicies) {
		ph[i] = s.policyHash(&policies[i])
	}
	s.allowAt(h, policies, ph[:], cost, s.since(now), results)
}

// allowAt decides for the key hashed to h at t nanoseconds after the store's epoch; ph holds
// the policyHash of each policy, which the middleware computes once.
func (s *MemoryStore) allowAt(h uint64, policies []Policy, ph []uint64, cost, t int64, results []Result) {
	charge := cost > 0
	n := min(len(policies), MaxPolicies)
	// A cost above a policy's burst never conforms; capping it there keeps cost × interval
	// far from overflowing without changing any answer.
	limit := int64(MaxLimit)
	for i := range n {
		limit = min(limit, policies[i].burst()+1)
	}
	cost = min(max(cost, 1), limit)
	var keys [MaxPolicies]uint64
	var tats [MaxPolicies]int64
	for i := range n {
		keys[i] = mix(h ^ ph[i])
	}
	sh := s.shard(h)
	sh.mu.Lock()
	allowed := true
	for i := range n {
		p := &policies[i]
		tat, ok := sh.limits[keys[i]]
		if !ok {
			tat = t // no entry is a full bucket
		}
		tats[i], results[i] = gcra(tat, t, p.interval(), p.burst(), cost)
		allowed = allowed && results[i].Allowed
	}
	switch {
	case !charge:
	case allowed:
		for i := range n {
			sh.store(keys[i], tats[i], t, s.perShard)
		}
	default:
		// Nothing is charged, so the policies that would have allowed report their state
		// as it stays.
		for i := range n {
			if results[i].Allowed {
				p := &policies[i]
				d := int64(0)
				if tat, ok := sh.limits[keys[i]]; ok {
					d = max(tat-t, 0)
				}
				results[i] = report(d, p.interval(), p.burst()*p.interval())
				results[i].Allowed = true
			}
		}
	}
	sh.mu.Unlock()
}

// store sets the state of entry k, making room first if k is new and the shard is full.
func (sh *shard) store(k uint64, tat, now int64, limit int) {
	if len(sh.limits) >= limit {
		if _, ok := sh.limits[k]; !ok {
			sh.makeRoom(now)
		}
	}
	sh.limits[k] = tat
}

// evictSample is how many entries one insertion into a full shard looks at. Map iteration
// starts at a random place, so these are a cheap random sample.
const evictSample = 8

// makeRoom deletes idle entries among a few sampled ones; an entry whose arrival time has
// passed has a full bucket and is the same as no entry, so deleting it loses nothing. If all
// sampled entries are busy, it deletes the one that owes the least.
func (sh *shard) makeRoom(now int64) {
	sample := evictSample
	var victim uint64
	least := int64(1<<63 - 1)
	freed := false
	for k, tat := range sh.limits {
		if tat <= now {
			delete(sh.limits, k)
			freed = true
		} else if tat < least {
			victim, least = k, tat
		}
		if sample--; sample == 0 {
			break
		}
	}
	if !freed && least != 1<<63-1 {
		delete(sh.limits, victim)
	}
}

// Len returns the number of entries the store holds, idle ones included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.limits) + len(sh.guards)
		sh.mu.Unlock()
	}
	return n
}
