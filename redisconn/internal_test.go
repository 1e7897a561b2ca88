package redisconn

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

func TestResend(t *testing.T) {
	write := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
	readReset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err                error
		idempotent, always bool
	}{
		{write, true, true},
		{readReset, true, false},
		{io.EOF, true, false},
		{io.ErrUnexpectedEOF, true, false},
		{timeout, false, false},
		{dial, false, false},
		{context.DeadlineExceeded, false, false},
		{context.Canceled, false, false},
		{redis.Error("ERR boom"), false, false},
		{redis.ErrNil, false, false},
	}
	for _, tt := range tests {
		if got := resend(tt.err, true); got != tt.idempotent {
			t.Errorf("resend(%v) of an idempotent command = %v, want %v", tt.err, got, tt.idempotent)
		}
		if got := resend(tt.err, false); got != tt.always {
			t.Errorf("resend(%v) of another command = %v, want %v", tt.err, got, tt.always)
		}
	}
}

func TestIdempotentCommand(t *testing.T) {
	tests := []struct {
		cmd  string
		args []any
		want bool
	}{
		{"GET", []any{"k"}, true},
		{"get", []any{"k"}, true},
		{"SET", []any{"k", "v", "PX", 1000}, true},
		{"SET", []any{"k", "NX"}, true}, // the value "NX", no option
		{"SET", []any{"k", "v", "XX", "PXAT", 1}, true},
		{"SET", []any{"k", "v", "NX", "PX", 1000}, false},
		{"SET", []any{"k", "v", "nx"}, false},
		{"SET", []any{"k", "v", "GET"}, false},
		{"DEL", []any{"a", "b"}, true},
		{"ZREM", []any{"z", "m"}, true},
		{"INCR", []any{"k"}, false},
		{"ZADD", []any{"z", 1, "m"}, false},
		{"LPUSH", []any{"l", "x"}, false},
		{"EVAL", []any{"return 1", 0}, false},
	}
	for _, tt := range tests {
		if got := idempotentCommand(tt.cmd, tt.args); got != tt.want {
			t.Errorf("idempotentCommand(%s %v) = %v, want %v", tt.cmd, tt.args, got, tt.want)
		}
	}
}

// socketPair returns a client connection watched as the pool watches its
// connections, and the server's end.
func socketPair(t testing.TB) (redis.Conn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := watch(redis.NewConn(sock, time.Second, time.Second), sock, time.Second)
	if _, ok := c.(*watchedConn); !ok {
		t.Fatalf("watch returned %T, want *watchedConn", c)
	}
	t.Cleanup(func() { c.Close(); server.Close() })
	return c, server.(*net.TCPConn)
}

// eventually runs check until it returns nil (the peer's FIN or RST takes
// a moment to arrive), failing after 2 s.
func eventually(t *testing.T, check func() error) error {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := check()
		if err != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAlive(t *testing.T) {
	t.Run("open and quiet", func(t *testing.T) {
		c, _ := socketPair(t)
		for range 3 {
			if err := alive(c); err != nil {
				t.Fatalf("alive = %v, want nil", err)
			}
		}
	})
	t.Run("closed by the server", func(t *testing.T) {
		c, server := socketPair(t)
		server.Close()
		if err := eventually(t, func() error { return alive(c) }); !errors.Is(err, io.EOF) {
			t.Fatalf("alive = %v, want EOF", err)
		}
	})
	t.Run("reset by the server", func(t *testing.T) {
		c, server := socketPair(t)
		_ = server.SetLinger(0) // close sends RST
		server.Close()
		if err := eventually(t, func() error { return alive(c) }); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("alive = %v, want ECONNRESET", err)
		}
	})
	t.Run("unasked data", func(t *testing.T) {
		c, server := socketPair(t)
		if _, err := server.Write([]byte("-ERR bye\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := eventually(t, func() error { return alive(c) }); !errors.Is(err, conncheck.ErrPending) {
			t.Fatalf("alive = %v, want conncheck.ErrPending", err)
		}
	})
	t.Run("not watched", func(t *testing.T) {
		sock, _ := net.Pipe()
		c := redis.NewConn(sock, time.Second, time.Second)
		defer c.Close()
		if watch(c, sock, time.Second) != c || alive(c) != nil {
			t.Fatal("a connection without a socket should pass unwatched")
		}
	})
}

// BenchmarkAlive is the cost the borrow check adds to every command: one
// non-blocking read system call.
func BenchmarkAlive(b *testing.B) {
	c, _ := socketPair(b)
	for b.Loop() {
		if err := alive(c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBorrowSkipsPeekWhenResendable: a borrow for a command that run sends
// again after a lost connection gets no peek (its first attempt fails and
// the resend answers); any other borrow of a connection the server closed
// is refused.
func TestBorrowSkipsPeekWhenResendable(t *testing.T) {
	c, server := socketPair(t)
	server.Close()
	if err := eventually(t, func() error { return alive(c) }); err == nil {
		t.Fatal("alive = nil after the server closed, want an error")
	}
	resendable := context.WithValue(context.Background(), resendableKey{}, true)
	if err := testOnBorrow(resendable, c, time.Now()); err != nil {
		t.Errorf("borrow for a resendable command: %v, want nil (no peek)", err)
	}
	if err := testOnBorrow(context.Background(), c, time.Now()); err == nil {
		t.Error("borrow for any other command of a closed connection: nil, want its error")
	}
	if err := testOnBorrow(resendable, c, time.Now().Add(-pingAfter)); err == nil {
		t.Error("borrow of a closed connection idle for pingAfter: nil, want an error (checked whatever the command)")
	}
}
