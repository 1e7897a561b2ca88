package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/mna/redisc"

	"github.com/simpleuser/simpleuser/backend"
)

// Cluster is a Client on a Redis Cluster, built on github.com/mna/redisc
// (a cluster client over redigo, the kit's Redis client): one pool per
// node, each command sent to the master of its key's slot, MOVED and ASK
// redirections followed (redisc.RetryConn), the slot map refreshed after a
// MOVED and after a node fails to answer (so a replica promoted in place of
// a dead master is found without a restart).
//
// It never reads from replicas (no READONLY): codes, attempt counters and
// sessions must be read as last written, and a replica lags its master.
// Every command on one connection goes to one slot's master; a multi-key
// command or script must keep its keys in one slot (hash tags, see
// docs/backends.md, "Redis Cluster").
type Cluster struct {
	rc             *redisc.Cluster
	durable        int
	durableTimeout time.Duration
	refreshing     atomic.Bool
	lastRefresh    atomic.Int64 // UnixNano of the last refresh started
	mapped         atomic.Bool  // a refresh has succeeded once
}

var _ Client = (*Cluster)(nil)

// Cluster URL schemes (Options.URL).
const (
	ClusterScheme    = "redis-cluster"
	ClusterTLSScheme = "rediss-cluster"
)

// redirections is the most attempts one command makes on a cluster
// (following MOVED / ASK, waiting out TRYAGAIN tryAgainDelay each time).
const (
	redirections  = 5
	tryAgainDelay = 50 * time.Millisecond
	// refreshEvery is the shortest time between two slot-map refreshes
	// started by failed commands.
	refreshEvery = 100 * time.Millisecond
)

// IsClusterURL reports whether raw names a Redis Cluster (scheme
// redis-cluster or rediss-cluster).
func IsClusterURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	return ok && (scheme == ClusterScheme || scheme == ClusterTLSScheme)
}

// NewCluster returns a Cluster for o.URL,
// redis-cluster://[user:password@]host:port[,host:port...][/][?durable=N&durable_timeout=D]
// (rediss-cluster:// for TLS): the seed nodes (any of the cluster's nodes;
// the others are learnt from CLUSTER SLOTS), credentials shared by every
// node, and the WAIT knob of Options.DurableReplicas and DurableTimeout (the
// URL's values win over o's). A path other than "" or "/" or "/0" is an
// error: a cluster has only database 0. o's timeouts and pool sizes apply
// to each node's pool.
//
// Like NewPool it does not connect: the slot map is read on first use (and
// by Ping), so an unreachable cluster shows up as a *backend.Error then.
func NewCluster(o Options) (*Cluster, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("redisconn: Options.URL: %w", err)
	}
	if u.Scheme != ClusterScheme && u.Scheme != ClusterTLSScheme {
		return nil, fmt.Errorf("redisconn: Options.URL: scheme %q is not %s or %s", u.Scheme, ClusterScheme, ClusterTLSScheme)
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" && p != "0" {
		return nil, fmt.Errorf("redisconn: Options.URL: a cluster has only database 0, not %q", p)
	}
	var seeds []string
	for _, h := range strings.Split(u.Host, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, fmt.Errorf("redisconn: Options.URL: seed node %q is not host:port", h)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return nil, fmt.Errorf("redisconn: Options.URL: seed node %q: bad port", h)
		}
		seeds = append(seeds, h)
	}
	q := u.Query()
	if v := q.Get("durable"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("redisconn: Options.URL: durable=%q is not a number of replicas", v)
		}
		o.DurableReplicas = n
	}
	if v := q.Get("durable_timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("redisconn: Options.URL: durable_timeout=%q is not a positive duration", v)
		}
		o.DurableTimeout = d
	}
	readTimeout := orDefault(o.ReadTimeout, DefaultReadTimeout)
	opts := []redis.DialOption{
		redis.DialConnectTimeout(orDefault(o.DialTimeout, DefaultDialTimeout)),
		redis.DialReadTimeout(readTimeout),
		redis.DialWriteTimeout(orDefault(o.WriteTimeout, DefaultWriteTimeout)),
		redis.DialKeepAlive(keepAlive),
		redis.DialUseTLS(u.Scheme == ClusterTLSScheme),
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			opts = append(opts, redis.DialUsername(name))
		}
		if pw, ok := u.User.Password(); ok {
			opts = append(opts, redis.DialPassword(pw))
		}
	}
	c := &Cluster{durable: o.DurableReplicas, durableTimeout: orDefault(o.DurableTimeout, DefaultDurableTimeout)}
	dialTimeout := orDefault(o.DialTimeout, DefaultDialTimeout)
	c.rc = &redisc.Cluster{
		StartupNodes: seeds,
		DialOptions:  opts,
		PoolWaitTime: WaitTimeout,
		CreatePool: func(addr string, opts ...redis.DialOption) (*redis.Pool, error) {
			dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
			return newPool(o, func(ctx context.Context) (redis.Conn, error) {
				var sock net.Conn
				keep := redis.DialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
					s, err := dialer.DialContext(ctx, network, addr)
					sock = s
					return s, err
				})
				conn, err := redis.DialContext(ctx, "tcp", addr, append(opts[:len(opts):len(opts)], keep)...)
				if err != nil {
					return nil, err
				}
				return watch(conn, sock, readTimeout), nil
			}), nil
		},
	}
	return c, nil
}

