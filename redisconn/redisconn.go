// Package redisconn builds the redigo connection pool the Redis backends
// share and runs commands on it so that every connection failure surfaces as
// a *backend.Error: the kit fails closed, it never mistakes an unreachable
// server for "not found".
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
	// URL is redis://[user:password@]host:port[/db] (rediss:// for TLS).
	URL string
	// DialTimeout bounds connecting; ReadTimeout and WriteTimeout bound each
	// command on a connection.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// MaxIdle is the number of idle connections kept (default: MaxActive,
	// so a burst's connections are reused rather than closed and redialled);
	// MaxActive caps open connections. At the cap, callers wait at most
	// WaitTimeout.
	MaxIdle, MaxActive int
}

// NewPool returns a pool for o.URL. It does not connect: an unreachable
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
	dialOpts := []redis.DialOption{
		redis.DialReadTimeout(orDefault(o.ReadTimeout, DefaultReadTimeout)),
		redis.DialWriteTimeout(orDefault(o.WriteTimeout, DefaultWriteTimeout)),
	}
	rawURL := o.URL
	return &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
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
			return watch(c, sock), nil
		},
		TestOnBorrowContext: testOnBorrow,
		MaxIdle:             orDefault(o.MaxIdle, orDefault(o.MaxActive, DefaultMaxIdle)),
		MaxActive:           orDefault(o.MaxActive, DefaultMaxActive),
		IdleTimeout:         idleTimeout,
		Wait:                true,
	}, nil
}

// testOnBorrow vets an idle connection the pool is about to hand out: one
// whose server closed it (a restart, an idle timeout on the server, a
// proxy) is dropped without a round trip (see alive), and one idle for
// pingAfter or more must answer PING, which also catches a half-open
// connection. A dropped connection is replaced by a new one, so no command
// is sent on a connection already known to be dead.
func testOnBorrow(ctx context.Context, c redis.Conn, idleSince time.Time) error {
	if err := alive(c); err != nil {
		return err
	}
	if time.Since(idleSince) < pingAfter {
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

// Get borrows a connection, waiting at most WaitTimeout (or until ctx ends)
// for a free one. The caller must Close it. Errors are *backend.Error, but
// ctx's cancellation, returned as it is (see Wrap).
func Get(ctx context.Context, pool *redis.Pool) (redis.Conn, error) {
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	conn, err := pool.GetContext(wctx)
	if err != nil {
		return nil, Wrap(err)
	}
	return conn, nil
}

// Do runs one command on a pooled connection, bounded by ctx and the pool's
// read timeout. Network and pool errors are wrapped with Wrap.
//
// When the connection turns out to be lost while the command runs (the
// server restarted or closed it after the pool's borrow check), Do sends
// the command once more on a new connection if that cannot change the
// outcome: always when the command could not be written in full (the
// server never ran it), and after a lost reply only for the commands listed
// by Idempotent. A timeout, a refused dial or a second loss is returned.
func Do(ctx context.Context, pool *redis.Pool, cmd string, args ...any) (any, error) {
	return run(ctx, pool, func(c redis.Conn) (any, error) {
		return redis.DoContext(c, ctx, cmd, args...)
	}, func() bool { return idempotentCommand(cmd, args) })
}

// Eval runs a Lua script (EVALSHA, falling back to EVAL) on a pooled
// connection. keysAndArgs holds the script's keys, then its arguments. A
// lost connection is handled as by Do; after a lost reply the script is run
// again only if it was registered with Idempotent.
func Eval(ctx context.Context, pool *redis.Pool, script *redis.Script, keysAndArgs ...any) (any, error) {
	return run(ctx, pool, func(c redis.Conn) (any, error) {
		return script.DoContext(ctx, c, keysAndArgs...)
	}, func() bool { return idempotentScript(script) })
}

// run runs f on a pooled connection, and once more on a new one when the
// first failed as resend allows.
func run(ctx context.Context, pool *redis.Pool, f func(redis.Conn) (any, error), idempotent func() bool) (any, error) {
	conn, err := Get(ctx, pool)
	if err != nil {
		return nil, err
	}
	reply, err := func() (any, error) {
		defer conn.Close() // before a resend: a lost connection leaves the pool
		return f(conn)
	}()
	if err != nil && ctx.Err() == nil && resend(err, idempotent) {
		reply, err = runFresh(ctx, pool, f)
	}
	return reply, Wrap(err)
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
