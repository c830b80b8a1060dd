package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Refresh tokens are "<family>.<secret>": a 128-bit random family id (22 base64url
// characters), by which the store finds the token's family without a second index, and a
// 256-bit random secret (43 characters) from crypto/rand. Stores keep only the SHA-256 of
// the whole token: the secret is high-entropy, so a fast hash cannot be brute-forced, and
// a stolen store yields no usable token (ASVS5 7.2.3, 11.5.1).
const (
	familyIDBytes      = 16
	familyIDLen        = 22
	refreshSecretBytes = 32
	refreshSecretLen   = 43
	refreshTokenLen    = familyIDLen + 1 + refreshSecretLen
)

// RefreshHistory is how many rotated-out tokens of a family a store remembers. Presenting
// one of them is reuse: the family is revoked (RFC 9700 §4.14.2). An older token is only
// refused, since the store no longer knows it belonged to the family.
const RefreshHistory = 256

// Errors of [Refresher.Refresh]. Clients should see one answer for all of them (an OAuth
// "invalid_grant"), so that they learn nothing about the family.
var (
	// ErrRefreshInvalid: the refresh token is malformed, unknown, expired (idle or
	// absolute lifetime), or its family was revoked.
	ErrRefreshInvalid = errors.New("auth: invalid refresh token")
	// ErrRefreshReused: the token was already rotated, so two parties hold the family's
	// tokens and one of them stole it. The whole family has been revoked. Returned wrapped
	// with ErrRefreshInvalid.
	ErrRefreshReused = errors.New("auth: refresh token reused")
)

// RefreshFamily is one login's chain of refresh tokens: who it is for, and when it ends.
type RefreshFamily struct {
	ID      string       // the family id, also the access tokens' "sid"
	Claims  AccessClaims // the claims of the access tokens it yields
	Created time.Time    // when the user logged in
	Expires time.Time    // the absolute end of the family, however it is used
}

// RefreshStore keeps refresh-token families. Both methods must be atomic per family: two
// requests racing with one token must not both rotate it. [MemoryRefreshStore] is one
// process's store; auth/redisstore shares one across a fleet.
type RefreshStore interface {
	// Create stores a new family whose current token has the SHA-256 hash, usable until
	// idle (never past f.Expires).
	Create(ctx context.Context, f RefreshFamily, hash [32]byte, idle time.Time) error
	// Rotate replaces the current token of family, whose hash is old, with the token whose
	// hash is next, usable until idle, and returns the family. It returns an error wrapping
	// ErrRefreshReused (and revokes the family) if old is one of the family's rotated-out
	// tokens, and ErrRefreshInvalid if the family is unknown, revoked or past its idle or
	// absolute end at now, or old is not one of its tokens.
	Rotate(ctx context.Context, family string, old, next [32]byte, now, idle time.Time) (RefreshFamily, error)
	// Revoke ends the family: none of its tokens will rotate again.
	Revoke(ctx context.Context, family string) error
}

// FamilyRevoker records that the access tokens of a family (their "sid") are revoked.
// [MemoryRevocationStore] and the Redis store implement it.
type FamilyRevoker interface {
	RevokeFamily(ctx context.Context, family string, until time.Time) error
}

// RefreshOptions configures [NewRefresher]. Signer and Store are required.
type RefreshOptions struct {
	// Signer issues the access tokens. Required.
	Signer *Signer
	// Store keeps the families. Required.
	Store RefreshStore
	// Revocation, if set, is told about every revoked family, so that the validator (with
	// the same store as Options.Revocation) refuses the family's access tokens at once
	// instead of when they expire. Strongly recommended.
	Revocation FamilyRevoker
	// AbsoluteLifetime ends a family however actively it is used (ASVS5 7.3.2): the user
	// logs in again. If zero, 7 days. Between 1 hour and 90 days.
	AbsoluteLifetime time.Duration
	// IdleTimeout ends a family that is not refreshed for this long (ASVS5 7.3.1). If zero,
	// 24 hours. Between 1 minute and AbsoluteLifetime.
	IdleTimeout time.Duration
	// Logger receives authn_token_created (Info), authn_token_revoked (Info) and
	// authn_token_reuse (Error), with subject, client id and a short hash of the family id,
	// never a token. If nil, slog.Default().
	Logger *slog.Logger
}

// Refresher issues access and refresh tokens at login and rotates the refresh token on
// every use (RFC 9700 §4.14.2). It is read-only after construction and safe for
// concurrent use.
type Refresher struct {
	signer   *Signer
	store    RefreshStore
	revoker  FamilyRevoker
	absolute time.Duration
	idle     time.Duration
	logger   *slog.Logger
}

// Tokens is what a login or a refresh hands to the client.
type Tokens struct {
	Access AccessToken
	// Refresh is the refresh token: a secret, shown to the client once and never logged.
	Refresh string
	// RefreshExpiry is when Refresh stops working if it is not used: the idle timeout,
	// never past the family's absolute end.
	RefreshExpiry time.Time
}

// NewRefresher returns a Refresher for opts. It reports invalid options as an error naming
// each bad field and never panics.
func NewRefresher(opts RefreshOptions) (*Refresher, error) {
	var errs []error
	r := &Refresher{signer: opts.Signer, store: opts.Store, revoker: opts.Revocation,
		absolute: opts.AbsoluteLifetime, idle: opts.IdleTimeout, logger: opts.Logger}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if opts.Signer == nil {
		errs = append(errs, errors.New("auth: RefreshOptions.Signer is required"))
	}
	if opts.Store == nil {
		errs = append(errs, errors.New("auth: RefreshOptions.Store is required"))
	}
	switch {
	case r.absolute == 0:
		r.absolute = 7 * 24 * time.Hour
	case r.absolute < time.Hour || r.absolute > 90*24*time.Hour:
		errs = append(errs, fmt.Errorf("auth: RefreshOptions.AbsoluteLifetime %v must be between 1h and 90 days", r.absolute))
	}
	switch {
	case r.idle == 0:
		r.idle = min(24*time.Hour, r.absolute)
	case r.idle < time.Minute || r.idle > r.absolute:
		errs = append(errs, fmt.Errorf("auth: RefreshOptions.IdleTimeout %v must be between 1m and AbsoluteLifetime", r.idle))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Login starts a new family for a user who has just authenticated and returns its first
// tokens. Call it on every (re-)authentication: each login gets new tokens (ASVS5 7.2.4).
// c.SessionID is set to the new family's id.
func (r *Refresher) Login(ctx context.Context, c AccessClaims, now time.Time) (Tokens, error) {
	if err := checkAccessClaims(c); err != nil {
		return Tokens{}, err
	}
	family, err := randomString(familyIDBytes)
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: %w", ErrSigner, err)
	}
	c.SessionID = family
	tok, hash, err := newRefreshToken(family)
	if err != nil {
		return Tokens{}, err
	}
	f := RefreshFamily{ID: family, Claims: c, Created: now, Expires: now.Add(r.absolute)}
	idle := r.idleEnd(f, now)
	if err := r.store.Create(ctx, f, hash, idle); err != nil {
		return Tokens{}, fmt.Errorf("auth: refresh store: %w", err)
	}
	at, err := r.signer.Issue(ctx, c, now)
	if err != nil {
		return Tokens{}, err
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "authn_token_created",
		slog.String("token_type", "refresh"), slog.String("subject", c.Subject),
		slog.String("client_id", c.ClientID), slog.String("family", familyHash(family)))
	return Tokens{Access: at, Refresh: tok, RefreshExpiry: idle}, nil
}

// Refresh rotates refreshToken: it returns a new access token and a new refresh token,
// and the presented one stops working. It returns an error wrapping [ErrRefreshInvalid]
// for any token that does not refresh; if the token had already been rotated, the error
// also wraps [ErrRefreshReused] and the whole family has been revoked, with its access
// tokens if Options.Revocation is set. Any other error means the store or the signer
// failed: answer 503, not invalid_grant. The access tokens keep the family's claims,
// including AuthTime: refreshing is not authenticating.
func (r *Refresher) Refresh(ctx context.Context, refreshToken string, now time.Time) (Tokens, error) {
	family, ok := parseRefreshToken(refreshToken)
	if !ok {
		return Tokens{}, ErrRefreshInvalid
	}
	old := sha256.Sum256([]byte(refreshToken))
	next, hash, err := newRefreshToken(family)
	if err != nil {
		return Tokens{}, err
	}
	// The store bounds idle by the family's absolute end.
	f, err := r.store.Rotate(ctx, family, old, hash, now, now.Add(r.idle))
	if errors.Is(err, ErrRefreshReused) {
		r.logger.LogAttrs(ctx, slog.LevelError, "authn_token_reuse",
			slog.String("token_type", "refresh"), slog.String("subject", f.Claims.Subject),
			slog.String("client_id", f.Claims.ClientID), slog.String("family", familyHash(family)))
		if rerr := r.revokeAccess(ctx, family, now); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return Tokens{}, fmt.Errorf("%w: %w", ErrRefreshInvalid, err)
	}
	if err != nil {
		if errors.Is(err, ErrRefreshInvalid) {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("auth: refresh store: %w", err)
	}
	c := f.Claims
	c.SessionID = f.ID
	at, err := r.signer.Issue(ctx, c, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Access: at, Refresh: next, RefreshExpiry: r.idleEnd(f, now)}, nil
}

// RevokeSession ends the family whose id is family (a principal's SessionID), for a
// logout: its refresh tokens stop working, and with Options.Revocation so do its access
// tokens.
func (r *Refresher) RevokeSession(ctx context.Context, family string, now time.Time) error {
	if family == "" {
		return fmt.Errorf("%w: no session", ErrRefreshInvalid)
	}
	if err := r.store.Revoke(ctx, family); err != nil {
		return fmt.Errorf("auth: refresh store: %w", err)
	}
	if err := r.revokeAccess(ctx, family, now); err != nil {
		return err
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "authn_token_revoked",
		slog.String("token_type", "refresh"), slog.String("family", familyHash(family)))
	return nil
}

// revokeAccess revokes the family's access tokens until the last one can have expired.
func (r *Refresher) revokeAccess(ctx context.Context, family string, now time.Time) error {
	if r.revoker == nil {
		return nil
	}
	if err := r.revoker.RevokeFamily(ctx, family, now.Add(r.absolute+r.signer.ttl+retireLeeway)); err != nil {
		return fmt.Errorf("auth: revocation store: %w", err)
	}
	return nil
}

func (r *Refresher) idleEnd(f RefreshFamily, now time.Time) time.Time {
	idle := now.Add(r.idle)
	if idle.After(f.Expires) {
		return f.Expires
	}
	return idle
}

func newRefreshToken(family string) (string, [32]byte, error) {
	secret, err := randomString(refreshSecretBytes)
	if err != nil {
		return "", [32]byte{}, fmt.Errorf("%w: %w", ErrSigner, err)
	}
	tok := family + "." + secret
	return tok, sha256.Sum256([]byte(tok)), nil
}

// parseRefreshToken checks the shape of a refresh token and returns its family id.
func parseRefreshToken(tok string) (string, bool) {
	if len(tok) != refreshTokenLen || tok[familyIDLen] != '.' {
		return "", false
	}
	if !isBase64URL(tok[:familyIDLen]) || !isBase64URL(tok[familyIDLen+1:]) {
		return "", false
	}
	return tok[:familyIDLen], true
}

// familyHash identifies a family in logs without giving out its id, which is the "sid"
// of its access tokens and half of its refresh tokens.
func familyHash(family string) string {
	h := sha256.Sum256([]byte(family))
	return b64.EncodeToString(h[:8])
}

// MemoryRefreshStore is an in-memory [RefreshStore] for one process. Families are dropped
// lazily once past their idle or absolute end, and revoked families are kept until their
// absolute end so that their tokens are still recognized. There are no goroutines. It is
// safe for concurrent use.
type MemoryRefreshStore struct {
	max int

	mu       sync.Mutex
	families map[string]*memFamily
}

type memFamily struct {
	f       RefreshFamily
	current [32]byte
	idle    time.Time
	revoked bool
	history [][16]byte // rotated-out hashes, truncated, oldest first; at most RefreshHistory
}

// MemoryRefreshOptions configures [NewMemoryRefreshStore].
type MemoryRefreshOptions struct {
	// MaxFamilies bounds the families kept. If zero, 100 000. When full, Create fails with
	// [ErrStoreFull] after dropping ended families.
	MaxFamilies int
}

// NewMemoryRefreshStore returns an empty store. It reports invalid options as an error.
func NewMemoryRefreshStore(opts MemoryRefreshOptions) (*MemoryRefreshStore, error) {
	switch {
	case opts.MaxFamilies == 0:
		opts.MaxFamilies = 100_000
	case opts.MaxFamilies < 0:
		return nil, errors.New("auth: MemoryRefreshOptions.MaxFamilies must not be negative")
	}
	return &MemoryRefreshStore{max: opts.MaxFamilies, families: make(map[string]*memFamily)}, nil
}

// Create implements [RefreshStore].
func (s *MemoryRefreshStore) Create(_ context.Context, f RefreshFamily, hash [32]byte, idle time.Time) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.families[f.ID]; dup {
		return errors.New("auth: refresh family exists")
	}
	if len(s.families) >= s.max {
		for id, m := range s.families {
			if m.ended(now) {
				delete(s.families, id)
			}
		}
		if len(s.families) >= s.max {
			return fmt.Errorf("%w: %d refresh families", ErrStoreFull, s.max)
		}
	}
	f.Claims = cloneClaims(f.Claims)
	s.families[f.ID] = &memFamily{f: f, current: hash, idle: idle}
	return nil
}

// ended reports whether the family can be forgotten: past its absolute end, or past its
// idle end and not revoked (a revoked family is remembered until its absolute end, so
// that reuse keeps being refused).
func (m *memFamily) ended(now time.Time) bool {
	return !now.Before(m.f.Expires) || (!m.revoked && !now.Before(m.idle))
}

// Rotate implements [RefreshStore].
func (s *MemoryRefreshStore) Rotate(_ context.Context, family string, old, next [32]byte, now, idle time.Time) (RefreshFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.families[family]
	if !ok {
		return RefreshFamily{}, ErrRefreshInvalid
	}
	if m.ended(now) {
		delete(s.families, family)
		return RefreshFamily{}, ErrRefreshInvalid
	}
	if subtle.ConstantTimeCompare(m.current[:], old[:]) != 1 {
		var short [16]byte
		copy(short[:], old[:16])
		for _, h := range m.history {
			if h == short {
				m.revoked = true
				return cloneFamily(m.f), ErrRefreshReused
			}
		}
		return RefreshFamily{}, ErrRefreshInvalid
	}
	if m.revoked || !now.Before(m.idle) {
		return RefreshFamily{}, ErrRefreshInvalid
	}
	var short [16]byte
	copy(short[:], old[:16])
	if len(m.history) >= RefreshHistory {
		m.history = append(m.history[:0], m.history[1:]...)
	}
	m.history = append(m.history, short)
	m.current = next
	m.idle = idle
	if m.idle.After(m.f.Expires) {
		m.idle = m.f.Expires
	}
	return cloneFamily(m.f), nil
}

// Revoke implements [RefreshStore]. Revoking an unknown family is not an error.
func (s *MemoryRefreshStore) Revoke(_ context.Context, family string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.families[family]; ok {
		m.revoked = true
	}
	return nil
}

func cloneFamily(f RefreshFamily) RefreshFamily {
	f.Claims = cloneClaims(f.Claims)
	return f
}

func cloneClaims(c AccessClaims) AccessClaims {
	c.Audience = slices.Clone(c.Audience)
	c.Scopes = slices.Clone(c.Scopes)
	c.Roles = slices.Clone(c.Roles)
	c.AMR = slices.Clone(c.AMR)
	return c
}
