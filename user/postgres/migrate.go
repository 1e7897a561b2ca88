package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_xact_lock key every Migrate takes, so
// instances starting at once apply the migrations one after the other. It is
// "simpleus" read as a big-endian int64; it is database-wide, so migrations
// of different schemas of one database also take turns.
const migrationLockKey int64 = 0x73696d706c657573

// migration is one embedded SQL file, named NNNN_description.sql.
type migration struct {
	version int
	name    string // file name
	sql     string
}

// migrations returns the embedded migrations ordered by version.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("postgres: migration file %q is not named NNNN_description.sql", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// Migrate creates or upgrades the kit's tables in the pool's database (in the
// first schema of its search_path). It is idempotent and safe to run from
// every instance at start-up:
//
//   - everything happens in one transaction, so a failed migration leaves
//     the schema as it was;
//   - the transaction first takes pg_advisory_xact_lock on a fixed key, so
//     concurrent Migrate calls (several instances starting at once) wait for
//     each other instead of racing on CREATE TABLE; the lock is released by
//     the commit or rollback;
//   - applied versions are recorded in the table simpleuser_migrations
//     (version, name, applied_at), and only the missing ones run, in order.
//
// The migrations run without statement_timeout (a large table may need
// longer than a request does): bound them with ctx. Waiting for the advisory
// lock ignores lock_timeout; the migrations themselves keep it, so DDL that
// would queue behind long-running queries fails instead of blocking every
// request. Versions recorded by a newer release are left alone.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return mapErr("migrate: begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	if err := migrateTx(ctx, tx, ms); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr("migrate: commit", err)
	}
	return nil
}

func migrateTx(ctx context.Context, tx pgx.Tx, ms []migration) error {
	var lockTimeout string
	if err := tx.QueryRow(ctx, `SELECT current_setting('lock_timeout')`).Scan(&lockTimeout); err != nil {
		return mapErr("migrate: read lock_timeout", err)
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"disable statement_timeout", `SELECT set_config('statement_timeout', '0', true)`, nil},
		{"disable lock_timeout", `SELECT set_config('lock_timeout', '0', true)`, nil},
		{"take advisory lock", `SELECT pg_advisory_xact_lock($1)`, []any{migrationLockKey}},
		{"restore lock_timeout", `SELECT set_config('lock_timeout', $1, true)`, []any{lockTimeout}},
		{"create simpleuser_migrations", `CREATE TABLE IF NOT EXISTS simpleuser_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`, nil},
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return mapErr("migrate: "+s.what, err)
		}
	}

	rows, err := tx.Query(ctx, `SELECT version FROM simpleuser_migrations`)
	if err != nil {
		return mapErr("migrate: read applied versions", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return mapErr("migrate: read applied versions", err)
	}
	for _, m := range ms {
		if slices.Contains(applied, int32(m.version)) {
			continue
		}
		// Exec without arguments uses the simple protocol, so a file may
		// hold several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return mapErr("migrate: apply "+m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO simpleuser_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return mapErr("migrate: record "+m.name, err)
		}
	}
	return nil
}
