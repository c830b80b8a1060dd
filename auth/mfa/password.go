package mfa

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Errors of [Hasher].
var (
	// ErrPasswordMismatch is returned when a password does not match its hash.
	ErrPasswordMismatch = errors.New("mfa: password does not match")
	// ErrPasswordTooLong is returned, before any hashing, for a password longer than
	// HasherOptions.MaxLength bytes.
	ErrPasswordTooLong = errors.New("mfa: password too long")
	// ErrHashFormat is returned for a stored hash that is not a PHC argon2id string this
	// package accepts.
	ErrHashFormat = errors.New("mfa: malformed password hash")
)

// The argon2id parameters of the OWASP Password Storage Cheat Sheet's first row (m=19 MiB,
// t=2, p=1), the default of [HasherOptions] (ASVS5 11.4.2).
const (
	DefaultMemory      = 19456 // KiB
	DefaultIterations  = 2
	DefaultParallelism = 1
)

// DefaultMaxPasswordLength is the longest password a zero [HasherOptions] accepts, in bytes:
// far above the 64 characters ASVS5 6.2.9 asks for, far below a size that costs anything.
const DefaultMaxPasswordLength = 1024

// Fixed sizes of the hashes this package writes; parsing accepts a range.
const (
	saltSize = 16 // 128 bits, well above the 32 bits ASVS5 6.5.2 and NIST SP 800-63B-4 ask for
	keySize  = 32
)

// Bounds on parameters read from a stored hash, so that a tampered or corrupt row cannot
// make verification allocate gigabytes or loop for minutes.
const (
	maxMemory      = 1 << 21 // KiB: 2 GiB
	maxIterations  = 64
	maxParallelism = 64
)

// HasherOptions configures [NewHasher]. The zero value gives argon2id at the OWASP minimum
// (m=19456 KiB, t=2, p=1) and a 1024-byte password limit.
type HasherOptions struct {
	Memory      uint32 // KiB; if zero, DefaultMemory
	Iterations  uint32 // passes; if zero, DefaultIterations
	Parallelism uint8  // lanes; if zero, DefaultParallelism
	// MaxLength is the longest password accepted, in bytes, 64 to 65536. If zero,
	// DefaultMaxPasswordLength. Longer passwords are refused, never truncated (ASVS5 6.2.8).
	MaxLength int
	// UnsafeWeakParams allows parameters weaker than every row of the OWASP Password Storage
	// Cheat Sheet (m=46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5). Tests only.
	UnsafeWeakParams bool
}

// Hasher hashes passwords with argon2id into PHC strings and verifies them in constant time.
// It is safe for concurrent use; each call allocates Memory KiB for the hash.
type Hasher struct {
	params    PasswordHash // Salt and Key unused
	maxLength int
}

