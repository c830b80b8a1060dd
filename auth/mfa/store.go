package mfa

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStoreFull is returned by [MemoryStore.Advance] when it holds MaxEntries live entries.
// The verification then fails closed: forgetting an entry early could let a code be replayed.
var ErrStoreFull = errors.New("mfa: memory store is full")

// Store remembers the last accepted time step per key, so that no one-time code is accepted
// twice (RFC 6238 §5.2, ASVS5 6.5.1). Share one Store between every server that verifies
// codes for the same users: [MemoryStore] serves one process, the redisstore package a fleet.
// A Store must be safe for concurrent use.
type Store interface {
	// Advance atomically records step for key, to be kept for at least ttl after now, if
	// step is greater than the step recorded for key, and reports whether it did. A key that
	// was never recorded, or has expired, accepts any step. An error means nothing is known;
	// the Verifier then refuses the code.
	Advance(ctx context.Context, key string, step int64, now time.Time, ttl time.Duration) (bool, error)
}

// DefaultMaxEntries is the number of entries a zero [MemoryOptions] allows, about 100 MB at
// most. Entries are only written for correct codes, so an attacker cannot fill the store
// without enrolled accounts.
const DefaultMaxEntries = 1 << 20

// MemoryOptions configures [NewMemoryStore]. The zero value is valid.
type MemoryOptions struct {
	// MaxEntries bounds the number of live entries. If zero, DefaultMaxEntries. An entry
	// lives about a minute and a half for a TOTP code and a day for a used recovery code.
	MaxEntries int
}

// MemoryStore is the in-process [Store]: a map under one mutex, bounded by MaxEntries, with
// entries dropped lazily once expired. It starts no goroutine. When full of live entries it
// refuses with [ErrStoreFull] rather than forget one. It is safe for concurrent use.
type MemoryStore struct {
	max int

	mu        sync.Mutex
	entries   map[string]memoryEntry
	nextSweep time.Time // when full, sweep at most once a second
}

type memoryEntry struct {
	step    int64
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore. A negative MaxEntries is an error.
func NewMemoryStore(opts MemoryOptions) (*MemoryStore, error) {
	if opts.MaxEntries < 0 {
		return nil, errors.New("mfa: MemoryOptions.MaxEntries is negative")
	}
	n := opts.MaxEntries
	if n == 0 {
		n = DefaultMaxEntries
	}
	return &MemoryStore{max: n, entries: make(map[string]memoryEntry)}, nil
}

// Advance implements [Store]. Its only error is [ErrStoreFull].
func (s *MemoryStore) Advance(_ context.Context, key string, step int64, now time.Time, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if ok && now.Before(e.expires) && e.step >= step {
		return false, nil
	}
	if !ok && len(s.entries) >= s.max {
		s.sweep(now)
		if len(s.entries) >= s.max {
			return false, ErrStoreFull
		}
	}
	s.entries[key] = memoryEntry{step: step, expires: now.Add(ttl)}
	return true, nil
}

// sweep drops expired entries. It runs only when the store is full, and at most once a
// second, so a full store of live entries does not cost a scan per request.
func (s *MemoryStore) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(time.Second)
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
}

// Len returns the number of entries held, expired or not.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
