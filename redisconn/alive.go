package redisconn

import (
	"net"
	"syscall"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

// fullConn is what redigo's connections implement and its pool uses.
type fullConn interface {
	redis.ConnWithTimeout
	redis.ConnWithContext
}

// watchedConn is a connection that keeps its socket, so that the pool can
// see on borrow whether the server has closed it.
type watchedConn struct {
	fullConn
	raw syscall.RawConn
}

// watch pairs c with its socket sock (nil when unknown): the pool's borrow
// check then looks at the socket (see alive).
func watch(c redis.Conn, sock net.Conn) redis.Conn {
	fc, ok := c.(fullConn)
	if !ok || sock == nil {
		return c
	}
	raw, ok := conncheck.Raw(sock)
	if !ok {
		return c
	}
	return &watchedConn{fullConn: fc, raw: raw}
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
