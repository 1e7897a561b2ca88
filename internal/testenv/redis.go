package testenv

import (
	"context"
	"net"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/redisconn"
)

// DefaultRedisURL is used when REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL returns REDIS_URL, or DefaultRedisURL.
func RedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

// Redis returns a pool on RedisURL and a key prefix unique to this test
// ("sutest:<hex>:"). When the test ends every key under the prefix
// (including the risk keys, prefix + "{risk}:..." or prefix + "risk:...") is deleted and the pool closed.
//
// If Redis cannot be reached the test fails with a message naming the URL,
// or is skipped when SIMPLEUSER_SKIP_BACKENDS=1.
func Redis(t testing.TB) (*redis.Pool, string) {
	t.Helper()
	url := RedisURL()
	pool, err := redisconn.NewPool(redisconn.Options{URL: url})
	if err != nil {
		t.Fatalf("testenv: REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := redisconn.Do(ctx, pool, "PING"); err != nil {
		pool.Close()
		unreachable(t, "testenv: Redis at %s is unreachable: %v; start it, e.g. redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no", redactRedisURL(url), err)
	}
	prefix := "sutest:" + randomSuffix(8) + ":"
	t.Cleanup(func() {
		defer pool.Close()
		if err := DeleteRedisPrefix(pool, prefix); err != nil {
			t.Errorf("testenv: deleting Redis keys %s*: %v", prefix, err)
		}
	})
	return pool, prefix
}

// DefaultRedisClusterURL is used when REDIS_CLUSTER_URL is unset: the
// cluster of scripts/redis-cluster.sh.
const DefaultRedisClusterURL = "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"

// RedisClusterURL returns REDIS_CLUSTER_URL, or DefaultRedisClusterURL.
func RedisClusterURL() string {
	if u := os.Getenv("REDIS_CLUSTER_URL"); u != "" {
		return u
	}
	return DefaultRedisClusterURL
}

// RedisCluster is Redis on the Redis Cluster of RedisClusterURL: a
// *redisconn.Cluster and a key prefix unique to this test, its keys deleted
// and the client closed when the test ends. The test fails (or is skipped
// under SIMPLEUSER_SKIP_BACKENDS=1) when the cluster is unreachable or not
// ready (redisconn.Ping: cluster_state:ok, every master answering).
func RedisCluster(t testing.TB) (*redisconn.Cluster, string) {
	t.Helper()
	url := RedisClusterURL()
	c, err := redisconn.NewCluster(redisconn.Options{URL: url})
	if err != nil {
		t.Fatalf("testenv: REDIS_CLUSTER_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := redisconn.Ping(ctx, c); err != nil {
		c.Close()
		unreachable(t, "testenv: Redis Cluster at %s is unreachable or not ready: %v; start it with scripts/redis-cluster.sh", redactRedisURL(url), err)
	}
	prefix := "sutest:" + randomSuffix(8) + ":"
	t.Cleanup(func() {
		defer c.Close()
		if err := DeleteRedisPrefix(c, prefix); err != nil {
			t.Errorf("testenv: deleting Redis Cluster keys %s*: %v", prefix, err)
		}
	})
	return c, prefix
}

// RedisKeys returns every key starting with prefix (SCAN MATCH prefix*; on
// a cluster, on every master).
func RedisKeys(c redisconn.Client, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if cl, ok := c.(*redisconn.Cluster); ok {
		var keys []string
		err := cl.EachMaster(func(_ string, conn redis.Conn) error {
			k, err := scanKeys(ctx, func(args ...any) (any, error) { return conn.Do("SCAN", args...) }, prefix)
			keys = append(keys, k...)
			return err
		})
		return keys, err
	}
	return scanKeys(ctx, func(args ...any) (any, error) { return redisconn.Do(ctx, c, "SCAN", args...) }, prefix)
}

// scanKeys runs a SCAN MATCH prefix* to its end with scan.
func scanKeys(ctx context.Context, scan func(args ...any) (any, error), prefix string) ([]string, error) {
	var keys []string
	cursor := "0"
	for {
		if err := ctx.Err(); err != nil {
			return keys, err
		}
		v, err := redis.Values(scan(cursor, "MATCH", escapeGlob(prefix)+"*", "COUNT", 1000))
		if err != nil {
			return keys, err
		}
		var batch []string
		if _, err := redis.Scan(v, &cursor, &batch); err != nil {
			return keys, err
		}
		keys = append(keys, batch...)
		if cursor == "0" {
			return keys, nil
		}
	}
}

// DeleteRedisPrefix deletes every key starting with prefix (on a cluster,
// one DEL per slot).
func DeleteRedisPrefix(c redisconn.Client, prefix string) error {
	keys, err := RedisKeys(c, prefix)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, group := range redisconn.SplitBySlot(c, keys) {
		for len(group) > 0 {
			n := min(len(group), 500)
			args := make([]any, n)
			for i, k := range group[:n] {
				args[i] = k
			}
			if _, err := redisconn.Do(ctx, c, "DEL", args...); err != nil {
				return err
			}
			group = group[n:]
		}
	}
	return nil
}

// DeadRedis returns a pool whose server address refuses connections (a port
// just listened on and closed), to check that a backend fails closed with a
// *backend.Error. The pool is closed when the test ends.
func DeadRedis(t testing.TB) *redis.Pool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pool, err := redisconn.NewPool(redisconn.Options{URL: "redis://" + addr + "/0"})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// escapeGlob quotes the characters SCAN MATCH treats as patterns.
func escapeGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// redactRedisURL hides the password in a Redis URL.
func redactRedisURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparsable REDIS_URL)"
	}
	return u.Redacted()
}
