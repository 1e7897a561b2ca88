package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// clusterPair is /me on one Redis against /me on a Redis Cluster, in the
// same run (-cluster-compare): two fresh example apps alike but for
// -redis-url, on the bench's PostgreSQL, serving nothing else, loaded pair
// by pair. The cluster app's sessions are the hot tokens' session bodies
// and index entries, copied from the bench's Redis (copyHot), so both
// answer the same tokens with the same users.
type clusterPair struct {
	one, cluster *proc
	client       *redisconn.Cluster
	prefix       string
}

// Names of the paired paths (the cluster's ratio is to the one-Redis path).
const (
	oneRedisPath = "me (token, one Redis)"
	clusterPath  = "me (token, Redis Cluster)"
)

// startClusterPair opens the cluster of -redis-cluster-url (starting the
// repository's 6-node test cluster, scripts/redis-cluster.sh, when nothing
// answers there) and the two example apps.
func startClusterPair(ctx context.Context, o *options, bin, dir string, e *env) (*clusterPair, error) {
	cl, err := redisconn.NewCluster(redisconn.Options{URL: o.redisClusterURL, MaxIdle: 16, MaxActive: 16, ReadTimeout: time.Minute})
	if err != nil {
		return nil, fmt.Errorf("-redis-cluster-url: %w", err)
	}
	if err := redisconn.Ping(ctx, cl); err != nil {
		fmt.Println("no Redis Cluster at -redis-cluster-url; starting scripts/redis-cluster.sh...")
		cmd := exec.CommandContext(ctx, "bash", "scripts/redis-cluster.sh")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if rerr := cmd.Run(); rerr != nil {
			cl.Close()
			return nil, fmt.Errorf("Redis Cluster at -redis-cluster-url: %w (and scripts/redis-cluster.sh: %v; or run with -cluster-compare=false)", err, rerr)
		}
		if err := cl.Refresh(); err != nil || redisconn.Ping(ctx, cl) != nil {
			cl.Close()
			return nil, fmt.Errorf("Redis Cluster at -redis-cluster-url does not answer after scripts/redis-cluster.sh: %v", err)
		}
	}
	c := &clusterPair{client: cl, prefix: o.redisPrefix}
	if c.one, err = startExampleApp(ctx, bin, dir, e, "exampleapp-one-redis", "-purge-interval=0"); err != nil {
		c.stop(ctx)
		return nil, err
	}
	if c.cluster, err = startExampleApp(ctx, bin, dir, e, "exampleapp-cluster", "-purge-interval=0", "-redis-url", o.redisClusterURL); err != nil {
		c.stop(ctx)
		return nil, err
	}
	return c, nil
}

// copyHot copies the session bodies of the tokens in the file tokens, and
// their users' index entries, from the bench's Redis to the cluster, with
// their expiry (the keys the kit reads and writes: see seedSessionRange).
func (c *clusterPair) copyHot(ctx context.Context, e *env, tokens string) error {
	f, err := os.Open(tokens)
	if err != nil {
		return err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key := session.Key(sc.Text())
		bodyKey := c.prefix + "session:" + key
		if seen[bodyKey] {
			continue
		}
		seen[bodyKey] = true
		body, err := redis.Bytes(e.redisDo(ctx, "GET", bodyKey))
		if err != nil {
			return fmt.Errorf("hot session %s: %w", bodyKey, err)
		}
		at, err := redis.Int64(e.redisDo(ctx, "PEXPIRETIME", bodyKey))
		if err != nil {
			return err
		}
		if _, err := redisconn.Do(ctx, c.client, "SET", bodyKey, body, "PXAT", at); err != nil {
			return err
		}
		var d session.Data
		if err := session.Decode(body, &d); err != nil {
			return fmt.Errorf("hot session %s: %w", bodyKey, err)
		}
		idx := c.prefix + "usess:" + fmt.Sprint(d.UserID)
		if _, err := redisconn.Do(ctx, c.client, "ZADD", idx, at, key); err != nil {
			return err
		}
		if _, err := redisconn.Do(ctx, c.client, "PEXPIREAT", idx, at, "GT"); err != nil {
			return err
		}
	}
	return sc.Err()
}

// targets are the pair's paths: /me by token on each app.
func (c *clusterPair) targets(tokens string, before func(context.Context) error) []target {
	one := target{Name: oneRedisPath, URL: "http://" + c.one.addr + "/api/user-center/me", Mode: "token", values: tokens, before: before, pprof: c.one.pprof, pid: c.one.cmd.Process.Pid}
	cl := target{Name: clusterPath, URL: "http://" + c.cluster.addr + "/api/user-center/me", Mode: "token", Limit: oneRedisPath, values: tokens, before: before, pprof: c.cluster.pprof, pid: c.cluster.cmd.Process.Pid,
		redisCPU: c.redisCPU}
	return []target{one, cl}
}

// redisCPU returns the CPU seconds the cluster's masters used (INFO cpu on
// each; their replicas, which only apply the few writes, are not counted).
func (c *clusterPair) redisCPU() float64 {
	total := 0.0
	_ = c.client.EachMaster(func(_ string, conn redis.Conn) error {
		s, err := redis.String(conn.Do("INFO", "cpu"))
		total += infoCPU(s)
		return err
	})
	return total
}

// pids are the pair's server processes (for the quiet-machine sampler).
func (c *clusterPair) pids() []int {
	return []int{c.one.cmd.Process.Pid, c.cluster.cmd.Process.Pid}
}

// stop ends the apps, deletes the bench's keys from every master of the
// cluster and closes it.
func (c *clusterPair) stop(ctx context.Context) {
	for _, p := range []*proc{c.one, c.cluster} {
		if p != nil {
			p.stop()
		}
	}
	n, err := c.deleteKeys(context.WithoutCancel(ctx))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: cluster clean-up:", err)
	} else if n > 0 {
		fmt.Printf("cluster: %d Redis keys deleted\n", n)
	}
	c.client.Close()
}

// deleteKeys deletes every key under the bench's prefix on each master.
func (c *clusterPair) deleteKeys(ctx context.Context) (int, error) {
	total := 0
	err := c.client.EachMaster(func(addr string, conn redis.Conn) error {
		n, err := unlinkMatching(ctx, conn, c.prefix+"*", true)
		total += n
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		return nil
	})
	return total, err
}
