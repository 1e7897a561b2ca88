package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/user"
)

// TestGetOrCreateAnonymousConcurrent: 50 concurrent first requests of one
// ssaid create exactly one row, and all see it.
func TestGetOrCreateAnonymousConcurrent(t *testing.T) {
	s, pool := newTestStore(t)
	const n = 50
	ids := make([]int64, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			u, err := s.GetOrCreateAnonymous(context.Background(), "one-device", time.Now())
			errs[i] = err
			if err == nil {
				ids[i] = u.ID
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("call %d got user %d, call 0 got %d", i, ids[i], ids[0])
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE ssaid = 'one-device'`); got != 1 {
		t.Errorf("%d rows for the ssaid, want 1", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM simpleuser_users`); got != 1 {
		t.Errorf("%d rows in all, want 1", got)
	}
}

// TestGetOrCreateAnonymousReadsWithoutWriting: once the user exists, the
// statement only reads it: no new row version, version and updated_at kept.
func TestGetOrCreateAnonymousReadsWithoutWriting(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	created := time.Date(2024, 1, 2, 3, 4, 5, 678901000, time.UTC)
	a, err := s.GetOrCreateAnonymous(ctx, "dev", created)
	if err != nil {
		t.Fatal(err)
	}
	var xmin1, xmin2 string
	if err := pool.QueryRow(ctx, `SELECT xmin::text FROM simpleuser_users WHERE id = $1`, a.ID).Scan(&xmin1); err != nil {
		t.Fatal(err)
	}
	b, err := s.GetOrCreateAnonymous(ctx, "dev", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT xmin::text FROM simpleuser_users WHERE id = $1`, a.ID).Scan(&xmin2); err != nil {
		t.Fatal(err)
	}
	if xmin1 != xmin2 {
		t.Errorf("second call rewrote the row (xmin %s → %s)", xmin1, xmin2)
	}
	if b.ID != a.ID || b.Version != 1 || !b.CreatedAt.Equal(created) || !b.UpdatedAt.Equal(created) {
		t.Errorf("second call = id %d v%d created %v updated %v, want id %d v1 %v", b.ID, b.Version, b.CreatedAt, b.UpdatedAt, a.ID, created)
	}
	if _, err := s.GetOrCreateAnonymous(ctx, "", time.Now()); err == nil {
		t.Error("GetOrCreateAnonymous(\"\") succeeded")
	}
}

// TestEmailTakenCaseVariants: the unique index on lower(email) refuses every
// case variant, on Create and on Update, with user.ErrEmailTaken.
func TestEmailTakenCaseVariants(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	if err := s.Create(ctx, &user.User{Email: "Ann.Lee@Example.com"}); err != nil {
		t.Fatal(err)
	}
	other := &user.User{Email: "other@example.com"}
	if err := s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"ann.lee@example.com", "ANN.LEE@EXAMPLE.COM", "Ann.Lee@Example.com", "  ann.LEE@example.COM\t"} {
		if err := s.Create(ctx, &user.User{Email: email}); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create(%q) = %v, want ErrEmailTaken", email, err)
		}
		u := other.Clone()
		u.Email = email
		if err := s.Update(ctx, u); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Update to %q = %v, want ErrEmailTaken", email, err)
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM simpleuser_users`); got != 2 {
		t.Errorf("%d rows, want 2", got)
	}
}

// TestEmailTakenConcurrent: of concurrent Creates of one address in
// different cases exactly one wins; the others get ErrEmailTaken.
func TestEmailTakenConcurrent(t *testing.T) {
	s, pool := newTestStore(t)
	variants := []string{"race@x.com", "RACE@x.com", "Race@X.com", "race@X.COM", "rAcE@x.com", "RACE@X.COM", "race@x.Com", "Race@x.com"}
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, e := range variants {
		wg.Go(func() { errs[i] = s.Create(context.Background(), &user.User{Email: e}) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, user.ErrEmailTaken):
			t.Errorf("Create(%q) = %v, want nil or ErrEmailTaken", variants[i], err)
		}
	}
	if ok != 1 || count(t, pool, `SELECT count(*) FROM simpleuser_users`) != 1 {
		t.Errorf("%d Creates succeeded, want 1", ok)
	}
}

// TestAnonymousSSAIDTaken: creating a second anonymous user for an ssaid is
// refused with ErrConflict.
func TestAnonymousSSAIDTaken(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.GetOrCreateAnonymous(ctx, "dev", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, &user.User{SSAID: "dev"}); !errors.Is(err, user.ErrConflict) {
		t.Errorf("Create(second anonymous user of dev) = %v, want ErrConflict", err)
	}
	if err := s.Create(ctx, &user.User{SSAID: "dev", Email: "reg@x.com"}); err != nil {
		t.Errorf("Create(registered user keeping the ssaid) = %v", err)
	}
}

// TestNullMapping: "" and the zero time are stored as NULL, a nil metadata
// map as {}; times come back in UTC; the store's clock sets created_at and
// updated_at.
func TestNullMapping(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("Y", -7*3600))
	s.Now = func() time.Time { return t0 }
	u := &user.User{Email: "  n@x.com  ", LoginTime: t0}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.Email != "n@x.com" {
		t.Errorf("Create left Email %q, want it trimmed", u.Email)
	}
	want := t0.Truncate(time.Microsecond)
	if !u.CreatedAt.Equal(want) || u.CreatedAt.Location() != time.UTC || !u.UpdatedAt.Equal(want) {
		t.Errorf("CreatedAt %v UpdatedAt %v, want %v in UTC", u.CreatedAt, u.UpdatedAt, want)
	}
	var nulls int
	var meta, email string
	err := pool.QueryRow(ctx, `SELECT num_nulls(ssaid, password_hash, register_ip, register_time, login_ip,
		last_active_ip, last_active_time, unregister_time), metadata::text, email FROM simpleuser_users WHERE id = $1`, u.ID).Scan(&nulls, &meta, &email)
	if err != nil {
		t.Fatal(err)
	}
	if nulls != 8 || meta != "{}" || email != "n@x.com" {
		t.Errorf("stored: %d NULLs (want 8), metadata %s (want {}), email %q", nulls, meta, email)
	}
	got, err := s.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{"LoginTime": got.LoginTime, "CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt} {
		if !tm.Equal(want) || tm.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", name, tm, want)
		}
	}
	if got.Metadata == nil || got.RegisterTime != (time.Time{}) || got.SSAID != "" {
		t.Errorf("Get = %+v", got)
	}

	t1 := t0.Add(time.Hour)
	s.Now = func() time.Time { return t1 }
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(t1.Truncate(time.Microsecond)) || got.Version != 2 {
		t.Errorf("after Update: UpdatedAt %v v%d, want %v v2", got.UpdatedAt, got.Version, t1)
	}
	again, _ := s.Get(ctx, u.ID)
	if !again.CreatedAt.Equal(want) || !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("stored CreatedAt %v UpdatedAt %v", again.CreatedAt, again.UpdatedAt)
	}
}

