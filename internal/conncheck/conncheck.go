// Package conncheck tells, without a round trip, whether the server at the
// other end of an idle connection has closed it: one non-blocking peek at
// the socket, as github.com/go-sql-driver/mysql's conncheck does (it reads;
// this peeks, so a caller can still read what is waiting). The pools of the
// Redis and PostgreSQL backends run it when they hand out an idle
// connection, so that a connection the server closed (a restart, a failover,
// an idle timeout) is replaced before any command is sent on it.
package conncheck

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// ErrPending is returned by Check when bytes wait to be read on an idle
// connection: the server sent something unasked (a shutdown notice, a
// notification...). The connection may still be usable; the caller decides.
var ErrPending = errors.New("conncheck: data waiting on an idle connection")

// Raw returns the socket under c (under TLS, the TCP connection below it),
// or false when c offers none (net.Pipe, a custom net.Conn).
func Raw(c net.Conn) (syscall.RawConn, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	return raw, true
}

// Check peeks at the socket raw without blocking or consuming anything, and
// returns nil when the connection is open with nothing to read, io.EOF when
// the server closed it, ErrPending when bytes wait, or the socket's error
// (ECONNRESET...). On platforms without the check it returns nil. It costs
// one system call (about 0.6 µs); call it only on an idle connection.
func Check(raw syscall.RawConn) error { return check(raw) }
