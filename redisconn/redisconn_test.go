package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// failFast is the bound every failure must be reported within.
const failFast = 3 * time.Second

// viaAddr returns REDIS_URL with its host replaced by addr.
func viaAddr(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

func newPool(t *testing.T, o redisconn.Options) *redis.Pool {
	t.Helper()
	pool, err := redisconn.NewPool(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// wantUnavailable runs do and checks it fails with a redis *backend.Error
// within failFast.
func wantUnavailable(t *testing.T, what string, do func() error) {
	t.Helper()
	start := time.Now()
	err := do()
	elapsed := time.Since(start)
	var be *backend.Error
	if !errors.As(err, &be) || be.Backend != "redis" {
		t.Fatalf("%s: err = %v (%T), want *backend.Error for redis", what, err, err)
	}
	if elapsed >= failFast {
		t.Fatalf("%s: failed after %v, want < %v", what, elapsed, failFast)
	}
	t.Logf("%s: %v after %v", what, err, elapsed.Round(time.Millisecond))
}

func TestServerGoesAwayAndComesBack(t *testing.T) {
	_, prefix := testenv.Redis(t) // cleans up the key below
	p := testenv.NewProxy(t, redisAddr(t))
	pool := newPool(t, redisconn.Options{URL: viaAddr(t, p.Addr())})
	ctx := context.Background()
	key := prefix + "probe"

	if _, err := redisconn.Do(ctx, pool, "SET", key, "v", "PX", 60000); err != nil {
		t.Fatalf("SET through proxy: %v", err)
	}

	p.Stop()
	// The idle pooled connection is dead: its command fails.
	wantUnavailable(t, "GET on killed connection", func() error {
		_, err := redisconn.Do(ctx, pool, "GET", key)
		return err
	})
	// A new connection is refused.
	wantUnavailable(t, "GET with listener closed", func() error {
		_, err := redisconn.Do(ctx, pool, "GET", key)
		return err
	})
	// ErrNil-style helpers must not turn the outage into "not found".
	_, err := redis.Bytes(redisconn.Do(ctx, pool, "GET", key))
	if errors.Is(err, redis.ErrNil) || backend.Name(err) != "redis" {
		t.Fatalf("GET via redis.Bytes while down: %v, want a redis backend error", err)
	}

	p.Start()
	got, err := redis.String(redisconn.Do(ctx, pool, "GET", key))
	if err != nil || got != "v" {
		t.Fatalf("GET after restart on the same pool = %q, %v; want \"v\"", got, err)
	}
}

func TestHungServerTimesOut(t *testing.T) {
	pool := newPool(t, redisconn.Options{URL: viaAddr(t, testenv.Blackhole(t))})
	wantUnavailable(t, "GET on a server that never answers", func() error {
		_, err := redisconn.Do(context.Background(), pool, "GET", "k")
		return err
	})
}

func TestContextDeadlineBoundsCommand(t *testing.T) {
	pool := newPool(t, redisconn.Options{URL: viaAddr(t, testenv.Blackhole(t)), ReadTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	wantUnavailable(t, "GET bounded by ctx", func() error {
		_, err := redisconn.Do(ctx, pool, "GET", "k")
		return err
	})
}

func TestExhaustedPoolDoesNotHang(t *testing.T) {
	testenv.Redis(t) // fails clearly when Redis is down
	pool := newPool(t, redisconn.Options{URL: testenv.RedisURL(), MaxActive: 1})
	ctx := context.Background()
	held, err := redisconn.Get(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	wantUnavailable(t, "Do with the only connection held", func() error {
		_, err := redisconn.Do(ctx, pool, "PING")
		return err
	})
	held.Close()
	if _, err := redisconn.Do(ctx, pool, "PING"); err != nil {
		t.Fatalf("PING after release: %v", err)
	}
}

func TestEvalAndReplyErrorsAreNotOutages(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	ctx := context.Background()
	script := redis.NewScript(0, `return redis.error_reply('boom')`)
	_, err := redisconn.Eval(ctx, pool, script)
	if err == nil || backend.Name(err) != "" {
		t.Fatalf("script error = %v, want a plain (non-backend) error", err)
	}
	if _, err := redisconn.Do(ctx, pool, "SET", prefix+"s", "x", "PX", 60000); err != nil {
		t.Fatal(err)
	}
	_, err = redisconn.Do(ctx, pool, "LPUSH", prefix+"s", "x")
	if err == nil || backend.Name(err) != "" {
		t.Fatalf("WRONGTYPE = %v, want a plain (non-backend) error", err)
	}
	n, err := redis.Int(redisconn.Eval(ctx, pool, redis.NewScript(1, `return redis.call('EXISTS', KEYS[1])`), prefix+"s"))
	if err != nil || n != 1 {
		t.Fatalf("Eval = %d, %v", n, err)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		err         error
		unavailable bool
	}{
		{nil, false},
		{redis.ErrNil, false},
		{redis.Error("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redis.Error("ERR user script error"), false},
		{redis.Error("LOADING Redis is loading the dataset in memory"), true},
		{redis.Error("READONLY You can't write against a read only replica."), true},
		{redis.Error("OOM command not allowed when used memory > 'maxmemory'."), true},
		{io.EOF, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false}, // the caller gave up: 499, not "redis unavailable"
		{fmt.Errorf("do: %w", context.Canceled), false},
		{redis.ErrPoolExhausted, true},
	}
	for _, tt := range tests {
		got := redisconn.Wrap(tt.err)
		if (backend.Name(got) == "redis") != tt.unavailable {
			t.Errorf("Wrap(%v) = %v, unavailable want %v", tt.err, got, tt.unavailable)
		}
		if !tt.unavailable && got != tt.err {
			t.Errorf("Wrap(%v) = %v, want unchanged", tt.err, got)
		}
		if tt.err != nil && !errors.Is(got, tt.err) {
			t.Errorf("Wrap(%v) lost the cause", tt.err)
		}
	}
}

func TestNewPoolValidatesURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"redis://127.0.0.1:6379/0", true},
		{"redis://:secret@localhost:6379/3", true},
		{"rediss://example.com:6380", true},
		{"localhost:6379", false},
		{"http://localhost:6379", false},
		{"redis://localhost:6379/db", false},
		{"://", false},
		{"redis://:hunter2@[::1:6379", false},
	}
	for _, tt := range tests {
		pool, err := redisconn.NewPool(redisconn.Options{URL: tt.url})
		if (err == nil) != tt.ok {
			t.Errorf("NewPool(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewPool error leaks the password: %v", err)
		}
		if err == nil {
			if pool.MaxActive != redisconn.DefaultMaxActive || pool.MaxIdle != redisconn.DefaultMaxIdle || !pool.Wait {
				t.Errorf("NewPool(%q) = MaxActive %d MaxIdle %d Wait %v, want defaults with Wait", tt.url, pool.MaxActive, pool.MaxIdle, pool.Wait)
			}
			pool.Close()
		}
	}
}

func redisAddr(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":6379"
	}
	return u.Host
}

// TestDoRunsInCallersGoroutine: a command on the kit's pool runs in the
// caller's goroutine, bounded by the socket's deadline (redigo's own
// DoContext starts a goroutine and a channel per command to watch ctx: 11
// more allocations, a fifth of a session read's CPU under load). A context
// already ended is seen before anything is sent.
func TestDoRunsInCallersGoroutine(t *testing.T) {
	testenv.Redis(t)
	pool := newPool(t, redisconn.Options{URL: testenv.RedisURL()})
	ctx := context.Background()
	key := "simpleuser-test:do-allocs"
	if _, err := redisconn.Do(ctx, pool, "SET", key, "v", "PX", 60000); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := redisconn.Do(ctx, pool, "GET", key); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 6 {
		t.Errorf("one GET through the pool: %.0f allocations, want at most 6 (no goroutine per command)", allocs)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := redisconn.Do(cancelled, pool, "SET", key, "changed"); !errors.Is(err, context.Canceled) {
		t.Fatalf("SET with an ended context: %v, want context.Canceled", err)
	}
	if v, err := redis.String(redisconn.Do(ctx, pool, "GET", key)); err != nil || v != "v" {
		t.Fatalf("after a SET with an ended context: %q, %v; want the old value (nothing sent)", v, err)
	}
}
