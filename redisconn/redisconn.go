// Package redisconn builds the Client the Redis backends share (a redigo
// connection pool on one server, or a Redis Cluster client built on
// github.com/mna/redisc) and runs commands on it so that every connection
// failure surfaces as a *backend.Error: the kit fails closed, it never
// mistakes an unreachable server for "not found".
//
// The pool also recovers cleanly when the server restarts: a connection the
// server closed is dropped when borrowed, before any command is sent on it
// (a non-blocking read of its socket, no round trip), and Do and Eval send a
// command once more on a new connection when its connection is lost under
// it, if that cannot change the outcome (see Do and Idempotent).
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
)

// Name is the backend name carried by the errors of this package.
const Name = "redis"

// Defaults applied by NewPool to zero Options fields.
const (
	DefaultDialTimeout  = 2 * time.Second
	DefaultReadTimeout  = 2 * time.Second
	DefaultWriteTimeout = 2 * time.Second
	DefaultMaxIdle      = DefaultMaxActive // idle = active: closing and redialling under load costs ~10% CPU
	DefaultMaxActive    = 64
)

// WaitTimeout bounds how long Get (and so Do and Eval) waits for a free
// connection when the pool is at MaxActive and the context has no earlier
// deadline.
const WaitTimeout = 2 * time.Second

// idleTimeout closes connections idle for longer; pingAfter is the idle time
// after which a borrowed connection is checked with PING first; keepAlive is
// the TCP keep-alive period of every connection (redigo's default).
const (
	idleTimeout = 5 * time.Minute
	pingAfter   = 3 * time.Second
	keepAlive   = 5 * time.Minute
)

// DefaultPrefix is the key prefix every Redis store of the kit uses when
// given "": one namespace for sessions, codes and risk counters.
const DefaultPrefix = "simpleuser:"

// Options configures NewPool. Zero values mean the defaults above.
type Options struct {
	// URL is redis://[user:password@]host:port[/db] (rediss:// for TLS) for
	// one server, or
	// redis-cluster://[user:password@]host:port[,host:port...][?durable=N&durable_timeout=D]
	// (rediss-cluster:// for TLS) for a Redis Cluster, given by one or more
	// seed nodes (see NewCluster). Only New and NewCluster accept the
	// cluster schemes.
	URL string
	// DialTimeout bounds connecting; ReadTimeout and WriteTimeout bound each
	// command on a connection.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// MaxIdle is the number of idle connections kept (default: MaxActive,
	// so a burst's connections are reused rather than closed and redialled);
	// MaxActive caps open connections. At the cap, callers wait at most
	// WaitTimeout.
	MaxIdle, MaxActive int
	// DurableReplicas, on a cluster only, is the number of replicas that
	// must acknowledge a write that must survive a failover (sessions,
	// codes: see DoDurable) before it counts as done, with the WAIT
	// command; 0 (the default) does not wait: Redis replicates
	// asynchronously, and a master that dies right after a write loses it
	// (docs/backends.md, "Redis Cluster"). The URL's durable=N sets it.
	DurableReplicas int
	// DurableTimeout bounds each WAIT (default DefaultDurableTimeout; the
	// URL's durable_timeout=100ms sets it). Fewer acknowledgements by then
	// fail the write as unavailable.
	DurableTimeout time.Duration
}

// DefaultDurableTimeout is the default Options.DurableTimeout.
const DefaultDurableTimeout = 500 * time.Millisecond

