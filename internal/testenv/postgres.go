package testenv

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultDatabaseURL is the database tests use when DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test"

// DatabaseURL returns DATABASE_URL, or DefaultDatabaseURL when it is unset.
func DatabaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultDatabaseURL
}

// Postgres returns a pool on DatabaseURL whose connections all use a fresh,
// empty schema sutest_<random> (search_path), so a test can create tables
// (e.g. with postgres.Migrate) without seeing any other test's. When the
// test ends the pool is closed and the schema dropped with everything in it.
//
// If PostgreSQL cannot be reached the test fails with a message naming the
// URL, or is skipped when SIMPLEUSER_SKIP_BACKENDS=1.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := DatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cc, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("testenv: DATABASE_URL: %v", err)
	}
	if cc.ConnectTimeout <= 0 {
		cc.ConnectTimeout = 3 * time.Second
	}
	admin, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		unreachable(t, "testenv: PostgreSQL at %s is unreachable: %v; start it, e.g. pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", redact(cc), err)
	}
	schema := "sutest_" + randomSuffix(8)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		t.Fatalf("testenv: create schema %s: %v", schema, err)
	}
	admin.Close(ctx)

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("testenv: DATABASE_URL: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		dropSchema(t, cc, schema)
		t.Fatalf("testenv: pool: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		dropSchema(t, cc, schema)
	})
	return pool
}

// dropSchema drops schema and everything in it on a connection of its own.
func dropSchema(t testing.TB, cc *pgx.ConnConfig, schema string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Errorf("testenv: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		t.Errorf("testenv: drop schema %s: %v", schema, err)
	}
}

// redact names the server of cc without its password.
func redact(cc *pgx.ConnConfig) string {
	return "postgres://" + cc.User + "@" + cc.Host + ":" + strconv.Itoa(int(cc.Port)) + "/" + cc.Database
}

// PostgresURL creates a fresh schema like Postgres and returns a database
// URL whose connections use it (search_path as a runtime parameter), for
// code under test that opens its own pool (e.g. the exampleapp's
// -database-url). The schema is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pool := Postgres(t) // creates the schema and registers its cleanup
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	u, err := url.Parse(DatabaseURL())
	if err != nil {
		t.Fatalf("testenv: DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
