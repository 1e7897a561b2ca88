package redis_test

import (
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/code/codetest"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
)

// TestConformanceCluster runs the shared code.Store suite on the Redis
// Cluster of REDIS_CLUSTER_URL: every command and script touches one key.
func TestConformanceCluster(t *testing.T) {
	codetest.Run(t, func(t *testing.T) code.Store {
		c, prefix := testenv.RedisCluster(t)
		return coderedis.New(c, prefix)
	}, time.Sleep)
}
