package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// API keys have the form prefix_IIIIIIIIIIIISSSS…: the prefix, an underscore, a 12-character
// id (9 random bytes) by which the key is looked up, and a 43-character secret (32 random
// bytes, 256 bits, from crypto/rand). Only the SHA-256 of the whole key is stored: the key
// is high-entropy, so a fast hash cannot be brute-forced, and a stolen store yields no key.
const (
	apiKeyIDLen     = 12 // base64url of 9 bytes
	apiKeySecretLen = 43 // base64url of 32 bytes
)

// APIKey is the stored record of an API key: never the key itself.
type APIKey struct {
	ID      string            // the key's public id, safe to log and show
	Hash    [sha256.Size]byte // SHA-256 of the full key
	Subject string            // the client the key belongs to; Principal.Subject
	Scopes  []string
	Roles   []string
	Expires time.Time // if zero, the key does not expire (rotate keys anyway)
	Revoked bool
	// LastUsed is when the key last authenticated a request, as recorded by the store.
	LastUsed time.Time
}

// APIKeyStore holds API key records. Implementations must be safe for concurrent use.
type APIKeyStore interface {
	// APIKey returns the record with this id, or an error wrapping [ErrUnknownKey] if there
	// is none. Any other error refuses the request with 503.
	APIKey(ctx context.Context, id string) (APIKey, error)
	// APIKeyUsed records that the key authenticated a request at t. An error is logged and
	// does not refuse the request.
	APIKeyUsed(ctx context.Context, id string, t time.Time) error
}

// GenerateAPIKey returns a new API key, to show its owner once, and its record, to store
// after filling in Subject, Scopes, Roles and Expires. prefix names the key's kind (such as
// "bwk"): 2 to 16 lower-case letters or digits; it helps secret scanners find leaked keys.
func GenerateAPIKey(prefix string) (string, APIKey, error) {
	if !validPrefix(prefix) {
		return "", APIKey{}, errors.New("auth: API key prefix must be 2 to 16 lower-case letters or digits")
	}
	var b [9 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", APIKey{}, fmt.Errorf("auth: API key: %w", err)
	}
	key := prefix + "_" + base64.RawURLEncoding.EncodeToString(b[:9]) + base64.RawURLEncoding.EncodeToString(b[9:])
	rec := APIKey{ID: key[len(prefix)+1 : len(prefix)+1+apiKeyIDLen], Hash: sha256.Sum256([]byte(key))}
	return key, rec, nil
}

func validPrefix(p string) bool {
	if len(p) < 2 || len(p) > 16 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// verifyAPIKey checks an API key (tok starts with a.keyPrefix) against its stored hash.
func (a *authenticator) verifyAPIKey(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	rest := tok[len(a.keyPrefix):]
	if len(rest) != apiKeyIDLen+apiKeySecretLen || !isBase64URL(rest) {
		return nil, ErrMalformed
	}
	id := rest[:apiKeyIDLen]
	rec, err := a.apiKeys.APIKey(ctx, id)
	sum := sha256.Sum256([]byte(tok)) // computed either way: no timing hint of a known id
	switch {
	case errors.Is(err, ErrUnknownKey):
		return nil, ErrUnknownKey
	case err != nil:
		return nil, fmt.Errorf("%w: API key store: %w", ErrUnavailable, err)
	case subtle.ConstantTimeCompare(sum[:], rec.Hash[:]) != 1:
		return nil, ErrSignature
	case rec.Revoked || (!rec.Expires.IsZero() && !now.Before(rec.Expires)):
		return nil, ErrAPIKeyExpiry
	}
	if err := a.apiKeys.APIKeyUsed(ctx, id, now); err != nil {
		a.logger.WarnContext(ctx, "auth: recording API key use failed", "key_id", id, "error", err.Error())
	}
	return &Principal{
		Method:  MethodAPIKey,
		Subject: rec.Subject,
		Client:  true,
		Scopes:  rec.Scopes,
		Roles:   rec.Roles,
		Expiry:  rec.Expires,
		TokenID: rec.ID,
	}, nil
}

// MemoryAPIKeyStore is an in-memory [APIKeyStore], for tests and single-process services.
// The zero value is not usable; call [NewMemoryAPIKeyStore]. It is safe for concurrent use.
type MemoryAPIKeyStore struct {
	mu   sync.Mutex
	keys map[string]APIKey
}

// NewMemoryAPIKeyStore returns an empty store.
func NewMemoryAPIKeyStore() *MemoryAPIKeyStore {
	return &MemoryAPIKeyStore{keys: make(map[string]APIKey)}
}

// Add stores k. It fails if a key with k.ID is already stored.
func (s *MemoryAPIKeyStore) Add(k APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok || k.ID == "" {
		return errors.New("auth: API key id empty or already stored")
	}
	k.Scopes, k.Roles = slices.Clone(k.Scopes), slices.Clone(k.Roles)
	s.keys[k.ID] = k
	return nil
}

// Revoke marks the key with id as revoked, and reports whether there was one.
func (s *MemoryAPIKeyStore) Revoke(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if ok {
		k.Revoked = true
		s.keys[id] = k
	}
	return ok
}

// APIKey implements [APIKeyStore].
func (s *MemoryAPIKeyStore) APIKey(_ context.Context, id string) (APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return APIKey{}, ErrUnknownKey
	}
	return k, nil
}

// APIKeyUsed implements [APIKeyStore].
func (s *MemoryAPIKeyStore) APIKeyUsed(_ context.Context, id string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		k.LastUsed = t
		s.keys[id] = k
	}
	return nil
}
