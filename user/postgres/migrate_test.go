package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "0001_users.sql" {
		t.Fatalf("migrations = %+v, want 0001_users.sql first", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			t.Errorf("migrations out of order: %s after %s", ms[i].name, ms[i-1].name)
		}
	}
}

// TestMigrateTwice: a second Migrate applies nothing and changes nothing.
func TestMigrateTwice(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	s := New(pool)
	if _, err := s.GetOrCreateAnonymous(ctx, "kept", s.now()); err != nil {
		t.Fatal(err)
	}
	var appliedAt1 string
	if err := pool.QueryRow(ctx, `SELECT string_agg(version || '@' || applied_at, ',' ORDER BY version) FROM simpleuser_migrations`).Scan(&appliedAt1); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var appliedAt2 string
	if err := pool.QueryRow(ctx, `SELECT string_agg(version || '@' || applied_at, ',' ORDER BY version) FROM simpleuser_migrations`).Scan(&appliedAt2); err != nil {
		t.Fatal(err)
	}
	if appliedAt1 != appliedAt2 {
		t.Errorf("second Migrate re-applied: %s, then %s", appliedAt1, appliedAt2)
	}
	ms, _ := migrations()
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations`); n != len(ms) {
		t.Errorf("simpleuser_migrations has %d rows, want %d", n, len(ms))
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 1 {
		t.Errorf("users after second Migrate = %d, want 1 (data kept)", n)
	}
}

// TestMigrateConcurrent: instances starting at once on an empty schema all
// succeed (the advisory lock serialises them) and leave one set of tables.
func TestMigrateConcurrent(t *testing.T) {
	pool := testenv.Postgres(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = Migrate(context.Background(), pool)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	ms, _ := migrations()
	if got := count(t, pool, `SELECT count(*) FROM simpleuser_migrations`); got != len(ms) {
		t.Errorf("simpleuser_migrations has %d rows, want %d", got, len(ms))
	}
	if got := count(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'simpleuser_%'`); got != 3 {
		t.Errorf("%d simpleuser_ tables in the schema, want 3 (users, identities, migrations)", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'simpleuser_users'`); got != 5 {
		t.Errorf("%d indexes on simpleuser_users, want 5 (pkey + 4)", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'simpleuser_identities'`); got != 2 {
		t.Errorf("%d indexes on simpleuser_identities, want 2 (pkey + user_id)", got)
	}
}

// TestMigrateKeepsSessionTimeouts: Migrate lifts statement_timeout and
// lock_timeout with SET LOCAL only, so the pooled connection keeps its own.
func TestMigrateKeepsSessionTimeouts(t *testing.T) {
	pool := poolOn(t, testenv.Postgres(t), "", func(c *pgxpool.Config) {
		c.MaxConns = 1 // every statement below runs on the same connection
		c.ConnConfig.RuntimeParams["statement_timeout"] = "7s"
		c.ConnConfig.RuntimeParams["lock_timeout"] = "3s"
	})
	ctx := context.Background()
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var st, lt string
	if err := pool.QueryRow(ctx, `SELECT current_setting('statement_timeout'), current_setting('lock_timeout')`).Scan(&st, &lt); err != nil {
		t.Fatal(err)
	}
	if st != "7s" || lt != "3s" {
		t.Errorf("after Migrate: statement_timeout %q lock_timeout %q, want 7s 3s", st, lt)
	}
}
