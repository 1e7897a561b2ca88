package redisconn

import (
	"context"
	"net"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

// fullConn is what redigo's connections implement and its pool uses.
type fullConn interface {
	redis.ConnWithTimeout
	redis.ConnWithContext
}

// watchedConn is a connection of the kit's pools: it keeps its socket, so
// that the pool can see on borrow whether the server has closed it (alive),
// and its read timeout, so that DoContext runs in the caller's goroutine.
type watchedConn struct {
	fullConn
	raw         syscall.RawConn
	readTimeout time.Duration
}

// watch pairs c, dialled with read timeout readTimeout, with its socket
// sock (nil when unknown): the pool's borrow check then looks at the socket
// (see alive).
func watch(c redis.Conn, sock net.Conn, readTimeout time.Duration) redis.Conn {
	fc, ok := c.(fullConn)
	if !ok || sock == nil {
		return c
	}
	raw, ok := conncheck.Raw(sock)
	if !ok {
		return c
	}
	return &watchedConn{fullConn: fc, raw: raw, readTimeout: readTimeout}
}

// DoContext runs cmd in the calling goroutine, its reply awaited until the
// connection's read timeout or ctx's deadline, whichever comes first. An
// ended ctx is seen before the command is sent; once sent, the command runs
// to its reply or its timeout (a cancellation alone does not cut it short,
// and the reply of a command that ran is returned).
//
// redigo's own DoContext runs every command on a goroutine of its own so
// that a cancellation can abandon it: a goroutine, a channel and two
// switches per command, a fifth of the example app's CPU on a session read
// (docs/performance.md). A Redis command answers in microseconds or times
// out, so the kit bounds it by the socket's deadline alone.
func (c *watchedConn) DoContext(ctx context.Context, cmd string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := c.readTimeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		if timeout <= 0 || left < timeout {
			timeout = left
		}
	}
	return c.DoWithTimeout(timeout, cmd, args...)
}

// alive reports, without a round trip, whether an idle pooled connection
// can still be used: a peek at its socket (one system call, see
// internal/conncheck) finds the end of stream or reset a server leaves when
// it closes the connection or restarts. Bytes waiting also fail it: Redis
// sends nothing unasked on a RESP2 connection, so the stream is out of step
// (or the server is saying goodbye). A connection that is not a
// watchedConn, or a platform without the check, passes. Under TLS (rediss)
// the check peeks at the TCP socket below TLS: a TLS record the server sends
// unasked (a late session ticket) also fails it, which costs a new
// connection, not an error.
func alive(c redis.Conn) error {
	wc, ok := c.(*watchedConn)
	if !ok {
		return nil
	}
	return conncheck.Check(wc.raw)
}
