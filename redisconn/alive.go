package redisconn

import (
	"errors"
	"net"
	"syscall"

	"github.com/gomodule/redigo/redis"
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
	sc, ok2 := sock.(syscall.Conn)
	if !ok || !ok2 {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &watchedConn{fullConn: fc, raw: raw}
}

// errUnexpectedRead: an idle connection had bytes to read. Redis sends
// nothing unasked on a RESP2 connection, so the stream is out of step (or
// the server is saying goodbye); the connection is not reused.
var errUnexpectedRead = errors.New("redisconn: unexpected data on an idle connection")

// alive reports, without a round trip, whether an idle pooled connection
// can still be used: a non-blocking read on its socket (one system call)
// finds the end of stream or reset a server leaves when it closes the
// connection or restarts. A connection that is not a watchedConn, or a
// platform without the check, passes. Under TLS (rediss) the check reads
// the TCP socket below TLS: a TLS record the server sends unasked (a late
// session ticket) also fails it, which costs a new connection, not an error.
func alive(c redis.Conn) error {
	wc, ok := c.(*watchedConn)
	if !ok {
		return nil
	}
	return connCheck(wc.raw)
}
