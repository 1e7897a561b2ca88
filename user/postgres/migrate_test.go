package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user"
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
	if got := count(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'simpleuser_%'`); got != 15 {
		t.Errorf("%d simpleuser_ tables in the schema, want 15 (users, identities, email conflicts, migrations, passkeys, passkey handles; mfa totp, recovery, settings, devices; tenants, tenant memberships, roles; admin audit, admin keys)", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'simpleuser_users'`); got != 8 {
		t.Errorf("%d indexes on simpleuser_users, want 8 (pkey + email key, ssaid, anonymous idle, unregister time, unkeyed, phone, created (admin search))", got)
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

// migrateTo applies the kit's migrations up to and including version v on
// pool's fresh schema, as a release of that version would have left it.
func migrateTo(t *testing.T, pool *pgxpool.Pool, v int) {
	t.Helper()
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var upTo []migration
	for _, m := range ms {
		if m.version <= v {
			upTo = append(upTo, m)
		}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := migrateTx(ctx, tx, []plan{{KitComponent, upTo}}); err != nil {
		t.Fatalf("migrations up to %d: %v", v, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMigrate0004Upgrade: on a table written under migrations 0001-0003
// (lower(email) unique), the upgrade gives every address its key, in
// batches; addresses that now share a key (NFD and NFC, an IDN domain
// typed in Unicode and in punycode), within one batch and across batches,
// all survive: the oldest keeps the key, the others are recorded in
// simpleuser_email_conflicts, as are addresses with no key. Resolving a
// conflict and migrating again gives the remaining user its key.
func TestMigrate0004Upgrade(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := t.Context()
	migrateTo(t, pool, 3)
	// 2,498 plain users and the interesting ones (three batches); ids are
	// explicit so that one pair straddles a batch boundary and one shares
	// a batch.
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (id, email, created_at, updated_at)
		SELECT i, 'User' || i || '@Example.com', now(), now() FROM generate_series(1, 2500) AS i
		WHERE i NOT IN (10, 1500)`); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		id    int64
		email string
	}{
		{10, "jos\u00e9@example.com"},       // NFC, batch 1
		{1500, "jose\u0301@example.com"},    // NFD, batch 2: same key as 10
		{2601, "ada@bücher.example"},        // batch 3
		{2602, "Ada@xn--bcher-kva.example"}, // same batch, same key as 2601
		{2603, "\u212Aate@example.com"},     // Kelvin sign: no key
		{2604, "p\u0430ypal@example.com"},   // mixed scripts: no key
		{2605, "zoë@example.com"},           // non-ASCII, alone: keyed
	}
	for _, r := range rows {
		if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (id, email, created_at, updated_at) VALUES ($1, $2, now(), now())`, r.id, r.email); err != nil {
			t.Fatalf("insert %q: %v", r.email, err)
		}
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 2498+len(rows) {
		t.Errorf("%d users after the upgrade, want %d: none lost", n, 2498+len(rows))
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE id <= 2500 AND id NOT IN (10, 1500)
		AND email_key = 'user' || id || '@example.com'`); n != 2498 {
		t.Errorf("%d of the 2,498 plain users have their key", n)
	}
	type conflict struct {
		UserID   int64
		Key      *string
		HolderID *int64
		Reason   string
	}
	got, err := pgx.CollectRows(must(pool.Query(ctx, `SELECT user_id, email_key, holder_id, reason
		FROM simpleuser_email_conflicts ORDER BY user_id`)), pgx.RowToStructByPos[conflict])
	if err != nil {
		t.Fatal(err)
	}
	ptr := func(s string) *string { return &s }
	id := func(i int64) *int64 { return &i }
	want := []conflict{
		{1500, ptr("jos\u00e9@example.com"), id(10), "duplicate"},
		{2602, ptr("ada@xn--bcher-kva.example"), id(2601), "duplicate"},
		{2603, nil, nil, "invalid"},
		{2604, nil, nil, "invalid"},
	}
	if jsonOf(got) != jsonOf(want) {
		t.Errorf("conflicts =\n%s\nwant\n%s", jsonOf(got), jsonOf(want))
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE id IN (10, 2601, 2605) AND email_key IS NOT NULL`); n != 3 {
		t.Errorf("%d of the 3 keepers have their key", n)
	}

	// The store finds the keeper under either spelling; the other user
	// stays writable with its address unchanged.
	s := New(pool)
	for _, e := range []string{"jose\u0301@example.com", "jos\u00e9@EXAMPLE.com"} {
		if u, err := s.GetByEmail(ctx, e); err != nil || u.ID != 10 {
			t.Errorf("GetByEmail(%q) = %v, %v; want user 10", e, u, err)
		}
	}
	dup, err := s.Get(ctx, 1500)
	if err != nil {
		t.Fatal(err)
	}
	dup.Metadata = map[string]any{"note": "duplicate"}
	if err := s.Update(ctx, dup); err != nil {
		t.Errorf("Update of the unkeyed duplicate, address unchanged: %v", err)
	}
	if err := s.TouchActive(ctx, 1500, "192.0.2.1", time.Now()); err != nil {
		t.Errorf("TouchActive of the unkeyed duplicate: %v", err)
	}

	// Resolution: the keeper of josé goes, the keeper of the IDN address
	// moves to another address; the next Migrate keys both others.
	if err := s.Delete(ctx, 10); err != nil {
		t.Fatal(err)
	}
	keeper, err := s.Get(ctx, 2601)
	if err != nil {
		t.Fatal(err)
	}
	keeper.Email = "ada@elsewhere.example"
	if err := s.Update(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	for _, tc := range []struct {
		email string
		id    int64
	}{{"jos\u00e9@example.com", 1500}, {"ada@bücher.example", 2602}} {
		if u, err := s.GetByEmail(ctx, tc.email); err != nil || u.ID != tc.id {
			t.Errorf("after resolving: GetByEmail(%q) = %v, %v; want user %d", tc.email, u, err, tc.id)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_email_conflicts`); n != 2 {
		t.Errorf("%d conflicts left, want the 2 invalid addresses", n)
	}
}

// TestEmailKeyGuard: what a kit older than migration 0004 writes (an
// address without its key) is refused, whether a registration or an
// address change; what it writes without touching the address is not; a
// session that defers keys may import addresses without one, which the
// next Migrate keys.
func TestEmailKeyGuard(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := t.Context()
	u := &user.User{Email: "old@example.com"}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	for what, sql := range map[string]string{
		"old-kit INSERT of an address":          `INSERT INTO simpleuser_users (email, created_at, updated_at) VALUES ('new@example.com', now(), now())`,
		"old-kit INSERT of a non-ASCII address": `INSERT INTO simpleuser_users (email, created_at, updated_at) VALUES ('zoë@example.com', now(), now())`,
		"old-kit address change":                `UPDATE simpleuser_users SET email = 'changed@example.com', version = version + 1 WHERE email = 'old@example.com'`,
		"a key that is not the address's":       `INSERT INTO simpleuser_users (email, email_key, created_at, updated_at) VALUES ('a@example.com', 'b@example.com', now(), now())`,
	} {
		_, err := pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" || !errors.Is(mapErr("x", err), user.ErrInvalidEmail) {
			t.Errorf("%s: err = %v, want the guard's check violation", what, err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE simpleuser_users SET email = 'old@example.com', login_time = now(), version = version + 1 WHERE id = $1`, u.ID); err != nil {
		t.Errorf("old-kit Update leaving the address as it was: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (email, email_key, created_at, updated_at)
		VALUES ('Ascii@Example.com', simpleuser_email_key_ascii('Ascii@Example.com'), now(), now())`); err != nil {
		t.Errorf("INSERT with simpleuser_email_key_ascii: %v", err)
	}

	// A bulk import that defers keys.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL simpleuser.defer_email_key = on`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO simpleuser_users (email, created_at, updated_at)
		VALUES ('Imported@Bücher.example', now(), now()), ('imported@xn--bcher-kva.example', now(), now())`); err != nil {
		t.Fatalf("deferred import: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetByEmail(ctx, "imported@bücher.example"); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("before Migrate the import has no key yet: GetByEmail err = %v", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetByEmail(ctx, "imported@bücher.example")
	if err != nil || got.Email != "Imported@Bücher.example" {
		t.Errorf("after Migrate: GetByEmail = %v, %v; want the first imported row", got, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_email_conflicts WHERE reason = 'duplicate'`); n != 1 {
		t.Errorf("%d duplicate conflicts, want the second imported spelling", n)
	}
}

// TestMigrateVersionTableUpgrade: a simpleuser_migrations table of a
// release without components (version as primary key) keeps its rows,
// gains the component column, and the missing migrations then run.
func TestMigrateVersionTableUpgrade(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := t.Context()
	migrateTo(t, pool, 3)
	if _, err := pool.Exec(ctx, `ALTER TABLE simpleuser_migrations DROP COLUMN component;
		ALTER TABLE simpleuser_migrations ADD CONSTRAINT simpleuser_migrations_pkey PRIMARY KEY (version);
		UPDATE simpleuser_migrations SET applied_at = '2020-01-01'`); err != nil {
		t.Fatalf("make the old table: %v", err)
	}
	if err := Migrate(ctx, pool, Source{Component: "app", Funcs: []Func{{1, "0001_nothing", func(context.Context, pgx.Tx) error { return nil }}}}); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations WHERE component = 'simpleuser'`); n != len(ms) {
		t.Errorf("%d kit versions recorded, want %d", n, len(ms))
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations WHERE component = 'simpleuser' AND version <= 3 AND applied_at = '2020-01-01'`); n != 3 {
		t.Errorf("%d of the 3 old rows kept as they were", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_migrations WHERE component = 'app' AND version = 1`); n != 1 {
		t.Error("the app's version 1 is not recorded apart from the kit's")
	}
	// A kit of the older release still records its versions (the column
	// has the kit's name as default).
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_migrations (version, name) VALUES (99, 'old-kit')`); err != nil {
		t.Errorf("an old kit's INSERT: %v", err)
	}
}

// TestMigrateSources: an app's SQL files and Go functions run after the
// kit's, in version order, once; a failing one rolls back everything,
// the kit's migrations included; bad sources are refused before anything
// runs.
func TestMigrateSources(t *testing.T) {
	ctx := t.Context()
	var order []string
	app := Source{
		Component: "app",
		FS: fstest.MapFS{
			"0001_notes.sql":  {Data: []byte(`CREATE TABLE app_notes (user_id bigint REFERENCES simpleuser_users(id) ON DELETE CASCADE, body text)`)},
			"0003_index.sql":  {Data: []byte(`CREATE INDEX app_notes_user_idx ON app_notes (user_id)`)},
			"sub/ignored.sql": {Data: []byte(`not sql`)},
		},
		Funcs: []Func{{2, "0002_seed", func(ctx context.Context, tx pgx.Tx) error {
			order = append(order, "0002")
			_, err := tx.Exec(ctx, `INSERT INTO app_notes (body) VALUES ('seeded')`)
			return err
		}}},
	}

	pool := testenv.Postgres(t)
	if err := Migrate(ctx, pool, app); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool, app); err != nil {
		t.Fatal(err)
	}
	if len(order) != 1 {
		t.Errorf("the Go migration ran %d times, want once", len(order))
	}
	if n := count(t, pool, `SELECT count(*) FROM app_notes`); n != 1 {
		t.Errorf("app_notes has %d rows, want 1", n)
	}
	var names string
	if err := pool.QueryRow(ctx, `SELECT string_agg(version || ' ' || name, ', ' ORDER BY version) FROM simpleuser_migrations WHERE component = 'app'`).Scan(&names); err != nil || names != "1 0001_notes.sql, 2 0002_seed, 3 0003_index.sql" {
		t.Errorf("app versions recorded: %q (%v)", names, err)
	}

	// A failure rolls back the kit's migrations too.
	fresh := testenv.Postgres(t)
	failing := Source{Component: "app", Funcs: []Func{{1, "0001_fails", func(context.Context, pgx.Tx) error { return errors.New("boom") }}}}
	if err := Migrate(ctx, fresh, failing); err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "0001_fails") {
		t.Errorf("Migrate with a failing app migration: %v", err)
	}
	if n := count(t, fresh, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`); n != 0 {
		t.Errorf("%d tables after a failed Migrate, want none", n)
	}

	for name, bad := range map[string][]Source{
		"kit's component":   {{Component: KitComponent}},
		"empty component":   {{Component: ""}},
		"twice":             {{Component: "a"}, {Component: "a"}},
		"badly named file":  {{Component: "a", FS: fstest.MapFS{"notes.sql": {Data: []byte("SELECT 1")}}}},
		"duplicate version": {{Component: "a", FS: fstest.MapFS{"0001_a.sql": {}}, Funcs: []Func{{1, "0001_b", func(context.Context, pgx.Tx) error { return nil }}}}},
		"func without Up":   {{Component: "a", Funcs: []Func{{Version: 1, Name: "x"}}}},
	} {
		if err := Migrate(ctx, fresh, bad...); err == nil {
			t.Errorf("%s: Migrate accepted it", name)
		}
	}
	if n := count(t, fresh, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`); n != 0 {
		t.Errorf("%d tables after refused sources, want none", n)
	}
}

func must(rows pgx.Rows, err error) pgx.Rows {
	if err != nil {
		panic(err)
	}
	return rows
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestKeyEmailsConcurrentRegistration: a registration that takes a key
// while Migrate is giving it to an unkeyed user does not fail Migrate:
// the registration keeps it and the unkeyed user is recorded as a
// duplicate.
func TestKeyEmailsConcurrentRegistration(t *testing.T) {
	_, pool := newTestStore(t)
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL simpleuser.defer_email_key = on;
		INSERT INTO simpleuser_users (email, created_at, updated_at) VALUES ('race@example.com', now(), now())`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The registration, not committed yet: Migrate's write of the same key
	// waits for it.
	reg, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Rollback(ctx) }()
	var regID int64
	if err := reg.QueryRow(ctx, `INSERT INTO simpleuser_users (email, email_key, created_at, updated_at)
		VALUES ('Race@example.com', 'race@example.com', now(), now()) RETURNING id`).Scan(&regID); err != nil {
		t.Fatal(err)
	}
	app := "keyrace-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	mig := poolOn(t, pool, "", func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["application_name"] = app })
	done := make(chan error, 1)
	go func() { done <- Migrate(context.Background(), mig) }()
	for {
		var waiting bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock')`, app).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Migrate finished (%v) without waiting for the registration", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := reg.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	var holder int64
	var reason string
	if err := pool.QueryRow(ctx, `SELECT holder_id, reason FROM simpleuser_email_conflicts c JOIN simpleuser_users u ON u.id = c.user_id
		WHERE u.email = 'race@example.com'`).Scan(&holder, &reason); err != nil || holder != regID || reason != "duplicate" {
		t.Errorf("conflict of the unkeyed user: holder %d reason %q (%v), want holder %d, duplicate", holder, reason, err, regID)
	}
}
