package mfa_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// TestHasherDefaults: the zero HasherOptions give the OWASP Password Storage Cheat Sheet
// minimum for argon2id, m=19456 KiB, t=2, p=1 (ASVS5 11.4.2), and a 1 MiB password is
// refused in well under the time one hash takes (CS-Authentication: limit input length).
func TestHasherDefaults(t *testing.T) {
	h, err := mfa.NewHasher(mfa.HasherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	enc, err := h.Hash("correct horse battery staple")
	hashTime := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want the OWASP minimum parameters", enc)
	}
	p, err := mfa.ParsePasswordHash(enc)
	if err != nil || len(p.Salt) < 16 || len(p.Key) != 32 {
		t.Errorf("ParsePasswordHash = %+v, %v; want a 16-byte salt and a 32-byte key", p, err)
	}
	huge := strings.Repeat("a", 1<<20)
	start = time.Now()
	err = h.Verify(huge, enc)
	refuseTime := time.Since(start)
	if !errors.Is(err, mfa.ErrPasswordTooLong) {
		t.Errorf("Verify(1 MiB) = %v, want ErrPasswordTooLong", err)
	}
	if _, err := h.Hash(huge); !errors.Is(err, mfa.ErrPasswordTooLong) {
		t.Errorf("Hash(1 MiB) = %v, want ErrPasswordTooLong", err)
	}
	if refuseTime > hashTime/10 {
		t.Errorf("refusing 1 MiB took %v, a hash %v: want well under", refuseTime, hashTime)
	}
	if h.NeedsRehash(enc) {
		t.Error("NeedsRehash(fresh hash) = true")
	}
}

func TestHasherOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts mfa.HasherOptions
		want []string
	}{
		{"zero", mfa.HasherOptions{}, nil},
		{"46 MiB t=1", mfa.HasherOptions{Memory: 47104, Iterations: 1}, nil},
		{"7 MiB t=5", mfa.HasherOptions{Memory: 7168, Iterations: 5}, nil},
		{"weak", mfa.HasherOptions{Memory: 19455, Iterations: 2}, []string{"OWASP minimum"}},
		{"weak t", mfa.HasherOptions{Iterations: 1}, []string{"OWASP minimum"}},
		{"weak allowed", mfa.HasherOptions{Memory: 64, Iterations: 1, UnsafeWeakParams: true}, nil},
		{"all bad", mfa.HasherOptions{Memory: 1 << 22, Iterations: 65, Parallelism: 65, MaxLength: 63},
			[]string{"Memory", "Iterations", "Parallelism", "MaxLength"}},
		{"memory per lane", mfa.HasherOptions{Memory: 8, Parallelism: 2, UnsafeWeakParams: true}, []string{"8 KiB per lane"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mfa.NewHasher(tt.opts)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("NewHasher = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewHasher = nil error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestPasswordVerify: ASVS5 6.2.8 (exactly as received, no truncation), 6.2.9 (64 characters
// and more), CS-Password_Storage (unique salts).
func TestPasswordVerify(t *testing.T) {
	h := cheapHasher(t)
	long100 := strings.Repeat("p", 99) + "x"
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd ünïcode", strings.Repeat("é", 64), long100, strings.Repeat("z", 1024)} {
		enc, err := h.Hash(pw)
		if err != nil {
			t.Fatalf("Hash(%d bytes) = %v", len(pw), err)
		}
		if err := h.Verify(pw, enc); err != nil {
			t.Errorf("Verify(same %d bytes) = %v, want nil", len(pw), err)
		}
		for _, wrong := range []string{pw + "a", strings.ToUpper(pw) + "!", " " + pw, pw + "\x00"} {
			want := mfa.ErrPasswordMismatch
			if len(wrong) > mfa.DefaultMaxPasswordLength {
				want = mfa.ErrPasswordTooLong
			}
			if err := h.Verify(wrong, enc); !errors.Is(err, want) {
				t.Errorf("Verify(altered %d-byte password) = %v, want %v", len(pw), err, want)
			}
		}
		if len(pw) > 0 {
			changed := pw[:len(pw)-1] + string(pw[len(pw)-1]^1)
			if err := h.Verify(changed, enc); !errors.Is(err, mfa.ErrPasswordMismatch) {
				t.Errorf("Verify(last byte changed, %d bytes) = %v, want ErrPasswordMismatch (no truncation)", len(pw), err)
			}
		}
	}
	// 100 characters: changing the 100th must matter (bcrypt would stop at 72 bytes).
	enc, _ := h.Hash(long100)
	if err := h.Verify(strings.Repeat("p", 100), enc); !errors.Is(err, mfa.ErrPasswordMismatch) {
		t.Errorf("Verify(100th char changed) = %v, want ErrPasswordMismatch", err)
	}
	a, _ := h.Hash("same")
	b, _ := h.Hash("same")
	if a == b {
		t.Error("two hashes of one password are equal: salt not random")
	}
	if _, err := h.Hash(strings.Repeat("z", 1025)); !errors.Is(err, mfa.ErrPasswordTooLong) {
		t.Errorf("Hash(1025 bytes) = %v, want ErrPasswordTooLong", err)
	}
	if err := h.VerifyUnknownUser("x"); !errors.Is(err, mfa.ErrPasswordMismatch) {
		t.Errorf("VerifyUnknownUser = %v, want ErrPasswordMismatch", err)
	}
	if err := h.Verify("x", "$2a$10$abcdefghijklmnopqrstuu5Kc5f2E2W9i3QeH8lH1QGJ0b2Y8d8Zy"); !errors.Is(err, mfa.ErrHashFormat) {
		t.Errorf("Verify(bcrypt hash) = %v, want ErrHashFormat", err)
	}
}

func TestNeedsRehash(t *testing.T) {
	weak := cheapHasher(t)
	stronger, err := mfa.NewHasher(mfa.HasherOptions{Memory: 128, Iterations: 1, UnsafeWeakParams: true})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := weak.Hash("pw")
	if weak.NeedsRehash(enc) {
		t.Error("NeedsRehash under the same parameters = true")
	}
	if !stronger.NeedsRehash(enc) {
		t.Error("NeedsRehash after raising Memory = false")
	}
	if err := stronger.Verify("pw", enc); err != nil {
		t.Errorf("old hash no longer verifies after a parameter change: %v", err)
	}
	if !weak.NeedsRehash("garbage") {
		t.Error("NeedsRehash(garbage) = false")
	}
}

// phcCases seed TestParsePasswordHash and FuzzParsePasswordHash.
var phcCases = []struct {
	in string
	ok bool
}{
	{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI", true},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", true},
	{"$argon2id$v=19$m=2097152,t=64,p=64$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", true},
	{"", false},
	{"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2d$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=+64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=4294967296,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=2097153,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=65,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=15,t=1,p=2$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=1,k=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNh\nbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHR$MTIzNDU2Nzg5MDEyMzQ1Ng", false}, // non-zero trailing bits
	{"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$MTIzNDU2Nzg5MDEyMzQ1Ng", false},      // 4-byte salt
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1", false},   // short hash
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng$", false},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ", false},
	{" $argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng", false},
	{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng ", false},
}

func TestParsePasswordHash(t *testing.T) {
	for _, tt := range phcCases {
		p, err := mfa.ParsePasswordHash(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("ParsePasswordHash(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil && !errors.Is(err, mfa.ErrHashFormat) {
			t.Errorf("ParsePasswordHash(%q) = %v, want ErrHashFormat", tt.in, err)
		}
		if tt.ok && p.String() != tt.in {
			t.Errorf("ParsePasswordHash(%q).String() = %q, want the input", tt.in, p.String())
		}
	}
}

// FuzzParsePasswordHash: no panic, and anything accepted is canonical: it prints back as
// the input.
func FuzzParsePasswordHash(f *testing.F) {
	for _, tt := range phcCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := mfa.ParsePasswordHash(s)
		if err != nil {
			if !errors.Is(err, mfa.ErrHashFormat) {
				t.Fatalf("ParsePasswordHash(%q) = %v, not ErrHashFormat", s, err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePasswordHash(%q).String() = %q", s, p.String())
		}
		if p.Memory > 1<<21 || p.Iterations < 1 || p.Iterations > 64 || p.Parallelism < 1 || p.Parallelism > 64 {
			t.Fatalf("ParsePasswordHash(%q) accepted out-of-bounds parameters %+v", s, p)
		}
	})
}
