package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/bulwark-go/bulwark/internal/forwarded"
)

// PatternKey returns the [http.ServeMux] pattern that matched r, such as "POST /login", so
// that one limit covers a route whatever its path parameters; the number of keys stays the
// number of routes. The pattern is set only inside the mux: wrap each route's handler, not
// the mux. It returns "" (the fallback key) for a request the mux did not route.
func PatternKey(r *http.Request) string { return r.Pattern }

// HeaderKey returns a key function that reads the request header name, such as an API key
// header. Use it only behind middleware that has checked the header's value: before that,
// every invented value is a fresh key. Values are hashed before they are logged or sent to
// Redis, never stored as they are.
func HeaderKey(name string) func(*http.Request) string {
	name = http.CanonicalHeaderKey(name)
	return func(r *http.Request) string {
		if v := r.Header[name]; len(v) == 1 {
			return v[0]
		}
		return "" // absent or repeated: the fallback key
	}
}

// addrKey writes the key of a client address into buf: a family byte then the address,
// IPv6 truncated to its first v6bits bits (a /64 by default: one host usually owns a whole /64
// and could rotate through it otherwise). It returns nil for an invalid address.
func addrKey(buf *[17]byte, a netip.Addr, v6bits int) []byte {
	switch {
	case a.Is4():
		b := a.As4()
		buf[0] = 4
		copy(buf[1:], b[:])
		return buf[:5]
	case a.Is6():
		b := a.As16()
		for i := range b {
			switch bit := i * 8; {
			case bit >= v6bits:
				b[i] = 0
			case bit+8 > v6bits:
				b[i] &= byte(0xff << (8 - (v6bits - bit)))
			}
		}
		buf[0] = 6
		copy(buf[1:], b[:])
		return buf[:17]
	}
	return nil
}

// digest is how keys appear in logs: the first 64 bits of SHA-256, in hex. It lets an operator
// correlate refusals of one key without writing an API key or token into the logs.
func digest(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// clientAddr is the one call into internal/forwarded, the resolver every bulwark package
// shares, so that logs, HTTPS enforcement and rate limits agree on who the client is.
func clientAddr(res *forwarded.Resolver, r *http.Request) netip.Addr {
	return res.ClientAddr(r)
}

// keyer turns a request into its key; [New] and [Guard] share it.
type keyer struct {
	key      func(*http.Request) string
	resolver *forwarded.Resolver
	v6bits   int
	fallback string
}

func newKeyer(key func(*http.Request) string, fallback string, trusted []netip.Prefix, useForwarded bool, v6bits int) (keyer, error) {
	var errs []error
	k := keyer{key: key, fallback: fallback, v6bits: v6bits}
	if k.v6bits == 0 {
		k.v6bits = 64
	}
	if k.v6bits < 1 || k.v6bits > 128 {
		errs = append(errs, fmt.Errorf("ratelimit: IPv6PrefixLen %d out of range 1..128", v6bits))
	}
	if k.fallback == "" {
		k.fallback = "unknown"
	}
	source := forwarded.XForwarded
	if useForwarded {
		source = forwarded.Forwarded
	}
	res, err := forwarded.New(trusted, source)
	if err != nil {
		errs = append(errs, fmt.Errorf("ratelimit: TrustedProxies: %w", err))
	}
	k.resolver = res
	return k, errors.Join(errs...)
}

// keyString returns the request's key as a string (allocating for a client address).
func (k *keyer) keyString(r *http.Request) string {
	var s string
	if k.key == nil {
		var buf [17]byte
		if b := addrKey(&buf, clientAddr(k.resolver, r), k.v6bits); b != nil {
			s = string(b)
		}
	} else {
		s = k.key(r)
	}
	if s == "" {
		s = k.fallback
	}
	return s
}
