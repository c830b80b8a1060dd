package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStoreFull is returned by [MemoryRevocationStore] and [MemoryRefreshStore] when they
// hold MaxEntries live entries. Nothing is evicted early: dropping a revocation would
// bring a revoked token back to life.
var ErrStoreFull = errors.New("auth: store full")

// MemoryRevocationStore is an in-memory [RevocationStore] for one process: revoked token
// ids ("jti" per issuer), revoked sessions (the "sid" of [Refresher] families), and
// per-subject not-before times. Each entry is kept until the tokens it revokes have
// expired, then dropped lazily; there are no goroutines. It is safe for concurrent use.
//
// A fleet of servers needs a shared store, such as the one in auth/redisstore: a logout
// recorded in one process's memory is not seen by the others.
type MemoryRevocationStore struct {
	max int

	mu       sync.Mutex
	n        int                      // entries in the three maps
	tokens   map[[2]string]revocation // by (issuer, jti)
	families map[string]revocation    // by family (sid)
	subjects map[string]revocation    // by Principal.Key
}

type revocation struct {
	notBefore time.Time // for subjects; zero for tokens and families
	until     time.Time
}

// MemoryRevocationOptions configures [NewMemoryRevocationStore].
type MemoryRevocationOptions struct {
	// MaxEntries bounds the live entries. If zero, 100 000. When full, a new revocation
	// fails with [ErrStoreFull] (after expired entries are dropped), never silently.
	MaxEntries int
}

// NewMemoryRevocationStore returns an empty store. It reports invalid options as an error.
func NewMemoryRevocationStore(opts MemoryRevocationOptions) (*MemoryRevocationStore, error) {
	switch {
	case opts.MaxEntries == 0:
		opts.MaxEntries = 100_000
	case opts.MaxEntries < 0:
		return nil, errors.New("auth: MemoryRevocationOptions.MaxEntries must not be negative")
	}
	return &MemoryRevocationStore{
		max:      opts.MaxEntries,
		tokens:   make(map[[2]string]revocation),
		families: make(map[string]revocation),
		subjects: make(map[string]revocation),
	}, nil
}

// RevokeToken revokes the token of issuer with id jti (its "jti") until expiry, its "exp".
// For a logout, pass the principal's Issuer, TokenID and Expiry.
func (s *MemoryRevocationStore) RevokeToken(_ context.Context, issuer, jti string, expiry time.Time) error {
	if jti == "" {
		return errors.New("auth: RevokeToken: empty token id")
	}
	return put(s, s.tokens, [2]string{issuer, jti}, revocation{until: expiry}, time.Now())
}

// RevokeFamily revokes every access token whose "sid" is family, until the family's last
// token has expired.
func (s *MemoryRevocationStore) RevokeFamily(_ context.Context, family string, until time.Time) error {
	if family == "" {
		return errors.New("auth: RevokeFamily: empty family")
	}
	return put(s, s.families, family, revocation{until: until}, time.Now())
}

// RevokeSubject revokes every token of the principal whose [Principal.Key] is subjectKey
// issued before notBefore, until until, the time by which every such token has expired
// (now plus the longest token lifetime). Use it when an account is disabled or its
// password changes. "iat" has whole seconds, so tokens issued in the same second as
// notBefore are revoked too.
func (s *MemoryRevocationStore) RevokeSubject(_ context.Context, subjectKey string, notBefore, until time.Time) error {
	if subjectKey == "" {
		return errors.New("auth: RevokeSubject: empty subject key")
	}
	return put(s, s.subjects, subjectKey, revocation{notBefore: notBefore, until: until}, time.Now())
}

// put adds r under key to m, one of s's maps.
func put[K comparable](s *MemoryRevocationStore, m map[K]revocation, key K, r revocation, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.Before(r.until) {
		return nil // already expired: nothing left to revoke
	}
	if old, ok := m[key]; ok && now.Before(old.until) {
		// Keep the later of both, so that a second revocation never weakens the first.
		if old.until.After(r.until) {
			r.until = old.until
		}
		if old.notBefore.After(r.notBefore) {
			r.notBefore = old.notBefore
		}
		m[key] = r
		return nil
	} else if ok {
		m[key] = r // replaces an expired entry, which was counted
		return nil
	}
	if s.n >= s.max {
		s.n -= sweep(s.tokens, now) + sweep(s.families, now) + sweep(s.subjects, now)
		if s.n >= s.max {
			return fmt.Errorf("%w: %d revocations", ErrStoreFull, s.max)
		}
	}
	m[key] = r
	s.n++
	return nil
}

// sweep deletes the expired entries of m and returns how many.
func sweep[K comparable](m map[K]revocation, now time.Time) int {
	n := 0
	for k, e := range m {
		if !now.Before(e.until) {
			delete(m, k)
			n++
		}
	}
	return n
}

// live looks key up in m, dropping it if expired.
func live[K comparable](s *MemoryRevocationStore, m map[K]revocation, key K, now time.Time) (revocation, bool) {
	e, ok := m[key]
	if ok && !now.Before(e.until) {
		delete(m, key)
		s.n--
		return e, false
	}
	return e, ok
}

// Revoked reports whether p's token was revoked: by its (Issuer, TokenID), its SessionID,
// or its subject's not-before time. It implements [RevocationStore].
func (s *MemoryRevocationStore) Revoked(_ context.Context, p Principal) (bool, error) {
	return s.revoked(p, time.Now()), nil
}

func (s *MemoryRevocationStore) revoked(p Principal, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.TokenID != "" && len(s.tokens) > 0 {
		if _, ok := live(s, s.tokens, [2]string{p.Issuer, p.TokenID}, now); ok {
			return true
		}
	}
	if p.SessionID != "" && len(s.families) > 0 {
		if _, ok := live(s, s.families, p.SessionID, now); ok {
			return true
		}
	}
	if len(s.subjects) > 0 {
		if e, ok := live(s, s.subjects, p.Key(), now); ok && IssuedBefore(p, e.notBefore) {
			return true
		}
	}
	return false
}

// IssuedBefore reports whether p's token counts as issued before a subject's not-before
// time: "iat" has whole seconds, so a token issued in the same second as notBefore counts
// as before it, and a token without "iat" (a zero IssuedAt) always does. Revocation
// stores use it for per-subject not-before times.
func IssuedBefore(p Principal, notBefore time.Time) bool {
	return p.IssuedAt.Before(notBefore.Truncate(time.Second).Add(time.Second))
}