// TestTouchActiveKeepsUpdatedAt: TouchActive is bookkeeping: updated_at and
// version stay.
func TestTouchActiveKeepsUpdatedAt(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	u := &user.User{Email: "a@x.com"}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchActive(ctx, u.ID, "192.0.2.1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, u.ID)
	if !got.UpdatedAt.Equal(u.UpdatedAt) || got.Version != 1 {
		t.Errorf("after TouchActive: UpdatedAt %v v%d, want %v v1", got.UpdatedAt, got.Version, u.UpdatedAt)
	}
}

// TestPurgeAnonymousBatches: a backlog larger than the limit goes in batches
// of at most limit, oldest first, and registered users are never touched.
func TestPurgeAnonymousBatches(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (ssaid, created_at, updated_at)
		SELECT 'old-' || i, now() - interval '10 days' - i * interval '1 minute', now() FROM generate_series(1, 250) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (email, email_key, created_at, updated_at)
		SELECT 'reg' || i || '@x.com', 'reg' || i || '@x.com', now() - interval '10 days', now() FROM generate_series(1, 10) i`); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-24 * time.Hour)
	var got []int
	for {
		n, err := s.PurgeAnonymous(ctx, cutoff, 100)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n == 0 {
			break
		}
		if n == 100 && len(got) == 1 {
			// the oldest went first: the youngest 150 remain
			if left := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE ssaid IN ('old-1', 'old-150')`); left != 2 {
				t.Errorf("after the first batch the youngest users are gone (%d of 2 left)", left)
			}
		}
	}
	if len(got) != 4 || got[0] != 100 || got[1] != 100 || got[2] != 50 {
		t.Errorf("batches = %v, want [100 100 50 0]", got)
	}
	if left := count(t, pool, `SELECT count(*) FROM simpleuser_users`); left != 10 {
		t.Errorf("%d users left, want the 10 registered", left)
	}
}

