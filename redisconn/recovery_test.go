package redisconn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// warm leaves n idle connections in pool.
func warm(t *testing.T, pool *redis.Pool, n int) {
	t.Helper()
	conns := make([]redis.Conn, n)
	for i := range conns {
		c, err := redisconn.Get(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do("PING"); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
	if idle := pool.Stats().IdleCount; idle != n {
		t.Fatalf("%d idle connections, want %d", idle, n)
	}
}

// A compare-and-delete: not idempotent, so never resent; it must still
// work right after a restart, because the borrow check drops the dead
// connections before any command is sent on them.
var cas = redis.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`)

// TestRestartLeavesNoStaleConnection: 8 connections idle when the server
// restarts; the next 100 commands (SET, GET, a non-idempotent script, and
// DEL through sessions' own borrow path, pool.Get) all succeed.
func TestRestartLeavesNoStaleConnection(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	pool := newPool(t, redisconn.Options{URL: srv.URL()})
	ctx := context.Background()
	for trial := range 3 {
		warm(t, pool, 8)
		srv.Restart()
		failed := 0
		for i := range 25 {
			key := "k" + string(rune('a'+i%26))
			steps := []func() error{
				func() error { _, err := redisconn.Do(ctx, pool, "SET", key, "v", "PX", 60000); return err },
				func() error {
					n, err := redis.Int(redisconn.Eval(ctx, pool, cas, key, "v"))
					if err == nil && n != 1 {
						err = errors.New("compare-and-delete did not delete")
					}
					return err
				},
				func() error {
					_, err := redis.Bytes(redisconn.Do(ctx, pool, "GET", key))
					if errors.Is(err, redis.ErrNil) {
						err = nil
					}
					return err
				},
				func() error { // the scs/redisstore way: pool.Get, no resend
					c := pool.Get()
					defer c.Close()
					_, err := c.Do("DEL", key)
					return err
				},
			}
			for _, step := range steps {
				if err := step(); err != nil {
					failed++
					t.Logf("restart %d, command %d: %v", trial+1, i, err)
				}
			}
		}
		if failed != 0 {
			t.Errorf("restart %d: %d of 100 commands failed, want 0", trial+1, failed)
		}
	}
}

// lossyProxy forwards to Redis, and when armed, runs the next command but
// loses its reply: the connection is closed instead, as when the server
// dies between running a command and answering.
type lossyProxy struct {
	ln       net.Listener
	target   string
	armed    atomic.Bool
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func newLossyProxy(t *testing.T, target string) *lossyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *lossyProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.wg.Go(func() { _, _ = io.Copy(server, client); server.Close() })
		p.wg.Go(func() {
			defer client.Close()
			defer server.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if err != nil {
					return
				}
				if p.armed.CompareAndSwap(true, false) {
					return // the reply is lost
				}
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
		})
	}
}

var (
	setScript  = redisconn.Idempotent(redis.NewScript(1, `redis.call('SET', KEYS[1], ARGV[1]) return 'done'`))
	incrScript = redis.NewScript(1, `return redis.call('INCR', KEYS[1])`)
)

// TestLostReplyResentOnlyWhenIdempotent: a connection lost after the
// command ran is resent on a new connection for idempotent commands and
// registered scripts, and answered as a redis *backend.Error, without a
// second run, for the others.
func TestLostReplyResentOnlyWhenIdempotent(t *testing.T) {
	shared, prefix := testenv.Redis(t)
	p := newLossyProxy(t, redisAddr(t))
	pool := newPool(t, redisconn.Options{URL: viaAddr(t, p.ln.Addr().String())})
	ctx := context.Background()
	for _, s := range []*redis.Script{setScript, incrScript} { // so the lost reply is the script's, not NOSCRIPT's
		c := shared.Get()
		if err := s.Load(c); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	get := func(key string) string {
		v, err := redis.String(redisconn.Do(ctx, shared, "GET", key))
		if err != nil && !errors.Is(err, redis.ErrNil) {
			t.Fatal(err)
		}
		return v
	}

	tests := []struct {
		name   string
		run    func(key string) (any, error)
		resent bool
		after  string // the key's value afterwards
	}{
		{"GET", func(k string) (any, error) { return redisconn.Do(ctx, pool, "GET", k) }, true, ""},
		{"SET PX", func(k string) (any, error) { return redisconn.Do(ctx, pool, "SET", k, "v", "PX", 60000) }, true, "v"},
		{"DEL", func(k string) (any, error) { return redisconn.Do(ctx, pool, "DEL", k) }, true, ""},
		{"SET NX", func(k string) (any, error) { return redisconn.Do(ctx, pool, "SET", k, "v", "NX", "PX", 60000) }, false, "v"},
		{"INCR", func(k string) (any, error) { return redisconn.Do(ctx, pool, "INCR", k) }, false, "1"},
		{"registered script", func(k string) (any, error) { return redisconn.Eval(ctx, pool, setScript, k, "w") }, true, "w"},
		{"other script", func(k string) (any, error) { return redisconn.Eval(ctx, pool, incrScript, k) }, false, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := prefix + "lost:" + tt.name
			before := p.accepted.Load()
			p.armed.Store(true)
			_, err := tt.run(key)
			dials := p.accepted.Load() - before
			if p.armed.Load() {
				t.Fatal("the proxy lost no reply")
			}
			if tt.resent {
				if err != nil || dials < 1 {
					t.Errorf("err %v after %d new connections, want success on a new connection", err, dials)
				}
			} else if backend.Name(err) != "redis" {
				t.Errorf("err %v, want a redis *backend.Error (not resent)", err)
			}
			if got := get(key); got != tt.after {
				t.Errorf("value afterwards %q, want %q (run exactly once)", got, tt.after)
			}
		})
	}
}

// BenchmarkDo is one GET through the pool, borrow check included (compare
// BenchmarkAlive for the check's share).
func BenchmarkDo(b *testing.B) {
	pool, prefix := testenv.Redis(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := redisconn.Do(ctx, pool, "GET", prefix+"bench"); err != nil {
			b.Fatal(err)
		}
	}
}
