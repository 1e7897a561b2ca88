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

// KitComponent is the component name of the kit's own migrations in
// simpleuser_migrations; no Source may use it.
const KitComponent = "simpleuser"

// Source is one component's migrations, which Migrate applies after the
// kit's own, under the same advisory lock and in the same transaction, and
// records in simpleuser_migrations under Component. An app keeps its schema
// (tables linked to simpleuser_users, say) this way, so that instances
// starting at once never race on its DDL either:
//
//	//go:embed migrations/*.sql
//	var appMigrations embed.FS
//
//	sub, _ := fs.Sub(appMigrations, "migrations")
//	err := postgres.Migrate(ctx, pool, postgres.Source{Component: "myapp", FS: sub})
//
// Versions are per component: the app's 0001 and the kit's 0001 are
// different migrations. A version, once recorded, is never run again, so
// never edit a migration that was released: add the next one. A migration
// may not commit, roll back or take its own advisory lock on
// migrationLockKey; it runs with statement_timeout off (bound Migrate's ctx
// instead) and the pool's lock_timeout.
type Source struct {
	// Component names the owner of the migrations ("myapp",
	// "billing"...): at most 63 bytes, not KitComponent, unique among the
	// sources of one Migrate call. Required.
	Component string
	// FS holds SQL migrations at its root, each named
	// NNNN_description.sql (NNNN a positive version number). A file may
	// hold several statements (it is sent with the simple protocol, without
	// parameters). nil for none; use fs.Sub for a subdirectory.
	FS fs.FS
	// Funcs are migrations written in Go, for changes SQL cannot compute
	// (e.g. a backfill that needs a Go function). Their versions share one
	// sequence with FS's files.
	Funcs []Func
}

// Func is a migration written in Go.
type Func struct {
	// Version orders the migration among its Source's; positive, unique.
	Version int
	// Name is recorded in simpleuser_migrations, e.g. "0005_backfill_x".
	Name string
	// Up applies the migration on tx, the Migrate transaction. Its error
	// rolls back every migration of the call.
	Up func(ctx context.Context, tx pgx.Tx) error
}

// migration is one migration of a component: SQL text or a Go function.
type migration struct {
	version int
	name    string // file name, or Func.Name
	sql     string
	up      func(ctx context.Context, tx pgx.Tx) error
}

// plan is a component's migrations, ordered by version.
type plan struct {
	component string
	ms        []migration
}

// kitSource is the kit's own migrations: the embedded SQL files and the Go
// backfill of email keys (see emailkeys.go).
func kitSource() Source {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return Source{
		Component: KitComponent,
		FS:        sub,
		Funcs:     []Func{{Version: 5, Name: "0005_email_key_backfill", Up: backfillEmailKeys}},
	}
}

// migrations returns the kit's migrations ordered by version.
func migrations() ([]migration, error) { return kitSource().migrations() }

// migrations reads s's files and functions and orders them by version.
func (s Source) migrations() ([]migration, error) {
	var ms []migration
	if s.FS != nil {
		entries, err := fs.ReadDir(s.FS, ".")
		if err != nil {
			return nil, fmt.Errorf("postgres: migrations of %q: %w", s.Component, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() {
				continue
			}
			num, _, ok := strings.Cut(name, "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil || v <= 0 || path.Ext(name) != ".sql" {
				return nil, fmt.Errorf("postgres: migration file %q of %q is not named NNNN_description.sql", name, s.Component)
			}
			b, err := fs.ReadFile(s.FS, name)
			if err != nil {
				return nil, err
			}
			ms = append(ms, migration{version: v, name: name, sql: string(b)})
		}
	}
	for _, f := range s.Funcs {
		if f.Version <= 0 || f.Name == "" || f.Up == nil {
			return nil, fmt.Errorf("postgres: Go migration %d %q of %q needs a positive Version, a Name and Up", f.Version, f.Name, s.Component)
		}
		ms = append(ms, migration{version: f.Version, name: f.Name, up: f.Up})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %q and %q of %q share version %d", ms[i-1].name, ms[i].name, s.Component, ms[i].version)
		}
	}
	return ms, nil
}

// plans checks the sources and returns the kit's plan followed by theirs.
func plans(sources []Source) ([]plan, error) {
	all := append([]Source{kitSource()}, sources...)
	var ps []plan
	for i, s := range all {
		switch {
		case s.Component == "" || len(s.Component) > 63:
			return nil, fmt.Errorf("postgres: Source %d: Component must be 1 to 63 bytes", i)
		case i > 0 && s.Component == KitComponent:
			return nil, fmt.Errorf("postgres: Source %d: Component %q is the kit's own", i, KitComponent)
		case slices.ContainsFunc(ps, func(p plan) bool { return p.component == s.Component }):
			return nil, fmt.Errorf("postgres: Source %d: Component %q given twice", i, s.Component)
		}
		ms, err := s.migrations()
		if err != nil {
			return nil, err
		}
		ps = append(ps, plan{component: s.Component, ms: ms})
	}
	return ps, nil
}

