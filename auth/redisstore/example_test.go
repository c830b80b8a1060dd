package redisstore_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/auth/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every server of the fleet validates against, and refreshes through, one Redis. The
// constructors do not contact Redis.
func ExampleNewRevocationStore() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // lets Options.Timeout bound a slow Redis
	})
	defer client.Close()
	revoked, err := redisstore.NewRevocationStore(redisstore.Options{Client: client, Prefix: "notes:auth:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // in production: your key, from a secret manager
	signer, _ := auth.NewSigner(auth.SignerOptions{Issuer: "https://login.example.com",
		Keys: []auth.SigningKey{{Signer: key, State: auth.KeyActive}}})
	_, err = auth.New(auth.Options{
		Issuers:    []auth.Issuer{{Issuer: signer.Issuer(), Audience: "https://api.example.com", Keys: signer.VerificationKeys()}},
		Revocation: revoked, // logouts on any server are seen here
	})
	fmt.Println(err)
	// Output: <nil>
}

func ExampleNewRefreshStore() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	families, err := redisstore.NewRefreshStore(redisstore.Options{Client: client})
	if err != nil {
		fmt.Println(err)
		return
	}
	revoked, _ := redisstore.NewRevocationStore(redisstore.Options{Client: client})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := auth.NewSigner(auth.SignerOptions{Issuer: "https://login.example.com",
		Keys: []auth.SigningKey{{Signer: key, State: auth.KeyActive}}})
	r, err := auth.NewRefresher(auth.RefreshOptions{Signer: signer, Store: families, Revocation: revoked,
		Logger: slog.New(slog.DiscardHandler)})
	fmt.Println(r != nil, err)
	// Output: true <nil>
}
