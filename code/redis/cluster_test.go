package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/code/codetest"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// TestConformanceCluster runs the shared code.Store suite on the Redis
// Cluster of REDIS_CLUSTER_URL: every command and script touches one key.
func TestConformanceCluster(t *testing.T) {
	codetest.Run(t, func(t *testing.T) code.Store {
		c, prefix := testenv.RedisCluster(t)
		return coderedis.New(c, prefix)
	}, time.Sleep)
}

// BenchmarkClusterSet measures a code write on the Redis Cluster of
// REDIS_CLUSTER_URL, without and with WAIT 1 (Options.DurableReplicas):
// the difference is what a write that must survive a failover costs.
func BenchmarkClusterSet(b *testing.B) {
	for _, bc := range []struct{ name, query string }{{"async", ""}, {"wait1", "/?durable=1"}} {
		b.Run(bc.name, func(b *testing.B) {
			_, prefix := testenv.RedisCluster(b)
			c, err := redisconn.NewCluster(redisconn.Options{URL: testenv.RedisClusterURL() + bc.query})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			s := coderedis.New(c, prefix)
			ctx := context.Background()
			rec := []byte("a code record of about sixty bytes, as the kit stores it..")
			b.ResetTimer()
			for i := range b.N {
				if err := s.Set(ctx, fmt.Sprint("k", i%1000), rec, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