// TestTouchActiveIsHOT: a last-active touch is a HOT update (no index entry
// written, migration 0003) unless it moves the user's last activity into
// another UTC hour, for anonymous and registered users alike. The counts
// come from pg_stat_xact_user_tables (whose figures may include earlier
// transactions of the connection not yet flushed, hence the differences).
func TestTouchActiveIsHOT(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)
	anon, err := s.GetOrCreateAnonymous(ctx, "hot-device", at)
	if err != nil {
		t.Fatal(err)
	}
	reg := &user.User{Email: "hot@example.com", CreatedAt: at, UpdatedAt: at}
	if err := s.Create(ctx, reg); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user.User{anon, reg} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tctx := ContextWithTx(ctx, tx)
		upd0, hot0 := updates(t, tx)
		for _, when := range []time.Time{
			at,                       // NULL -> 10:00: the purge index changes
			at.Add(time.Minute),      // same hour: HOT
			at.Add(54 * time.Minute), // 10:59, same hour: HOT
			at.Add(55 * time.Minute), // 11:00: the purge index changes
			at.Add(56 * time.Minute), // same hour: HOT
		} {
			if err := s.TouchActive(tctx, u.ID, "192.0.2.7", when); err != nil {
				t.Fatal(err)
			}
		}
		upd, hot := updates(t, tx)
		upd, hot = upd-upd0, hot-hot0
		if upd != 5 || hot != 3 {
			t.Errorf("user %d (email %q): %d updates, %d of them HOT; want 5, 3 HOT", u.ID, u.Email, upd, hot)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// updates returns the row updates, and the HOT ones among them, that
// pg_stat_xact_user_tables reports for simpleuser_users on tx's connection.
func updates(t *testing.T, tx pgx.Tx) (upd, hot int) {
	t.Helper()
	if err := tx.QueryRow(t.Context(), `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables
		WHERE relid = 'simpleuser_users'::regclass`).Scan(&upd, &hot); err != nil {
		t.Fatal(err)
	}
	return upd, hot
}

// TestTouchActiveAsyncCommit: outside a transaction TouchActive runs the
// statement that commits asynchronously, and the setting stays with that
// statement's transaction; inside a caller's transaction it runs the plain
// update and leaves the caller's commit synchronous.
func TestTouchActiveAsyncCommit(t *testing.T) {
	_, base := newTestStore(t)
	ctx := t.Context()
	one := poolOn(t, base, "", func(c *pgxpool.Config) { c.MaxConns = 1 })
	s := New(one)
	u, err := s.GetOrCreateAnonymous(ctx, "async-device", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := one.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	lastQuery := func() string {
		var q string
		if err := base.QueryRow(ctx, `SELECT query FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&q); err != nil {
			t.Fatal(err)
		}
		return q
	}
	syncCommit := func(q querier) string {
		var v string
		if err := q.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	if err := s.TouchActive(ctx, u.ID, "192.0.2.8", time.Now()); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(); q != sqlTouchActiveAsync {
		t.Errorf("TouchActive outside a transaction ran %q, want sqlTouchActiveAsync", q)
	}
	if v := syncCommit(one); v != "on" {
		t.Errorf("after TouchActive the connection's synchronous_commit is %q, want on (the change is the touch's only)", v)
	}

	tx, err := one.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, sqlTouchActiveAsync, u.ID, "192.0.2.8", time.Now()); err != nil {
		t.Fatal(err)
	}
	if v := syncCommit(tx); v != "off" {
		t.Errorf("sqlTouchActiveAsync left synchronous_commit %q in its transaction, want off", v)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	tx, err = one.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TouchActive(ContextWithTx(ctx, tx), u.ID, "192.0.2.8", time.Now()); err != nil {
		t.Fatal(err)
	}
	if q := lastQuery(); q != sqlTouchActive {
		t.Errorf("TouchActive in a transaction ran %q, want sqlTouchActive", q)
	}
	if v := syncCommit(tx); v != "on" {
		t.Errorf("TouchActive in a caller's transaction set its synchronous_commit to %q, want on", v)
	}
}