// GetContext returns a connection not yet bound to a node: its first
// command goes to the master of the slot of its first argument (any node
// when it has none), and it follows redirections. It runs Do and DoContext
// only (no pipelining). Do, Eval and Get bind it to the right slot first.
func (c *Cluster) GetContext(ctx context.Context) (redis.Conn, error) {
	return c.conn(ctx, false)
}

// conn returns a connection bound to the master of keys' slot (keys[0]'s;
// unbound when none), from the node's pool, or dialled for it alone when
// fresh, wrapped in redisc.RetryConn.
func (c *Cluster) conn(ctx context.Context, fresh bool, keys ...string) (redis.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rc redis.Conn
	if fresh {
		var err error
		if rc, err = c.rc.Dial(); err != nil {
			return nil, err
		}
	} else {
		rc = c.rc.Get()
	}
	if len(keys) > 0 {
		if err := redisc.BindConn(rc, keys[0]); err != nil {
			rc.Close()
			return nil, err
		}
	}
	retry, err := redisc.RetryConn(rc, redirections, tryAgainDelay)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return ctxConn{retry}, nil
}

// ctxConn gives a redisc.RetryConn the redis.ConnWithContext methods that
// redis.DoContext and Script.DoContext need. RetryConn has no per-command
// timeout: each attempt waits at most Options.ReadTimeout (the node
// connections' read timeout), and ctx is checked before the command.
type ctxConn struct{ redis.Conn }

// DoContext runs cmd unless ctx has already ended.
func (c ctxConn) DoContext(ctx context.Context, cmd string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.Do(cmd, args...)
}

// ReceiveContext is not supported (no pipelining on a RetryConn).
func (c ctxConn) ReceiveContext(context.Context) (any, error) { return c.Receive() }

// wait sends WAIT on conn (bound to the master that took the write) and
// fails when fewer than c.durable replicas acknowledged in time.
func (c *Cluster) wait(ctx context.Context, conn redis.Conn) error {
	n, err := redis.Int(redis.DoContext(conn, ctx, "WAIT", c.durable, c.durableTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	if n < c.durable {
		return backend.Unavailable(Name, fmt.Errorf("WAIT: %d of %d replicas acknowledged the write within %v", n, c.durable, c.durableTimeout))
	}
	return nil
}

// Refresh reads the slot map again (CLUSTER SLOTS on a known node).
// Commands refresh it by themselves after a MOVED or a failure to reach a
// node; Ping refreshes it until it has once succeeded. Errors are
// *backend.Error.
func (c *Cluster) Refresh() error {
	c.lastRefresh.Store(time.Now().UnixNano())
	if err := c.rc.Refresh(); err != nil {
		return backend.Unavailable(Name, err)
	}
	c.mapped.Store(true)
	return nil
}

// refreshSoon starts a background refresh unless one runs or one started
// less than refreshEvery ago.
func (c *Cluster) refreshSoon() {
	if time.Since(time.Unix(0, c.lastRefresh.Load())) < refreshEvery || !c.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.refreshing.Store(false)
		_ = c.Refresh()
	}()
}

// refreshAfter refreshes the slot map of a cluster c in the background
// after err said a node could not serve (unreachable, CLUSTERDOWN, ...):
// the slot may have moved to a promoted replica, which only the map shows
// (a dead node sends no MOVED).
func refreshAfter(c Client, err error) {
	if cl, ok := c.(*Cluster); ok && err != nil && backend.Name(err) != "" {
		cl.refreshSoon()
	}
}

// EachMaster calls fn with a connection to each master the slot map knows
// (the seed nodes before the first refresh), stopping at fn's first error,
// which it returns. The connection is not a RetryConn: it stays on its
// node. For per-node work: SCAN, DBSIZE, INFO.
func (c *Cluster) EachMaster(fn func(addr string, conn redis.Conn) error) error {
	if !c.mapped.Load() {
		_ = c.Refresh()
	}
	return c.rc.EachNode(false, fn)
}

// Close closes every node's pool.
func (c *Cluster) Close() error { return c.rc.Close() }

// ping checks that the cluster can serve every slot: CLUSTER INFO on one
// node says cluster_state:ok, and every master answers PING.
func (c *Cluster) ping(ctx context.Context) error {
	if !c.mapped.Load() {
		if err := c.Refresh(); err != nil {
			return err
		}
	}
	info, err := redis.String(Do(ctx, c, "CLUSTER", "INFO"))
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return backend.Unavailable(Name, errors.New("CLUSTER INFO: cluster_state is not ok"))
	}
	err = c.EachMaster(func(addr string, conn redis.Conn) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := conn.Do("PING"); err != nil {
			return fmt.Errorf("master %s: %w", addr, err)
		}
		return nil
	})
	if err != nil {
		c.refreshSoon()
		return backend.Unavailable(Name, err)
	}
	return nil
}

// SplitBySlot groups keys by cluster slot, in their first-seen order, for
// multi-key commands (DEL, MGET) that a cluster runs only within one slot.
// On any other Client it returns keys as one group.
func SplitBySlot(c Client, keys []string) [][]string {
	if len(keys) == 0 {
		return nil
	}
	if _, ok := c.(*Cluster); !ok {
		return [][]string{keys}
	}
	return redisc.SplitBySlot(keys...)
}

// Slot is the Redis Cluster hash slot of key (CRC16 of its hash tag, or of
// the key, modulo 16384).
func Slot(key string) int { return redisc.Slot(key) }
