// Package realbackends puts a simpleuser.Config on the real servers for a
// test: users and second factors in a fresh PostgreSQL schema (migrated), sessions, codes and
// risk counters in Redis under a fresh key prefix, both removed when the
// test ends. The service and handler tests share it.
package realbackends

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
	mfapostgres "github.com/simpleuser/simpleuser/mfa/postgres"
	passkeypg "github.com/simpleuser/simpleuser/passkey/postgres"
	"github.com/simpleuser/simpleuser/redisconn"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	tenantpg "github.com/simpleuser/simpleuser/tenant/postgres"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// Configure sets c's stores to PostgreSQL (users, passkeys) and Redis. The user store's clock
// is c.Now (set c.Now first when the test injects one). Redis TTLs are
// server-side real time: a test that advances a fake clock past a code's
// TTL cannot expect Redis to have dropped the code; session expiry and risk
// windows follow the passed clock.
func Configure(t testing.TB, c *simpleuser.Config) {
	t.Helper()
	rp, prefix := testenv.Redis(t)
	configure(t, c, rp, prefix)
}

// ConfigureCluster is Configure with sessions, codes and risk counters on
// the Redis Cluster of REDIS_CLUSTER_URL (testenv.RedisCluster).
func ConfigureCluster(t testing.TB, c *simpleuser.Config) {
	t.Helper()
	rc, prefix := testenv.RedisCluster(t)
	configure(t, c, rc, prefix)
}

func configure(t testing.TB, c *simpleuser.Config, rp redisconn.Client, prefix string) {
	t.Helper()
	pool := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("postgres.Migrate: %v", err)
	}
	users := postgres.New(pool)
	if c.Now != nil {
		users.Now = c.Now
	}
	c.Users = users
	c.Passkeys.Store = passkeypg.New(pool) // used when the test turns passkeys on
	c.MFA.Store = mfapostgres.New(pool)
	c.Tenants.Store = tenantpg.New(pool)
	c.Codes = coderedis.New(rp, prefix)
	c.Risk = riskredis.New(rp, prefix)
	c.SessionStore, c.SessionIndex = sessionredis.New(rp, prefix)
}
