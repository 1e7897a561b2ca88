package integration

import (
	"context"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// warmRedis leaves n idle connections in in's Redis pool, as a burst of
// concurrent requests would.
func warmRedis(t *testing.T, in *instance, n int) {
	t.Helper()
	conns := make([]redis.Conn, n)
	for i := range conns {
		conns[i] = in.rp.Get()
		if _, err := conns[i].Do("PING"); err != nil {
			t.Fatalf("warming the pool: %v", err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if idle := in.rp.Stats().IdleCount; idle < n {
		t.Fatalf("%d idle connections after warming, want >= %d", idle, n)
	}
}

// cycle makes 4 sequential requests touching every Redis store — send-code
// (cooldown script, code SET), login by code (attempt window, code read and
// compare-and-delete, session body and index), /me with the token (session
// read), logout (session and index delete) — and returns their statuses.
func cycle(t *testing.T, in *instance, mb *mailbox) []int {
	t.Helper()
	email, dev := "restart-"+uniq()+"@example.com", nextSSAID("restart")
	var out []int
	add := func(r rq) *reply {
		rep := in.do(t, r)
		out = append(out, rep.status)
		return rep
	}
	add(rq{method: "POST", path: "/send-code/send", ssaid: dev, ip: nextIP(),
		body: map[string]any{"email": email, "codePurpose": "Login"}})
	login := add(rq{method: "POST", path: "/login", ssaid: dev, ip: nextIP(),
		body: map[string]any{"email": email, "code": mb.last(email, "Login")}})
	tok := login.str("token")
	add(rq{method: "GET", path: "/user-center/me", ssaid: dev, token: tok})
	add(rq{method: "POST", path: "/user-center/logout", ssaid: dev, token: tok})
	return out
}

// TestRedisRestartNoStale503: after Redis restarts, the connections idle in
// the pool are dead; the next requests must get fresh ones, not a 503 (SPEC
// §7). Three restarts, each followed by 100 sequential requests on every
// Redis store, with 8 idle pooled connections at each restart.
func TestRedisRestartNoStale503(t *testing.T) {
	be := newBackends(t)
	srv := testenv.StartRedisServer(t)
	mb := newMailbox()
	in := be.newInstance(t, "restart", mb, instOpts{redisAddr: srv.Addr(), redis: redisShort})

	dev := nextSSAID("before")
	tokBefore, _ := in.register(t, mb, dev, "before-"+uniq()+"@example.com", "")
	const trials, perTrial = 3, 100
	total := map[int]int{}
	for trial := range trials {
		warmRedis(t, in, 8)
		srv.Restart()
		got := map[int]int{}
		for n := 0; n < perTrial; {
			for _, status := range cycle(t, in, mb) {
				got[status]++
				n++
			}
		}
		t.Logf("restart %d: statuses of the next %d requests: %v", trial+1, perTrial, got)
		for s, n := range got {
			total[s] += n
		}
	}
	if total[503] != 0 || total[200] != trials*perTrial {
		t.Errorf("statuses over %d restarts × %d requests: %v, want every request 200 (no 503 from stale pooled connections)", trials, perTrial, total)
	}
	// The server kept nothing on disk: the session made before the restarts
	// is gone, an honest 401, not a 503.
	in.me(t, dev, tokBefore).want(t, 401, "INVALID_TOKEN")
}

// TestRedisGoneStays503: a server that is down (not restarted) still fails
// closed on every endpoint that needs it, pooled connections included; once
// it is back the same instance serves with no 503.
func TestRedisGoneStays503(t *testing.T) {
	be := newBackends(t)
	srv := testenv.StartRedisServer(t)
	mb := newMailbox()
	in := be.newInstance(t, "gone", mb, instOpts{redisAddr: srv.Addr(), redis: redisShort})
	f := prepare(t, in, mb)
	warmRedis(t, in, 8)
	srv.Kill()
	runProbes(t, in, "redis", f.probes("redis"))
	srv.Start()
	got := map[int]int{}
	for range 5 {
		for _, status := range cycle(t, in, mb) {
			got[status]++
		}
	}
	if got[200] != 20 {
		t.Errorf("statuses after the server came back: %v, want 20 × 200", got)
	}
}

// warmPG leaves every connection in in's PostgreSQL pool (MaxConns) idle.
func warmPG(t *testing.T, in *instance) {
	t.Helper()
	ctx := context.Background()
	n := int(in.pg.Config().MaxConns)
	var conns []*pgxpool.Conn
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := in.pg.Acquire(ctx)
		if err != nil {
			t.Fatalf("warming the pool: %v", err)
		}
		conns = append(conns, c)
	}
}

// TestPostgresBounceNoStale503: every connection to PostgreSQL is cut and
// the server is back at once (a proxy or pooler restart; the shared server
// itself is never restarted). The pool's idle connections are dead; the
// next 100 sequential requests must not answer 503.
func TestPostgresBounceNoStale503(t *testing.T) {
	be := newBackends(t)
	pgp := testenv.NewProxy(t, realPG(t))
	mb := newMailbox()
	// A patient connect timeout: this test is about stale connections, not
	// about a loaded machine's slow connects.
	in := be.newInstance(t, "bounce", mb, instOpts{pgAddr: pgp.Addr(), pgParams: map[string]string{"connect_timeout": "10"}})
	in.register(t, mb, nextSSAID("before"), "before-"+uniq()+"@example.com", "")
	const trials, perTrial = 3, 100
	total := map[int]int{}
	for trial := range trials {
		warmPG(t, in)
		if idle, n := in.pg.Stat().IdleConns(), in.pg.Config().MaxConns; idle != n {
			t.Fatalf("%d idle connections after warming, want %d", idle, n)
		}
		pgp.Stop()
		pgp.Start()
		start := time.Now()
		got := map[int]int{}
		for n := 0; n < perTrial; {
			for _, status := range cycle(t, in, mb) {
				got[status]++
				n++
			}
		}
		t.Logf("bounce %d: statuses of the next %d requests: %v (%v)", trial+1, perTrial, got, time.Since(start))
		for s, n := range got {
			total[s] += n
		}
	}
	if total[503] != 0 || total[200] != trials*perTrial {
		t.Errorf("statuses over %d bounces × %d requests: %v, want every request 200", trials, perTrial, total)
	}
}
