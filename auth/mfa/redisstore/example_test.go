package redisstore_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"

	"github.com/bulwark-go/bulwark/auth/mfa"
	"github.com/bulwark-go/bulwark/auth/mfa/redisstore"
	"github.com/redis/go-redis/v9"
)

// ExampleNew shares replay state between every server of a fleet. New does not contact
// Redis.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // lets Options.Timeout bound a slow Redis
	})
	defer client.Close()
	store, err := redisstore.New(redisstore.Options{Client: client, Prefix: "myapp:mfa:"})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The sealing key comes from the environment (a random one if unset, for the example).
	key, err := base64.StdEncoding.DecodeString(os.Getenv("MFA_SEAL_KEY"))
	if len(key) != mfa.SealKeySize || err != nil {
		key = make([]byte, mfa.SealKeySize)
		rand.Read(key)
	}
	sealer, err := mfa.NewSealer(mfa.SealerOptions{Keys: []mfa.SealKey{{ID: "2026-01", Key: key}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := mfa.New(mfa.Options{
		Issuer:               "Example",
		Sealer:               sealer,
		Store:                store,
		UnsafeNoAttemptLimit: true, // wire Options.Allow to your limiter instead
	})
	fmt.Println(v != nil, err)
	// Output: true <nil>
}
