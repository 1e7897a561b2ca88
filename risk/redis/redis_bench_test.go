package redis_test

// Benchmarks of the risk scripts on a live Redis (REDIS_URL, default
// redis://127.0.0.1:6379/0: one round trip per Take) and on the Redis
// Cluster (REDIS_CLUSTER_URL: one round trip per key of a Take), as
// sub-benchmarks "redis" and "cluster"; keys under a unique prefix removed
// afterwards.
//
//	go test -run '^$' -bench . -benchmem ./risk/redis

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
)

// benchKeys has the shape of a password attempt: user, IP and ssaid keys.
var benchKeys = []string{"p:u:42", "p:i:Zm9vYmFyYmF6cXV4MTIzNDU2", "p:s:YmFyYmF6cXV4Zm9vMTIzNDU2"}

// benchLimits puts max per hour on each of benchKeys.
func benchLimits(max int) []risk.Limit {
	out := make([]risk.Limit, len(benchKeys))
	for i, k := range benchKeys {
		out[i] = risk.Limit{Key: k, Max: max, Window: time.Hour}
	}
	return out
}

// onBoth runs bench on a store on one Redis server and on the cluster.
func onBoth(b *testing.B, bench func(b *testing.B, s *riskredis.Store)) {
	for _, tc := range []struct {
		name   string
		client func(b *testing.B) (redisconn.Client, string)
	}{
		{"redis", func(b *testing.B) (redisconn.Client, string) { return testenv.Redis(b) }},
		{"cluster", func(b *testing.B) (redisconn.Client, string) { return testenv.RedisCluster(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, prefix := tc.client(b)
			bench(b, riskredis.New(c, prefix))
		})
	}
}

// BenchmarkTake records an entry under three keys (a limit never reached;
// the keys are recreated each 10,000 entries so the sets stay small).
func BenchmarkTake(b *testing.B) {
	onBoth(b, func(b *testing.B, s *riskredis.Store) {
		ctx := context.Background()
		now := time.Now()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%10000 == 0 {
				if err := s.Clear(ctx, benchKeys...); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.Take(ctx, benchLimits(1<<30), strconv.Itoa(i), now); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkTakeBlocked is Take on keys already at their limit (the
// refusal path: no write, the wait computed).
func BenchmarkTakeBlocked(b *testing.B) {
	onBoth(b, func(b *testing.B, s *riskredis.Store) {
		ctx := context.Background()
		now := time.Now()
		for i := 0; i < 5; i++ {
			if _, err := s.Take(ctx, benchLimits(5), strconv.Itoa(i), now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			wait, err := s.Take(ctx, benchLimits(5), "x", now)
			if err != nil || wait <= 0 {
				b.Fatal(wait, err)
			}
		}
	})
}

// BenchmarkTakeRelease is a successful password check's pair: the attempt
// is taken, then released.
func BenchmarkTakeRelease(b *testing.B) {
	onBoth(b, func(b *testing.B, s *riskredis.Store) {
		ctx := context.Background()
		now := time.Now()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			id := strconv.Itoa(i)
			if _, err := s.Take(ctx, benchLimits(5), id, now); err != nil {
				b.Fatal(err)
			}
			if err := s.Release(ctx, benchKeys, id); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
