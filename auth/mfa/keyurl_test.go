package mfa_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// keyURLCases seed TestParseKeyURL and FuzzParseKeyURL.
var keyURLCases = []struct {
	in   string
	want *mfa.KeyURL // nil: refused
}{
	{"otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		&mfa.KeyURL{Issuer: "ACME Co", Account: "john.doe@email.com", Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}},
	{"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example",
		&mfa.KeyURL{Issuer: "Example", Account: "alice@google.com", Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}},
	{"otpauth://totp/alice?secret=jbswy3dpehpk3pxpjbswy3dpehpk3pxp&issuer=Big%20Corp&algorithm=SHA256&digits=8&period=60",
		&mfa.KeyURL{Issuer: "Big Corp", Account: "alice", Algorithm: mfa.SHA256, Digits: 8, Period: 60 * time.Second}},
	{"otpauth://totp/Big+Corp%3A%20bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA512&image=https://x/y.png",
		&mfa.KeyURL{Issuer: "Big+Corp", Account: "bob", Algorithm: mfa.SHA512, Digits: 6, Period: 30 * time.Second}},
	{"otpauth://totp/Z%C3%B6e:z%2Fo%3Fe?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		&mfa.KeyURL{Issuer: "Zöe", Account: "z/o?e", Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}},
	{"", nil},
	{"otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=1", nil},
	{"https://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP", nil},                 // 80 bits
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PX1JBSWY3DPEHPK3PXP", nil}, // not base32
	{"otpauth://totp/Example:alice?issuer=Example", nil},                          // no secret
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Other", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=MD5", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&digits=7", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=0", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=030", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=121", nil},
	{"otpauth://totp/Example:a:b?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil},
	{"otpauth://totp/Example:al%0Aice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil},
	{"otpauth://totp/alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil}, // no issuer
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP#frag", nil},
	{"otpauth://u@totp/Example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", nil},
	{"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP%0AJBSWY3DPEHPK3PXP", nil},
}

func TestParseKeyURL(t *testing.T) {
	for _, tt := range keyURLCases {
		k, err := mfa.ParseKeyURL(tt.in)
		if tt.want == nil {
			if !errors.Is(err, mfa.ErrKeyURL) {
				t.Errorf("ParseKeyURL(%q) = %v, want ErrKeyURL", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKeyURL(%q) = %v", tt.in, err)
			continue
		}
		if k.Issuer != tt.want.Issuer || k.Account != tt.want.Account || k.Algorithm != tt.want.Algorithm ||
			k.Digits != tt.want.Digits || k.Period != tt.want.Period || len(k.Secret) < 16 {
			t.Errorf("ParseKeyURL(%q) = %+v, want %+v", tt.in, k, tt.want)
		}
		assertRoundTrip(t, tt.in, k)
	}
}

func assertRoundTrip(t *testing.T, in string, k mfa.KeyURL) {
	t.Helper()
	again, err := mfa.ParseKeyURL(k.String())
	if err != nil {
		t.Fatalf("ParseKeyURL(%q) ok, but not its String %q: %v", in, k.String(), err)
	}
	if again.Issuer != k.Issuer || again.Account != k.Account || again.Algorithm != k.Algorithm ||
		again.Digits != k.Digits || again.Period != k.Period || !bytes.Equal(again.Secret, k.Secret) {
		t.Fatalf("ParseKeyURL(%q) = %+v, but after String %+v", in, k, again)
	}
}

// TestKeyURLErrorHasNoSecret: CS-Logging, the parser's errors never carry the secret.
func TestKeyURLErrorHasNoSecret(t *testing.T) {
	_, err := mfa.ParseKeyURL("otpauth://totp/Example:a:b?secret=SECRETSECRETSECRETSECRET&digits=9")
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("SECRETSECRET")) {
		t.Errorf("error = %v: want one without the secret", err)
	}
}

// FuzzParseKeyURL: no panic; anything accepted survives String and parses back equal.
func FuzzParseKeyURL(f *testing.F) {
	for _, tt := range keyURLCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := mfa.ParseKeyURL(s)
		if err != nil {
			if !errors.Is(err, mfa.ErrKeyURL) {
				t.Fatalf("ParseKeyURL(%q) = %v, not ErrKeyURL", s, err)
			}
			return
		}
		assertRoundTrip(t, s, k)
	})
}
