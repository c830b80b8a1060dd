package redisstore_test

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redisstore"
	"github.com/redis/go-redis/v9"
)

func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // lets Options.Timeout bound a slow Redis
	})
	defer client.Close()
	store, err := redisstore.New(redisstore.Options{
		Client:   client,
		FailOpen: true, // if Redis is down or slow, limit per server instead of refusing
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	limit, err := ratelimit.New(ratelimit.Options{
		Policies: []ratelimit.Policy{{Name: "api", Limit: 600, Period: time.Minute, Burst: 50}},
		Store:    store,
	})
	fmt.Println(limit != nil, err)
	// Output: true <nil>
}
