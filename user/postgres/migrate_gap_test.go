package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// TestMigrateVersionGap: a database migrated while a kit version was
// missing (0008, the passkey tables, applied before 0007 existed) gets that
// version on a later Migrate, and nothing applied runs again. Version 7 is
// the real one when the kit has it, else a stand-in.
func TestMigrateVersionGap(t *testing.T) {
	pool := testenv.Postgres(t)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var without []migration
	seven := migration{version: 7, name: "0007_stand_in.sql", sql: `CREATE TABLE simpleuser_gap_stand_in (x int)`}
	for _, m := range ms {
		if m.version == 7 {
			seven = m
			continue
		}
		without = append(without, m)
	}
	if without[len(without)-1].version < 8 {
		t.Fatalf("the kit's last migration is %s: this test expects 0008", without[len(without)-1].name)
	}
	apply(t, pool, without)
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations WHERE version = 7`); n != 0 {
		t.Fatalf("version 7 recorded before it was applied")
	}
	apply(t, pool, append(append([]migration{}, without...), seven)) // 0008 would fail if run again (CREATE TABLE)
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations WHERE version = 7 AND name = $1`, seven.name); n != 1 {
		t.Errorf("version 7 recorded %d times after the later Migrate, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations`); n != len(without)+1 {
		t.Errorf("%d versions recorded, want %d", n, len(without)+1)
	}
}

// apply runs migrateTx with the kit's plan ms and commits.
func apply(t *testing.T, pool *pgxpool.Pool, ms []migration) {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := migrateTx(ctx, tx, []plan{{KitComponent, sortedByVersion(ms)}}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func sortedByVersion(ms []migration) []migration {
	out := append([]migration{}, ms...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].version < out[j-1].version; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