// NewHasher returns a Hasher for opts. It reports every bad field with [errors.Join].
func NewHasher(opts HasherOptions) (*Hasher, error) {
	h := &Hasher{
		params:    PasswordHash{Memory: opts.Memory, Iterations: opts.Iterations, Parallelism: opts.Parallelism},
		maxLength: opts.MaxLength,
	}
	if h.params.Memory == 0 {
		h.params.Memory = DefaultMemory
	}
	if h.params.Iterations == 0 {
		h.params.Iterations = DefaultIterations
	}
	if h.params.Parallelism == 0 {
		h.params.Parallelism = DefaultParallelism
	}
	if h.maxLength == 0 {
		h.maxLength = DefaultMaxPasswordLength
	}
	var errs []error
	if h.params.Memory > maxMemory {
		errs = append(errs, fmt.Errorf("mfa: HasherOptions.Memory is above %d KiB", maxMemory))
	}
	if h.params.Memory < 8*uint32(h.params.Parallelism) {
		errs = append(errs, errors.New("mfa: HasherOptions.Memory is below 8 KiB per lane of Parallelism"))
	}
	if h.params.Iterations > maxIterations {
		errs = append(errs, fmt.Errorf("mfa: HasherOptions.Iterations is above %d", maxIterations))
	}
	if h.params.Parallelism > maxParallelism {
		errs = append(errs, fmt.Errorf("mfa: HasherOptions.Parallelism is above %d", maxParallelism))
	}
	if !opts.UnsafeWeakParams && !owaspStrength(h.params.Memory, h.params.Iterations) {
		errs = append(errs, errors.New("mfa: HasherOptions.Memory and Iterations are below the OWASP minimum (m=19456 KiB with t=2, or an equivalent row)"))
	}
	if h.maxLength < 64 || h.maxLength > 1<<16 {
		errs = append(errs, errors.New("mfa: HasherOptions.MaxLength must be 64 to 65536"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// owaspStrength reports whether m KiB and t passes match a row of the OWASP Password Storage
// Cheat Sheet's argon2id table or exceed it in both.
func owaspStrength(m, t uint32) bool {
	rows := [...]struct{ m, t uint32 }{{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}}
	for _, r := range rows {
		if m >= r.m && t >= r.t {
			return true
		}
	}
	return false
}

// Hash returns the PHC string of password under a fresh 128-bit salt, such as
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". A password longer than MaxLength is
// refused with [ErrPasswordTooLong] before any work. The password is hashed exactly as
// given: no trimming, normalising or truncation.
func (h *Hasher) Hash(password string) (string, error) {
	if len(password) > h.maxLength {
		return "", ErrPasswordTooLong
	}
	p := h.params
	p.Salt = make([]byte, saltSize)
	if _, err := rand.Read(p.Salt); err != nil {
		return "", fmt.Errorf("mfa: salt: %w", err)
	}
	p.Key = argon2.IDKey([]byte(password), p.Salt, p.Iterations, p.Memory, p.Parallelism, keySize)
	return p.String(), nil
}

// Verify reports whether password matches encoded, a string from [Hasher.Hash] (under any
// parameters within bounds, so that old hashes verify after a change of parameters). It
// returns nil on a match, [ErrPasswordMismatch], [ErrPasswordTooLong] (before any work) or
// [ErrHashFormat]. The comparison is constant-time (ASVS5 11.2.4).
func (h *Hasher) Verify(password, encoded string) error {
	if len(password) > h.maxLength {
		return ErrPasswordTooLong
	}
	p, err := ParsePasswordHash(encoded)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), p.Salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(p.Key)))
	if subtle.ConstantTimeCompare(got, p.Key) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

// VerifyUnknownUser spends the time of a [Hasher.Verify] and returns [ErrPasswordMismatch].
// Call it when a login names no known user, so that the response time does not tell that
// the user does not exist (ASVS5 6.3.8).
func (h *Hasher) VerifyUnknownUser(password string) error {
	if len(password) > h.maxLength {
		return ErrPasswordTooLong
	}
	if _, err := h.Hash(password); err != nil {
		return err
	}
	return ErrPasswordMismatch
}

// NeedsRehash reports whether encoded should be replaced by a fresh [Hasher.Hash] of the
// password, at the next successful login: it is malformed, or its parameters or sizes differ
// from the Hasher's.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, err := ParsePasswordHash(encoded)
	if err != nil {
		return true
	}
	return p.Memory != h.params.Memory || p.Iterations != h.params.Iterations ||
		p.Parallelism != h.params.Parallelism || len(p.Salt) != saltSize || len(p.Key) != keySize
}

// PasswordHash is a parsed argon2id PHC string.
type PasswordHash struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	Salt        []byte
	Key         []byte // the hash
}

// String returns the PHC string of p: "$argon2id$v=19$m=M,t=T,p=P$" then salt and key in
// unpadded standard base64.
func (p PasswordHash) String() string {
	return "$argon2id$v=19$" + p.paramString() + "$" +
		base64.RawStdEncoding.EncodeToString(p.Salt) + "$" + base64.RawStdEncoding.EncodeToString(p.Key)
}

func (p PasswordHash) paramString() string {
	return "m=" + strconv.FormatUint(uint64(p.Memory), 10) + ",t=" + strconv.FormatUint(uint64(p.Iterations), 10) +
		",p=" + strconv.FormatUint(uint64(p.Parallelism), 10)
}

// ParsePasswordHash parses an argon2id PHC string strictly: exactly
// "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" with canonical decimals, parameters in that order
// and within bounds (m from 8·p KiB to 2 GiB, t 1 to 64, p 1 to 64), and canonical unpadded
// base64 for a salt of 8 to 64 bytes and a hash of 16 to 64 bytes. Anything else is
// [ErrHashFormat].
func ParsePasswordHash(s string) (PasswordHash, error) {
	var p PasswordHash
	if len(s) > 512 {
		return p, ErrHashFormat
	}
	rest, ok := strings.CutPrefix(s, "$argon2id$v=19$")
	if !ok {
		return p, ErrHashFormat
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return p, ErrHashFormat
	}
	if p, ok = parseParams(fields[0]); !ok {
		return PasswordHash{}, ErrHashFormat
	}
	var err1, err2 error
	p.Salt, err1 = decodeB64(fields[1], 8, 64)
	p.Key, err2 = decodeB64(fields[2], 16, 64)
	if err1 != nil || err2 != nil {
		return PasswordHash{}, ErrHashFormat
	}
	return p, nil
}

// parseParams parses "m=M,t=T,p=P" within bounds.
func parseParams(s string) (PasswordHash, bool) {
	var p PasswordHash
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return p, false
	}
	var v [3]int64
	for i, name := range [...]string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(parts[i], name)
		if !ok {
			return p, false
		}
		if v[i], ok = parseDecimal(num, maxMemory); !ok {
			return p, false
		}
	}
	if v[1] < 1 || v[1] > maxIterations || v[2] < 1 || v[2] > maxParallelism || v[0] < 8*v[2] {
		return p, false
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(v[0]), uint32(v[1]), uint8(v[2])
	return p, true
}

func decodeB64(s string, minLen, maxLen int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	// The decoder skips CR and LF; only the canonical encoding is accepted.
	if len(b) < minLen || len(b) > maxLen || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, ErrHashFormat
	}
	return b, nil
}
