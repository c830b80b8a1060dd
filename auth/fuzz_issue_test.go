package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// FuzzRefreshToken: no input panics, and nothing but the one live token refreshes; only a
// rotated-out token of the family counts as reuse.
func FuzzRefreshToken(f *testing.F) {
	store, _ := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{})
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: newSigner(f, active(keys().ec)), Store: store,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	ctx, now := context.Background(), time.Now()
	old, _ := r.Login(ctx, aliceClaims(), now)
	live, err := r.Refresh(ctx, old.Refresh, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", ".", old.Refresh[:22] + ".", live.Refresh[:23] + strings.Repeat("A", 43),
		live.Refresh + "=", strings.Repeat("A", 66), "\xff" + live.Refresh[1:]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == live.Refresh || tok == old.Refresh {
			return
		}
		_, err := r.Refresh(ctx, tok, now)
		if !errors.Is(err, auth.ErrRefreshInvalid) || errors.Is(err, auth.ErrRefreshReused) {
			t.Fatalf("Refresh(%q) = %v, want ErrRefreshInvalid only", tok, err)
		}
	})
}

// FuzzParsePrivateKeyPEM: no input panics, and every key it returns can sign.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	der, _ := x509.MarshalPKCS8PrivateKey(keys().ec)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	sec1, _ := x509.MarshalECPrivateKey(keys().ec)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := auth.ParsePrivateKeyPEM(data)
		if err != nil {
			if !errors.Is(err, auth.ErrKeyFile) {
				t.Fatalf("error %v does not wrap ErrKeyFile", err)
			}
			return
		}
		if k == nil || k.Public() == nil {
			t.Fatal("nil key without error")
		}
	})
}
