package redis_test

import (
	"testing"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	"github.com/simpleuser/simpleuser/risk/risktest"
)

// TestConformanceCluster runs the shared risk.Store suite on the Redis
// Cluster of REDIS_CLUSTER_URL: the multi-key take and release scripts work
// because every key shares the {risk} hash tag.
func TestConformanceCluster(t *testing.T) {
	risktest.Run(t, func(t *testing.T) risk.Store {
		c, prefix := testenv.RedisCluster(t)
		return riskredis.New(c, prefix)
	})
}

// TestKeysShareOneSlot: keys of unrelated subjects land in one slot, so a
// Take over them is one script on one master.
func TestKeysShareOneSlot(t *testing.T) {
	c, prefix := testenv.RedisCluster(t)
	s := riskredis.New(c, prefix)
	keys := []string{"email:a@example.com", "ip:192.0.2.1", "ssaid:xyz", "attempts:42"}
	if _, err := s.Take(t.Context(), limits(keys, 5, 60_000_000_000), "id1", t0); err != nil {
		t.Fatal(err)
	}
	got, err := testenv.RedisKeys(c, prefix)
	if err != nil || len(got) != len(keys) {
		t.Fatalf("keys = %q, %v; want %d", got, err, len(keys))
	}
	for _, k := range got {
		if redisconn.Slot(k) != redisconn.Slot(got[0]) {
			t.Fatalf("key %q in slot %d, %q in %d", k, redisconn.Slot(k), got[0], redisconn.Slot(got[0]))
		}
	}
}
