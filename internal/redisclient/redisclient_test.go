package redisclient_test

import (
	"testing"

	"github.com/bulwark-go/bulwark/internal/redisclient"
	"github.com/redis/go-redis/v9"
)

func TestContextTimeouts(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    redis.UniversalClient
		want bool
	}{
		{"client without", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
		{"client with", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), true},
		{"cluster without", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"cluster with", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"failover with", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
	} {
		if got := redisclient.ContextTimeouts(tt.c); got != tt.want {
			t.Errorf("%s: ContextTimeouts = %v, want %v", tt.name, got, tt.want)
		}
		_ = tt.c.Close()
	}
}
