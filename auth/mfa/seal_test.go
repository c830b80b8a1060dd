package mfa_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

func TestNewSealerOptions(t *testing.T) {
	good := randomKey("k1")
	for _, tt := range []struct {
		name string
		keys []mfa.SealKey
		want []string // substrings of the error; none means valid
	}{
		{"none", nil, []string{"Keys is required"}},
		{"one", []mfa.SealKey{good}, nil},
		{"short key", []mfa.SealKey{{ID: "a", Key: make([]byte, 31)}}, []string{"Keys[0].Key is 31 bytes"}},
		{"long key", []mfa.SealKey{{ID: "a", Key: make([]byte, 33)}}, []string{"Keys[0].Key is 33 bytes"}},
		{"AES-128 key", []mfa.SealKey{{ID: "a", Key: make([]byte, 16)}}, []string{"Keys[0].Key is 16 bytes"}},
		{"bad ids", []mfa.SealKey{{ID: "", Key: good.Key}, {ID: "a.b", Key: good.Key}, {ID: strings.Repeat("a", 33), Key: good.Key}},
			[]string{"Keys[0].ID", "Keys[1].ID", "Keys[2].ID"}},
		{"duplicate", []mfa.SealKey{good, good}, []string{"Keys[1].ID \"k1\" is a duplicate"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mfa.NewSealer(mfa.SealerOptions{Keys: tt.keys})
			if len(tt.want) == 0 {
				if err != nil || s == nil {
					t.Fatalf("NewSealer = %v, %v; want a Sealer", s, err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewSealer = nil error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewSealer error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestSealerCopiesKeys: changing the caller's key slice later changes nothing.
func TestSealerCopiesKeys(t *testing.T) {
	k := randomKey("k1")
	s := newSealer(t, k)
	sealed, _ := s.Seal("u", []byte("secret"))
	clear(k.Key)
	if _, err := s.Open("u", sealed); err != nil {
		t.Errorf("Open after the caller cleared its key = %v, want nil", err)
	}
}

// TestSealFailures: every way a sealed value can be wrong is the one error ErrSealed.
func TestSealFailures(t *testing.T) {
	k1, k2 := randomKey("k1"), randomKey("k2")
	s := newSealer(t, k1)
	pt := []byte("JBSWY3DPEHPK3PXP secret")
	sealed, err := s.Seal("alice", pt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), pt) || !strings.HasPrefix(sealed, "k1.") {
		t.Fatalf("sealed = %q: want the key id prefix and no plaintext", sealed)
	}
	got, err := s.Open("alice", sealed)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v; want the plaintext", got, err)
	}
	if again, _ := s.Seal("alice", pt); again == sealed {
		t.Error("two seals of the same plaintext are equal: nonce reuse")
	}

	otherKeySameID := newSealer(t, mfa.SealKey{ID: "k1", Key: k2.Key})
	cases := map[string]func() ([]byte, error){
		"other key":      func() ([]byte, error) { return otherKeySameID.Open("alice", sealed) },
		"other user":     func() ([]byte, error) { return s.Open("bob", sealed) },
		"user prefix":    func() ([]byte, error) { return s.Open("alic", sealed) },
		"user with NUL":  func() ([]byte, error) { return s.Open("alice\x00", sealed) },
		"unknown key id": func() ([]byte, error) { return newSealer(t, k2).Open("alice", sealed) },
		"relabelled id":  func() ([]byte, error) { return newSealer(t, k1, k2).Open("alice", "k2"+sealed[2:]) },
		"truncated":      func() ([]byte, error) { return s.Open("alice", sealed[:len(sealed)-1]) },
		"short":          func() ([]byte, error) { return s.Open("alice", "k1.AAAA") },
		"no id":          func() ([]byte, error) { return s.Open("alice", sealed[3:]) },
		"empty":          func() ([]byte, error) { return s.Open("alice", "") },
		"huge":           func() ([]byte, error) { return s.Open("alice", "k1."+strings.Repeat("A", 1<<20)) },
		"bad base64":     func() ([]byte, error) { return s.Open("alice", sealed[:10]+"!"+sealed[11:]) },
	}
	for name, open := range cases {
		if got, err := open(); !errors.Is(err, mfa.ErrSealed) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrSealed", name, got, err)
		}
	}

	// Flip every bit of the nonce, ciphertext and tag in turn.
	raw, err := base64.RawURLEncoding.DecodeString(sealed[3:])
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(raw) * 8 {
		flipped := bytes.Clone(raw)
		flipped[i/8] ^= 1 << (i % 8)
		if _, err := s.Open("alice", "k1."+base64.RawURLEncoding.EncodeToString(flipped)); !errors.Is(err, mfa.ErrSealed) {
			t.Fatalf("bit %d flipped: Open = %v, want ErrSealed", i, err)
		}
	}
}

// TestSealRotation: a new current key seals; the old one still opens; Reseal moves data to
// the current key.
func TestSealRotation(t *testing.T) {
	old, cur := randomKey("2025"), randomKey("2026")
	before := newSealer(t, old)
	after := newSealer(t, cur, old)
	sealed, _ := before.Seal("u", []byte("x"))
	if got, err := after.Open("u", sealed); err != nil || string(got) != "x" {
		t.Fatalf("Open with the old key still known = %q, %v", got, err)
	}
	if !after.NeedsReseal(sealed) || before.NeedsReseal(sealed) {
		t.Error("NeedsReseal wrong")
	}
	resealed, err := after.Reseal("u", sealed)
	if err != nil || !strings.HasPrefix(resealed, "2026.") || after.NeedsReseal(resealed) {
		t.Fatalf("Reseal = %q, %v; want a value under key 2026", resealed, err)
	}
	if got, err := newSealer(t, cur).Open("u", resealed); err != nil || string(got) != "x" {
		t.Errorf("Open(resealed) with only the new key = %q, %v", got, err)
	}
	if _, err := after.Reseal("v", sealed); !errors.Is(err, mfa.ErrSealed) {
		t.Errorf("Reseal for another user = %v, want ErrSealed", err)
	}
}

// TestResealTOTP: an active TOTP secret survives a key rotation.
func TestResealTOTP(t *testing.T) {
	old, cur := randomKey("old"), randomKey("new")
	v1, _ := newVerifier(t, func(o *mfa.Options) { o.Sealer = newSealer(t, old) })
	active, k := enrol(t, v1, "u", t0)
	rotated := newSealer(t, cur, old)
	resealed, err := rotated.Reseal("u", active)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := newVerifier(t, func(o *mfa.Options) { o.Sealer = newSealer(t, cur) })
	now := t0.Add(time.Minute)
	if err := v2.Verify(t.Context(), "u", resealed, refTOTP(k.Algorithm, k.Secret, now, k.Digits), now); err != nil {
		t.Errorf("Verify(resealed) = %v, want nil", err)
	}
}

// TestTOTPSecretsDoNotOpen: Open, the general-purpose call, refuses sealed TOTP secrets, so
// the secret never leaves the Verifier once enrolled.
func TestTOTPSecretsDoNotOpen(t *testing.T) {
	sealer := newSealer(t)
	v, _ := newVerifier(t, func(o *mfa.Options) { o.Sealer = sealer })
	e, _ := v.Enroll("u", "u@example.com")
	active, _ := enrol(t, v, "u", t0)
	for _, sealed := range []string{e.Pending, active} {
		if got, err := sealer.Open("u", sealed); !errors.Is(err, mfa.ErrSealed) || got != nil {
			t.Errorf("Open(TOTP secret) = %q, %v; want ErrSealed", got, err)
		}
	}
}
