package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

func TestNewClusterURL(t *testing.T) {
	for _, bad := range []string{
		"redis://127.0.0.1:7000",               // not a cluster scheme
		"redis-cluster://127.0.0.1:7000/1",     // a cluster has database 0 only
		"redis-cluster://127.0.0.1",            // no port
		"redis-cluster://127.0.0.1:7000,:7001", // no host
		"redis-cluster://127.0.0.1:7000/?durable=x",
		"redis-cluster://127.0.0.1:7000/?durable_timeout=-1s",
	} {
		if _, err := redisconn.NewCluster(redisconn.Options{URL: bad}); err == nil {
			t.Errorf("NewCluster(%q) accepted it", bad)
		}
	}
	c, err := redisconn.New(redisconn.Options{URL: "redis-cluster://u:secret@127.0.0.1:7000,127.0.0.1:7001/?durable=1&durable_timeout=100ms"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*redisconn.Cluster); !ok {
		t.Fatalf("New gave a %T, want *redisconn.Cluster", c)
	}
	if p, err := redisconn.New(redisconn.Options{URL: testenv.RedisURL()}); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*redis.Pool); !ok {
		t.Fatalf("New(redis://) gave a %T", p)
	}
	_, err = redisconn.NewCluster(redisconn.Options{URL: "redis-cluster://u:secret@[::1"})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad URL error %v: want an error without the password", err)
	}
}

// TestClusterRouting: commands and scripts on keys of every slot range
// reach their master, from a client given one seed node and no slot map
// yet (its first commands follow MOVED); a script over keys of two slots is
// refused by the server as a request error (CROSSSLOT), not an outage.
func TestClusterRouting(t *testing.T) {
	_, prefix := testenv.RedisCluster(t) // a prefix deleted when the test ends
	seed := strings.Split(strings.TrimPrefix(testenv.RedisClusterURL(), "redis-cluster://"), ",")[0]
	c, err := redisconn.NewCluster(redisconn.Options{URL: "redis-cluster://" + seed})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	cas := redis.NewScript(1, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	slots := map[int]bool{}
	for i := range 300 {
		k := fmt.Sprint(prefix, "k", i)
		slots[redisconn.Slot(k)] = true
		if _, err := redisconn.Do(ctx, c, "SET", k, "v"); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		if n, err := redis.Int(redisconn.Eval(ctx, c, cas, k, "v")); err != nil || n != 1 {
			t.Fatalf("script on %s = %d, %v", k, n, err)
		}
	}
	perMaster := map[string]int{}
	if err := c.EachMaster(func(addr string, conn redis.Conn) error {
		n, err := redis.Int(conn.Do("DBSIZE"))
		perMaster[addr] = n
		return err
	}); err != nil || len(perMaster) != 3 {
		t.Fatalf("EachMaster: %v, %v; want 3 masters", perMaster, err)
	}
	multi := redis.NewScript(2, `return redis.call('MGET', KEYS[1], KEYS[2])`)
	_, err = redisconn.Eval(ctx, c, multi, prefix+"a", prefix+"b")
	var re redis.Error
	if redisconn.Slot(prefix+"a") != redisconn.Slot(prefix+"b") && (!errors.As(err, &re) || backend.Name(err) != "") {
		t.Fatalf("cross-slot script: %v, want a CROSSSLOT reply error", err)
	}
	if err := redisconn.Ping(ctx, c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestClusterDeadFailsClosed: a cluster whose seed refuses connections
// fails every command and the ping with a redis *backend.Error.
func TestClusterDeadFailsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := redisconn.NewCluster(redisconn.Options{URL: "redis-cluster://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	wantUnavailable(t, "GET", func() error { _, err := redisconn.Do(ctx, c, "GET", "k"); return err })
	wantUnavailable(t, "Eval", func() error {
		_, err := redisconn.Eval(ctx, c, redis.NewScript(1, "return 1"), "k")
		return err
	})
	wantUnavailable(t, "Ping", func() error { return redisconn.Ping(ctx, c) })
}
