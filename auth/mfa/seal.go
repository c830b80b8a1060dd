package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrSealed is returned when sealed data cannot be opened: it was sealed under another key or
// for another user, it was changed or truncated, or its key id is unknown. The cause is
// deliberately not told apart.
var ErrSealed = errors.New("mfa: sealed data cannot be opened")

// SealKeySize is the length of a [SealKey] in bytes: AES-256.
const SealKeySize = 32

// maxSealed bounds the sealed strings Open looks at, so that a huge value costs nothing.
const maxSealed = 64 << 10

// SealKey is one AES-256-GCM key of a [Sealer]. Load it from the environment, a file or a
// secret manager, never from a literal in code.
type SealKey struct {
	// ID names the key inside every sealed string, so that keys can rotate: 1 to 32
	// characters of A-Z, a-z, 0-9, '-' and '_'. It is not secret.
	ID string
	// Key is exactly SealKeySize bytes from a CSPRNG (for example `openssl rand -base64 32`).
	Key []byte
}

// SealerOptions configures [NewSealer]. There is no safe default: Keys is required.
type SealerOptions struct {
	// Keys are the keys the Sealer knows. The first one seals; every one opens, so that data
	// sealed under an older key still opens after a rotation (see [Sealer.NeedsReseal]).
	// Required; ids must be unique.
	Keys []SealKey
}

// Sealer encrypts small secrets at rest with AES-256-GCM under a caller's key, with a random
// 96-bit nonce per seal, and binds each sealed value to a user id as additional data, so that
// a value copied to another user's row does not open. A Sealer is safe for concurrent use.
//
// Sealed strings look like "<key id>.<base64url(nonce || ciphertext || tag)>". Random nonces
// are safe for up to 2^32 seals per key (NIST SP 800-38D §8.3); rotate keys long before that.
type Sealer struct {
	current string
	aeads   map[string]cipher.AEAD
}

// kind tags what a sealed plaintext holds. It is the first plaintext byte, so GCM
// authenticates it: a pending TOTP secret cannot be passed off as a confirmed one.
type kind byte

const (
	kindData        kind = 1 // Seal and Open
	kindTOTPPending kind = 2 // Enroll, until Confirm
	kindTOTP        kind = 3 // Confirm, then Verify
)

// NewSealer returns a Sealer for opts. It reports every bad key (wrong length, bad or
// duplicate id) with [errors.Join] and never panics. It copies the keys.
func NewSealer(opts SealerOptions) (*Sealer, error) {
	var errs []error
	if len(opts.Keys) == 0 {
		errs = append(errs, errors.New("mfa: SealerOptions.Keys is required"))
	}
	s := &Sealer{aeads: make(map[string]cipher.AEAD, len(opts.Keys))}
	for i, k := range opts.Keys {
		if !validKeyID(k.ID) {
			errs = append(errs, fmt.Errorf("mfa: SealerOptions.Keys[%d].ID must be 1 to 32 characters of A-Z, a-z, 0-9, - and _", i))
			continue
		}
		if _, dup := s.aeads[k.ID]; dup {
			errs = append(errs, fmt.Errorf("mfa: SealerOptions.Keys[%d].ID %q is a duplicate", i, k.ID))
			continue
		}
		if len(k.Key) != SealKeySize {
			// Never print the key, not even its prefix.
			errs = append(errs, fmt.Errorf("mfa: SealerOptions.Keys[%d].Key is %d bytes, want %d (AES-256)", i, len(k.Key), SealKeySize))
			continue
		}
		block, err := aes.NewCipher(append([]byte(nil), k.Key...))
		if err != nil {
			errs = append(errs, fmt.Errorf("mfa: SealerOptions.Keys[%d].Key: %w", i, err))
			continue
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			errs = append(errs, fmt.Errorf("mfa: SealerOptions.Keys[%d].Key: %w", i, err))
			continue
		}
		s.aeads[k.ID] = aead
		if i == 0 {
			s.current = k.ID
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Seal encrypts plaintext for user under the current key. Only [Sealer.Open] with the same
// user opens the result.
func (s *Sealer) Seal(user string, plaintext []byte) (string, error) {
	return s.seal(kindData, user, plaintext)
}

// Open decrypts a string made by [Sealer.Seal] for the same user, under any known key. Every
// failure is [ErrSealed].
func (s *Sealer) Open(user, sealed string) ([]byte, error) {
	return s.open(kindData, user, sealed)
}

// NeedsReseal reports whether sealed was made under a key other than the current one (or is
// not a sealed string at all). Reseal such values with [Sealer.Reseal] to finish a rotation.
func (s *Sealer) NeedsReseal(sealed string) bool {
	id, _, ok := strings.Cut(sealed, ".")
	return !ok || id != s.current
}

// Reseal opens sealed for user under any known key and seals the same content under the
// current key. It works for every sealed value of this package (from [Sealer.Seal],
// [Verifier.Enroll] and [Verifier.Confirm]) and keeps its kind.
func (s *Sealer) Reseal(user, sealed string) (string, error) {
	pt, err := s.openAny(user, sealed)
	if err != nil {
		return "", err
	}
	defer clear(pt)
	return s.seal(kind(pt[0]), user, pt[1:])
}

func (s *Sealer) seal(k kind, user string, plaintext []byte) (string, error) {
	aead := s.aeads[s.current]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+1+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("mfa: nonce: %w", err)
	}
	pt := make([]byte, 0, 1+len(plaintext))
	pt = append(append(pt, byte(k)), plaintext...)
	out := aead.Seal(buf, buf, pt, additionalData(s.current, user))
	clear(pt)
	return s.current + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

func (s *Sealer) open(k kind, user, sealed string) ([]byte, error) {
	pt, err := s.openAny(user, sealed)
	if err != nil {
		return nil, err
	}
	if kind(pt[0]) != k {
		clear(pt)
		return nil, ErrSealed
	}
	return pt[1:], nil
}

// openAny opens sealed and returns the plaintext with its kind byte first.
func (s *Sealer) openAny(user, sealed string) ([]byte, error) {
	if len(sealed) > maxSealed {
		return nil, ErrSealed
	}
	id, body, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, ErrSealed
	}
	aead, ok := s.aeads[id]
	if !ok {
		return nil, ErrSealed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+1+aead.Overhead() {
		return nil, ErrSealed
	}
	nonce, ct := raw[:aead.NonceSize()], raw[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, additionalData(id, user))
	if err != nil || len(pt) == 0 {
		return nil, ErrSealed
	}
	return pt, nil
}

// additionalData binds a sealed value to its key id and user. The user comes last, so no
// user id (even one containing NUL) can make two different pairs give the same bytes.
func additionalData(keyID, user string) []byte {
	const label = "bulwark/auth/mfa sealed v1\x00"
	ad := make([]byte, 0, len(label)+len(keyID)+1+len(user))
	ad = append(ad, label...)
	ad = append(ad, keyID...)
	ad = append(ad, 0)
	return append(ad, user...)
}