// NewPool returns a pool for o.URL (redis:// or rediss://; New also takes
// a cluster URL). It does not connect: an unreachable
// server shows up as a *backend.Error on first use, and the same pool
// recovers by itself once the server is back.
func NewPool(o Options) (*redis.Pool, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("redisconn: Options.URL: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss":
	default:
		return nil, fmt.Errorf("redisconn: Options.URL: scheme %q is not redis or rediss", u.Scheme)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("redisconn: Options.URL: database %q is not a number", db)
		}
	}
	dialer := &net.Dialer{Timeout: orDefault(o.DialTimeout, DefaultDialTimeout), KeepAlive: keepAlive}
	readTimeout := orDefault(o.ReadTimeout, DefaultReadTimeout)
	dialOpts := []redis.DialOption{
		redis.DialReadTimeout(readTimeout),
		redis.DialWriteTimeout(orDefault(o.WriteTimeout, DefaultWriteTimeout)),
	}
	rawURL := o.URL
	return newPool(o, func(ctx context.Context) (redis.Conn, error) {
		var sock net.Conn
		keep := redis.DialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			sock = c
			return c, err
		})
		c, err := redis.DialURLContext(ctx, rawURL, append(dialOpts[:len(dialOpts):len(dialOpts)], keep)...)
		if err != nil {
			return nil, err
		}
		return watch(c, sock, readTimeout), nil
	}), nil
}

// newPool is the pool of NewPool, and of each node of a Cluster, on dial.
func newPool(o Options, dial func(context.Context) (redis.Conn, error)) *redis.Pool {
	return &redis.Pool{
		DialContext:         dial,
		TestOnBorrowContext: testOnBorrow,
		MaxIdle:             orDefault(o.MaxIdle, orDefault(o.MaxActive, DefaultMaxIdle)),
		MaxActive:           orDefault(o.MaxActive, DefaultMaxActive),
		IdleTimeout:         idleTimeout,
		Wait:                true,
	}
}

// testOnBorrow vets an idle connection the pool is about to hand out: one
// whose server closed it (a restart, an idle timeout on the server, a
// proxy) is dropped without a round trip (see alive), and one idle for
// pingAfter or more must answer PING, which also catches a half-open
// connection. A dropped connection is replaced by a new one, so no command
// is sent on a connection already known to be dead. The peek is skipped for
// a borrow by Do or Eval whose command run sends again on a new connection
// after a lost one (resendableKey): on a dead connection its first attempt
// fails and the resend answers, and on a live one (every borrow under load)
// it saves the peek's system call.
func testOnBorrow(ctx context.Context, c redis.Conn, idleSince time.Time) error {
	fresh := time.Since(idleSince) < pingAfter
	if fresh && ctx.Value(resendableKey{}) != nil {
		return nil // a lost connection costs this command a resend, not an error
	}
	if err := alive(c); err != nil {
		return err
	}
	if fresh {
		return nil
	}
	_, err := redis.DoContext(c, ctx, "PING")
	return err
}

