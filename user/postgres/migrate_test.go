package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

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
	if got := count(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'simpleuser_%'`); got != 4 {
		t.Errorf("%d simpleuser_ tables in the schema, want 4 (users, identities, email conflicts, migrations)", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'simpleuser_users'`); got != 6 {
		t.Errorf("%d indexes on simpleuser_users, want 6 (pkey + email key, ssaid, anonymous idle, unregister time, unkeyed)", got)
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

// TestMigrate0003Upgrade: on a table written under migrations 0001-0002,
// 0003 fills last_active_hour for the existing rows, sets the fillfactor and
// swaps the purge index, and PurgeAnonymous then finds the stale anonymous
// users it found before.
func TestMigrate0003Upgrade(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 || ms[2].name != "0003_hot_touch.sql" {
		t.Fatalf("migrations = %+v, want 0003_hot_touch.sql third", ms)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTx(ctx, tx, []plan{{KitComponent, ms[:2]}}); err != nil {
		t.Fatalf("migrations 0001-0002: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Ten anonymous users: odd ones last active 40 days ago at 10:25 UTC,
	// even ones never active and created 1 day ago.
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (ssaid, last_active_time, created_at, updated_at)
		SELECT 'pre-' || i,
			CASE WHEN i % 2 = 1 THEN date_trunc('day', now() - interval '40 days', 'UTC') + interval '10 hours 25 minutes' END,
			now() - interval '50 days' + CASE WHEN i % 2 = 0 THEN interval '49 days' ELSE interval '0' END,
			now()
		FROM generate_series(1, 10) AS i`); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate to 0003: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users
		WHERE last_active_hour IS NOT DISTINCT FROM date_trunc('hour', last_active_time, 'UTC')
			AND (last_active_time IS NULL OR extract(minute FROM last_active_hour AT TIME ZONE 'UTC') = 0)`); n != 10 {
		t.Errorf("%d of 10 rows have last_active_hour = last_active_time truncated to the UTC hour", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM pg_class
		WHERE oid = 'simpleuser_users'::regclass AND 'fillfactor=90' = ANY (reloptions)`); n != 1 {
		t.Error("simpleuser_users has no fillfactor=90")
	}
	if n := count(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname IN ('simpleuser_users_anon_idle_idx', 'simpleuser_users_anon_activity_idx')`); n != 1 {
		t.Errorf("%d purge indexes, want 1", n)
	}
	n, err := New(pool).PurgeAnonymous(ctx, time.Now().Add(-30*24*time.Hour), 100)
	if err != nil || n != 5 {
		t.Errorf("PurgeAnonymous after the upgrade = %d, %v; want the 5 users idle for 40 days", n, err)
	}
}
