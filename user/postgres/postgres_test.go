package postgres

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/usertest"
)

// newTestStore returns a Store on a fresh, migrated schema of its own, and
// the pool behind it for direct SQL checks.
func newTestStore(t testing.TB) (*Store, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.Postgres(t)
	if err := Migrate(context.Background(), pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return New(pool), pool
}

// TestConformance runs the shared user.Store suite, each subtest on a fresh schema.
func TestConformance(t *testing.T) {
	usertest.Run(t, func(t *testing.T) user.Store {
		s, _ := newTestStore(t)
		return s
	})
}

// count runs a SELECT count(*) ... and returns the count.
func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// poolOn returns a second pool on the schema of base (a testenv pool), at
// host:port addr when addr is not "" (e.g. a proxy), after applying mutate to
// its config. It is closed when the test ends.
func poolOn(t testing.TB, base *pgxpool.Pool, addr string, mutate func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg := base.Config() // a copy
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(p), nil
	}
	if mutate != nil {
		mutate(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
