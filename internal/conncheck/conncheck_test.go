package conncheck_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

// pair returns a connected client socket and the server's end.
func pair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func raw(t testing.TB, c net.Conn) syscall.RawConn {
	t.Helper()
	r, ok := conncheck.Raw(c)
	if !ok {
		t.Fatalf("Raw(%T) found no socket", c)
	}
	return r
}

// settle runs Check until it stops answering nil (the peer's FIN or RST
// takes a moment to arrive) or 2 s have passed.
func settle(r syscall.RawConn) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := conncheck.Check(r)
		if err != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCheck(t *testing.T) {
	t.Run("open and quiet", func(t *testing.T) {
		c, _ := pair(t)
		if err := conncheck.Check(raw(t, c)); err != nil {
			t.Fatalf("Check = %v, want nil", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		c, s := pair(t)
		s.Close()
		if err := settle(raw(t, c)); !errors.Is(err, io.EOF) {
			t.Fatalf("Check = %v, want EOF", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		c, s := pair(t)
		_ = s.SetLinger(0)
		s.Close()
		if err := settle(raw(t, c)); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("Check = %v, want ECONNRESET", err)
		}
	})
	t.Run("pending data is not consumed", func(t *testing.T) {
		c, s := pair(t)
		if _, err := s.Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if err := settle(raw(t, c)); !errors.Is(err, conncheck.ErrPending) {
			t.Fatalf("Check = %v, want ErrPending", err)
		}
		buf := make([]byte, 2)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
			t.Fatalf("read after Check = %q, %v; want \"hi\"", buf, err)
		}
	})
}

func TestRaw(t *testing.T) {
	c, _ := pair(t)
	if _, ok := conncheck.Raw(tls.Client(c, &tls.Config{})); !ok {
		t.Error("Raw(*tls.Conn) found no socket under TLS")
	}
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if _, ok := conncheck.Raw(p); ok {
		t.Error("Raw(net.Pipe) found a socket")
	}
}