func orDefault[T time.Duration | int](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Client is what the Redis stores run their commands on: a *redis.Pool
// on one server (NewPool; any *redis.Pool works) or a *Cluster on a Redis
// Cluster (NewCluster). New picks one from a URL. The stores take a Client,
// so a single Redis stays one line (coderedis.New(pool, "")).
//
// Do, Eval and Get route each command: on a pool every command goes to its
// one server; on a cluster to the master of the slot of the command's key
// (the script's first key for Eval), following MOVED and ASK redirections.
// Another implementation gets its connections from GetContext alone.
type Client interface {
	// GetContext returns a connection, waiting for a free one until ctx
	// ends. The caller must Close it.
	GetContext(ctx context.Context) (redis.Conn, error)
	// Close releases the client's connections.
	Close() error
}

var _ Client = (*redis.Pool)(nil)

// New returns the Client for o.URL: a *Cluster for redis-cluster:// and
// rediss-cluster:// (NewCluster), a *redis.Pool otherwise (NewPool).
func New(o Options) (Client, error) {
	if IsClusterURL(o.URL) {
		return NewCluster(o)
	}
	return NewPool(o)
}

// Get borrows a connection for commands on keys (all of one cluster slot;
// none: any node, or a pool's one server), waiting at most WaitTimeout (or
// until ctx ends) for a free one. The caller must Close it. On a *Cluster
// it runs only Do (no pipelining) and follows redirections. Errors are
// *backend.Error, but ctx's cancellation, returned as it is (see Wrap).
func Get(ctx context.Context, c Client, keys ...string) (redis.Conn, error) {
	if p, ok := c.(*redis.Pool); ok && !mayWait(p) {
		// A connection is free: no wait to bound, so no timer (a fresh
		// timer per command was 3% of a session read's CPU). Should the
		// free ones be taken meanwhile, the wait ends when one comes back,
		// which each command's read timeout bounds.
		conn, err := p.GetContext(ctx)
		if err != nil {
			return nil, Wrap(err)
		}
		return conn, nil
	}
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	var conn redis.Conn
	var err error
	if cl, ok := c.(*Cluster); ok {
		conn, err = cl.conn(wctx, false, keys...)
	} else {
		conn, err = c.GetContext(wctx)
	}
	if err != nil {
		return nil, Wrap(err)
	}
	return conn, nil
}

// mayWait reports whether borrowing from p could wait for a connection:
// p waits at MaxActive and every connection it may open is in use.
func mayWait(p *redis.Pool) bool {
	if !p.Wait || p.MaxActive <= 0 {
		return false
	}
	st := p.Stats()
	return st.ActiveCount-st.IdleCount >= p.MaxActive
}

// Do runs one command on a connection of c, bounded by ctx and the read
// timeout. Network and pool errors are wrapped with Wrap. On a cluster the
// command goes to the master of its first argument's slot (the key; any
// node for a command without arguments).
//
// When the connection turns out to be lost while the command runs (the
// server restarted or closed it after the pool's borrow check), Do sends
// the command once more on a new connection if that cannot change the
// outcome: always when the command could not be written in full (the
// server never ran it), and after a lost reply only for the commands listed
// by Idempotent. A timeout, a refused dial or a second loss is returned.
func Do(ctx context.Context, c Client, cmd string, args ...any) (any, error) {
	return run(c, &op{ctx: ctx, cmd: cmd, args: args})
}

// DoDurable is Do for a write that must survive the loss of the master
// that took it: on a *Cluster with Options.DurableReplicas set, it then
// sends WAIT on the same connection and fails (a *backend.Error, so a 503)
// when fewer replicas than asked acknowledged the write within
// Options.DurableTimeout. The write itself stays on the master either way.
// Elsewhere it is Do.
func DoDurable(ctx context.Context, c Client, cmd string, args ...any) (any, error) {
	o := op{ctx: ctx, cmd: cmd, args: args}
	if cl, ok := c.(*Cluster); ok && cl.durable > 0 {
		o.wait = cl
	}
	return run(c, &o)
}

// Eval runs a Lua script (EVALSHA, falling back to EVAL) on a connection of
// c. keysAndArgs holds the script's keys, then its arguments (for a script
// made with key count -1, the count first, as redigo wants it); on a
// cluster every key must be in one slot and the script runs on that slot's
// master. A lost connection is handled as by Do; after a lost reply the
// script is run again only if it was registered with Idempotent.
func Eval(ctx context.Context, c Client, script *redis.Script, keysAndArgs ...any) (any, error) {
	return run(c, &op{ctx: ctx, script: script, args: keysAndArgs})
}

// EvalDurable is Eval for a script whose writes must survive the loss of
// the master that ran it: WAIT after it, as DoDurable.
func EvalDurable(ctx context.Context, c Client, script *redis.Script, keysAndArgs ...any) (any, error) {
	o := op{ctx: ctx, script: script, args: keysAndArgs}
	if cl, ok := c.(*Cluster); ok && cl.durable > 0 {
		o.wait = cl
	}
	return run(c, &o)
}

// op is one command (or script) that run sends, described by value rather
// than by closures, so that a call allocates nothing of its own.
type op struct {
	ctx    context.Context
	cmd    string        // the command; "" for a script
	script *redis.Script // the script, when cmd is ""
	args   []any         // the command's arguments, or the script's keys and arguments
	wait   *Cluster      // non-nil: WAIT for its durable replicas after a success
}

// send runs o on conn.
func (o *op) send(conn redis.Conn) (any, error) {
	var reply any
	var err error
	if o.script != nil {
		reply, err = o.script.DoContext(o.ctx, conn, o.args...)
	} else {
		reply, err = redis.DoContext(conn, o.ctx, o.cmd, o.args...)
	}
	if err != nil || o.wait == nil {
		return reply, err
	}
	return reply, o.wait.wait(o.ctx, conn)
}

// sendOn runs o on conn and closes conn, whatever happens.
func (o *op) sendOn(conn redis.Conn) (any, error) {
	defer conn.Close()
	return o.send(conn)
}

// key is the key o routes by on a cluster, "" when none.
func (o *op) key() string {
	if o.script != nil {
		return scriptKey(o.args)
	}
	return firstKey(o.args)
}

// idempotent reports whether o may run twice (see Idempotent).
func (o *op) idempotent() bool {
	if o.script != nil {
		return idempotentScript(o.script)
	}
	return idempotentCommand(o.cmd, o.args)
}

// firstKey is the key a command's arguments start with, "" when none.
func firstKey(args []any) string {
	if len(args) == 0 {
		return ""
	}
	return keyString(args[0])
}

// scriptKey is the first key of a script call: keysAndArgs[0], or
// keysAndArgs[1] when keysAndArgs[0] is the key count (scripts made with
// key count -1; the kit's keys are strings, never numbers).
func scriptKey(keysAndArgs []any) string {
	if len(keysAndArgs) > 1 {
		if _, ok := keysAndArgs[0].(int); ok {
			return keyString(keysAndArgs[1])
		}
	}
	return firstKey(keysAndArgs)
}

func keyString(a any) string {
	switch k := a.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return ""
}

// resendableKey marks the context of a borrow whose command run may send
// again on a new connection after any loss of the first (an idempotent
// command or script): testOnBorrow skips its peek for it.
type resendableKey struct{}

// resendableBackground is context.Background marked resendable, built once:
// the session store's calls (scs's signatures carry no context) borrow with
// it without allocating a context of their own.
var resendableBackground = context.WithValue(context.Background(), resendableKey{}, true)

// run runs o on a connection for its key, and once more on a new one when
// the first failed as resend allows.
func run(c Client, o *op) (any, error) {
	idempotent := o.idempotent()
	bctx := o.ctx
	switch {
	case !idempotent:
	case bctx == context.Background():
		bctx = resendableBackground
	default:
		bctx = context.WithValue(bctx, resendableKey{}, true)
	}
	var keys []string
	if _, ok := c.(*redis.Pool); !ok {
		if key := o.key(); key != "" {
			keys = []string{key}
		}
	}
	conn, err := Get(bctx, c, keys...)
	if err != nil {
		refreshAfter(c, err)
		return nil, err
	}
	reply, err := o.sendOn(conn) // closed before a resend: a lost connection leaves the pool
	if err != nil && o.ctx.Err() == nil && resend(err, idempotent) {
		reply, err = runFresh(c, keys, o)
	}
	err = Wrap(err)
	refreshAfter(c, err)
	return reply, err
}

// unavailableReplies are server error replies that mean "cannot serve now"
// rather than "bad request". OOM is a write refused at maxmemory under the
// noeviction policy (the policy docs/operations.md asks for).
var unavailableReplies = []string{"LOADING", "BUSY", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "NOREPLICAS", "MISCONF", "OOM"}

// Wrap classifies err: nil and redis.ErrNil are returned unchanged, as are
// context.Canceled (the caller gave up: not the server's fault, and the
// service answers 499, not 503) and server error replies that describe the
// request (WRONGTYPE, a script's own error, ...); everything else (network,
// timeout, pool, a deadline, and replies such as LOADING or READONLY)
// becomes a *backend.Error for "redis".
func Wrap(err error) error {
	if err == nil || errors.Is(err, redis.ErrNil) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err // the caller gave up (a client went away); the server may be fine
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		for _, p := range unavailableReplies {
			if strings.HasPrefix(string(reply), p) {
				return backend.Unavailable(Name, err)
			}
		}
		return err
	}
	return backend.Unavailable(Name, err)
}
