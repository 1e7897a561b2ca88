package postgres

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// Ping answers nil while PostgreSQL is there, a *backend.Error for
// "postgres" when it is refused or silent (within ctx's deadline), and nil
// again once it is back; PingTarget names the store's pool.
func TestPing(t *testing.T) {
	base := testenv.Postgres(t)
	cc := base.Config().ConnConfig
	p := testenv.NewProxy(t, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)))
	pool := poolOn(t, base, p.Addr(), nil)
	s := New(pool)
	if name, target := s.PingTarget(); name != "postgres" || target != any(pool) {
		t.Fatalf("PingTarget = %q, %v", name, target)
	}
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		return s.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("Ping while up: %v", err)
	}
	p.Freeze()
	wantUnavailable(t, "Ping while silent", ping())
	p.Thaw()
	p.Stop()
	wantUnavailable(t, "Ping while refused", ping())
	p.Start()
	deadline := time.Now().Add(10 * time.Second)
	for err := ping(); err != nil; err = ping() {
		if time.Now().After(deadline) {
			t.Fatalf("Ping after the outage: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