// Migrate creates or upgrades the kit's tables in the pool's database (in the
// first schema of its search_path), then applies the migrations of each of
// sources, the app's own (see Source), in the order given. It is idempotent
// and safe to run from every instance at start-up:
//
//   - everything happens in one transaction, so a failed migration (the
//     kit's or an app's) leaves the schema as it was;
//   - the transaction first takes pg_advisory_xact_lock on a fixed key, so
//     concurrent Migrate calls (several instances starting at once) wait for
//     each other instead of racing on CREATE TABLE; the lock is released by
//     the commit or rollback;
//   - applied versions are recorded in the table simpleuser_migrations
//     (component, version, name, applied_at), and only the missing ones
//     run, in version order per component, the kit's first.
//
// The migrations run without statement_timeout (a large table may need
// longer than a request does): bound them with ctx. Waiting for the advisory
// lock ignores lock_timeout; the migrations themselves keep it, so DDL that
// would queue behind long-running queries fails instead of blocking every
// request. Versions recorded by a newer release are left alone.
//
// Each run also gives their email key to the users that lack one (rows
// imported with keys deferred, or left without one by a collision that has
// since been resolved) and records those that still cannot have one in
// simpleuser_email_conflicts; when that table holds rows, Migrate logs a
// warning with their number through slog.Default. See docs/schema.md.
func Migrate(ctx context.Context, pool *pgxpool.Pool, sources ...Source) error {
	ps, err := plans(sources)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return mapErr("migrate: begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	if err := migrateTx(ctx, tx, ps); err != nil {
		return err
	}
	conflicts, err := keyEmails(ctx, tx)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr("migrate: commit", err)
	}
	logConflicts(ctx, conflicts)
	return nil
}

func migrateTx(ctx context.Context, tx pgx.Tx, ps []plan) error {
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
			component  text NOT NULL DEFAULT 'simpleuser',
			version    integer NOT NULL,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now(),
			CONSTRAINT simpleuser_migrations_pkey PRIMARY KEY (component, version)
		)`, nil},
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return mapErr("migrate: "+s.what, err)
		}
	}
	if err := upgradeVersionTable(ctx, tx); err != nil {
		return err
	}

	rows, err := tx.Query(ctx, `SELECT component, version FROM simpleuser_migrations`)
	if err != nil {
		return mapErr("migrate: read applied versions", err)
	}
	type applied struct {
		component string
		version   int32
	}
	done, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (applied, error) {
		var a applied
		err := r.Scan(&a.component, &a.version)
		return a, err
	})
	if err != nil {
		return mapErr("migrate: read applied versions", err)
	}
	for _, p := range ps {
		for _, m := range p.ms {
			if slices.Contains(done, applied{p.component, int32(m.version)}) {
				continue
			}
			what := fmt.Sprintf("migrate: apply %s %s", p.component, m.name)
			if m.up != nil {
				if err := m.up(ctx, tx); err != nil {
					return mapErr(what, err)
				}
			} else if _, err := tx.Exec(ctx, m.sql); err != nil {
				// Exec without arguments uses the simple protocol, so a
				// file may hold several statements.
				return mapErr(what, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO simpleuser_migrations (component, version, name) VALUES ($1, $2, $3)`,
				p.component, m.version, m.name); err != nil {
				return mapErr(fmt.Sprintf("migrate: record %s %s", p.component, m.name), err)
			}
		}
	}
	return nil
}

// upgradeVersionTable adds the component column to a simpleuser_migrations
// table created by a kit release that knew only its own migrations: the
// existing rows are the kit's, and the primary key becomes (component,
// version). A kit of that older release keeps working on the upgraded
// table: its INSERT gets the column's default, the kit's name.
func upgradeVersionTable(ctx context.Context, tx pgx.Tx) error {
	var has bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = 'simpleuser_migrations'::regclass AND attname = 'component' AND NOT attisdropped)`).Scan(&has); err != nil {
		return mapErr("migrate: inspect simpleuser_migrations", err)
	}
	if has {
		return nil
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE simpleuser_migrations
		ADD COLUMN component text NOT NULL DEFAULT 'simpleuser',
		DROP CONSTRAINT simpleuser_migrations_pkey,
		ADD CONSTRAINT simpleuser_migrations_pkey PRIMARY KEY (component, version)`); err != nil {
		return mapErr("migrate: add component to simpleuser_migrations", err)
	}
	return nil
}
