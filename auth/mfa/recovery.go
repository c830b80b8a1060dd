package mfa

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Recovery codes are 16 characters of Crockford's base32 alphabet (no I, L, O or U), 80
// bits each, shown in groups of four: "7KQ2-M9XD-4RTB-ZC0F".
const (
	recoveryChars    = 16
	recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	recoveryPrefix   = "$bulwark-recovery$v=1$"
	maxRecoveryCodes = 64
	recoveryKeySize  = 32
)

// ErrRecoveryFormat is returned for a stored recovery set that this package did not write.
var ErrRecoveryFormat = errors.New("mfa: malformed recovery code set")

// NewRecoveryCodes makes Options.RecoveryCodes fresh single-use codes for a user. Show codes
// to the user once and store only stored, which holds their argon2id hashes.
//
// Each code carries 80 bits from crypto/rand (ASVS5 6.5.3), far above the 20 bits ASVS5
// 6.5.4 asks for. Below 112 bits, ASVS5 6.5.2 asks for an approved password hash with a salt
// of at least 32 bits: the codes are hashed with argon2id at the Hasher's parameters under one
// random 128-bit salt per set, so that checking a code costs one argon2id however many codes
// are left. A new set replaces the old one entirely.
func (v *Verifier) NewRecoveryCodes() (codes []string, stored string, err error) {
	p := v.hasher.params
	p.Salt = make([]byte, saltSize)
	if _, err := rand.Read(p.Salt); err != nil {
		return nil, "", fmt.Errorf("mfa: salt: %w", err)
	}
	codes = make([]string, v.recoveryCodes)
	hashes := make([][]byte, v.recoveryCodes)
	raw := make([]byte, recoveryChars)
	defer clear(raw)
	for i := range codes {
		if _, err := rand.Read(raw); err != nil {
			return nil, "", fmt.Errorf("mfa: recovery code: %w", err)
		}
		for j, b := range raw {
			raw[j] = recoveryAlphabet[b&31] // 256 is a multiple of 32: no bias
		}
		hashes[i] = recoveryHash(raw, p)
		codes[i] = string(raw[0:4]) + "-" + string(raw[4:8]) + "-" + string(raw[8:12]) + "-" + string(raw[12:16])
	}
	return codes, encodeRecovery(p, hashes), nil
}

// RecoveryCodesLeft returns how many unused codes stored holds, or zero if it is malformed.
func RecoveryCodesLeft(stored string) int {
	_, hashes, err := decodeRecovery(stored)
	if err != nil {
		return 0
	}
	return len(hashes)
}

// Recover consumes one recovery code of user. On success it returns the set without that
// code: save it in place of stored before treating the user as authenticated, so the code
// works once (ASVS5 6.5.1). Until then the Store refuses the same code for a day, so two
// servers racing on one code cannot both accept it.
//
// Recover goes through Options.Allow, Failed and Succeeded like [Verifier.Verify]. The code
// may be typed in either case, with or without dashes and spaces; O is read as 0 and I and
// L as 1. Errors: [ErrLimited], [ErrInvalidCode], [ErrReplayed], [ErrUnavailable],
// [ErrRecoveryFormat], [ErrInvalidInput].
func (v *Verifier) Recover(ctx context.Context, user, stored, code string, now time.Time) (string, error) {
	if err := checkUser(user); err != nil {
		return "", err
	}
	if err := v.admit(ctx, user); err != nil {
		return "", err
	}
	p, hashes, err := decodeRecovery(stored)
	if err != nil {
		return "", err
	}
	norm, ok := normalizeRecovery(code)
	if !ok {
		v.fail(ctx, user)
		return "", ErrInvalidCode
	}
	got := recoveryHash(norm, p)
	found := -1
	for i, h := range hashes {
		// Every hash is compared, in constant time.
		if subtle.ConstantTimeCompare(got, h) == 1 {
			found = i
		}
	}
	if found < 0 {
		v.fail(ctx, user)
		return "", ErrInvalidCode
	}
	// The hash names the code in the Store; the redisstore hashes keys again before use.
	key := user + "\x00" + base64.RawStdEncoding.EncodeToString(got)
	if err := v.record(ctx, "recovery", key, 1, now, recoveryReplayTTL); err != nil {
		if errors.Is(err, ErrReplayed) {
			v.fail(ctx, user)
		}
		return "", err
	}
	if v.succeeded != nil {
		v.succeeded(ctx, user)
	}
	return encodeRecovery(p, append(hashes[:found:found], hashes[found+1:]...)), nil
}

// normalizeRecovery returns code in the canonical alphabet, or false.
func normalizeRecovery(code string) ([]byte, bool) {
	if len(code) > 64 {
		return nil, false
	}
	out := make([]byte, 0, recoveryChars)
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if strings.IndexByte(recoveryAlphabet, c) < 0 || len(out) == recoveryChars {
			return nil, false
		}
		out = append(out, c)
	}
	return out, len(out) == recoveryChars
}

func recoveryHash(code []byte, p PasswordHash) []byte {
	return argon2.IDKey(code, p.Salt, p.Iterations, p.Memory, p.Parallelism, recoveryKeySize)
}

// encodeRecovery writes "$bulwark-recovery$v=1$m=M,t=T,p=P$SALT$H1,H2,..." (unpadded
// standard base64); a set with no codes left ends in "$".
func encodeRecovery(p PasswordHash, hashes [][]byte) string {
	var b strings.Builder
	b.WriteString(recoveryPrefix)
	b.WriteString(p.paramString())
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(p.Salt))
	b.WriteByte('$')
	for i, h := range hashes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(base64.RawStdEncoding.EncodeToString(h))
	}
	return b.String()
}

func decodeRecovery(s string) (PasswordHash, [][]byte, error) {
	rest, ok := strings.CutPrefix(s, recoveryPrefix)
	if !ok || len(s) > 8192 {
		return PasswordHash{}, nil, ErrRecoveryFormat
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return PasswordHash{}, nil, ErrRecoveryFormat
	}
	p, ok := parseParams(fields[0])
	if !ok {
		return PasswordHash{}, nil, ErrRecoveryFormat
	}
	var err error
	if p.Salt, err = decodeB64(fields[1], 8, 64); err != nil {
		return PasswordHash{}, nil, ErrRecoveryFormat
	}
	var hashes [][]byte
	if fields[2] != "" {
		for _, f := range strings.Split(fields[2], ",") {
			h, err := decodeB64(f, recoveryKeySize, recoveryKeySize)
			if err != nil || len(hashes) == maxRecoveryCodes {
				return PasswordHash{}, nil, ErrRecoveryFormat
			}
			hashes = append(hashes, h)
		}
	}
	return p, hashes, nil
}
