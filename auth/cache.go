package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache remembers verified JWTs by the SHA-256 of the token, so that a client repeating
// its token skips the signature check. It is bounded (attackers cannot add entries: only
// tokens that verified are stored), and an entry never outlives the token's "exp" nor maxAge.
// Revocation and Options.Check are not cached: they run on every request.
type tokenCache struct {
	mu     sync.Mutex
	m      map[[sha256.Size]byte]cacheEntry
	size   int
	maxAge time.Duration
}

type cacheEntry struct {
	p     *Principal
	until time.Time
}

func newTokenCache(size int, maxAge time.Duration) *tokenCache {
	return &tokenCache{m: make(map[[sha256.Size]byte]cacheEntry, min(size, 1024)), size: size, maxAge: maxAge}
}

func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (*Principal, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	if ok && !now.Before(e.until) {
		delete(c.m, key)
		ok = false
	}
	c.mu.Unlock()
	return e.p, ok
}

func (c *tokenCache) put(key [sha256.Size]byte, p *Principal, now time.Time) {
	until := now.Add(c.maxAge)
	if p.Expiry.Before(until) {
		until = p.Expiry
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.size {
		// Evict an expired entry if one comes up first, else whichever entry map
		// iteration yields: bounded work, no goroutine.
		victim, found := [sha256.Size]byte{}, false
		n := 0
		for k, e := range c.m {
			if !found || !now.Before(e.until) {
				victim, found = k, true
			}
			if n++; !now.Before(e.until) || n >= 8 {
				break
			}
		}
		delete(c.m, victim)
	}
	c.m[key] = cacheEntry{p: p, until: until}
}
