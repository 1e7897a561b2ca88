package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/user"
)

var errBoom = errors.New("boom")

// newAppStore is newTestStore plus the app's own table, linked the way
// docs/schema.md recommends.
func newAppStore(t *testing.T) (*Store, *pgxpool.Pool) {
	t.Helper()
	s, pool := newTestStore(t)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE app_users (
		auth_user_id bigint PRIMARY KEY REFERENCES simpleuser_users(id) ON DELETE CASCADE,
		nickname     text NOT NULL
	)`); err != nil {
		t.Fatal(err)
	}
	return s, pool
}

// createWithApp creates a user and the app's row for it in one transaction,
// the app's statement joining through TxFrom; fail makes fn return errBoom
// after both writes.
func createWithApp(s *Store, email string, fail bool) (int64, error) {
	var id int64
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		u := &user.User{Email: email}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		id = u.ID
		tx, ok := TxFrom(ctx)
		if !ok {
			return errors.New("TxFrom: no transaction in WithTx's ctx")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname) VALUES ($1, $2)`, u.ID, "nick"); err != nil {
			return err
		}
		if fail {
			return errBoom
		}
		return nil
	})
	return id, err
}

// TestAppRowRollsBackWithUser: the app's INSERT, run through TxFrom, and the
// user's Create roll back together when fn fails.
func TestAppRowRollsBackWithUser(t *testing.T) {
	s, pool := newAppStore(t)
	id, err := createWithApp(s, "rb@x.com", true)
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want errBoom", err)
	}
	if id == 0 {
		t.Fatal("Create did not run")
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users after rollback, want 0", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM app_users`); n != 0 {
		t.Errorf("%d app rows after rollback, want 0", n)
	}
}

// TestAppRowCommitsWithUser: both rows commit together, and deleting the
// user removes the app row (ON DELETE CASCADE).
func TestAppRowCommitsWithUser(t *testing.T) {
	s, pool := newAppStore(t)
	id, err := createWithApp(s, "ok@x.com", false)
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM app_users a JOIN simpleuser_users u ON u.id = a.auth_user_id WHERE u.id = $1`, id); n != 1 {
		t.Fatalf("%d joined rows after commit, want 1", n)
	}
	if err := s.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM app_users`); n != 0 {
		t.Errorf("%d app rows after Delete, want 0 (cascade)", n)
	}
}

// TestAppStatementErrorRollsBack: an app statement that fails (here a
// foreign key violation) aborts the transaction; returning its error rolls
// back the user created before it.
func TestAppStatementErrorRollsBack(t *testing.T) {
	s, pool := newAppStore(t)
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		if err := s.Create(ctx, &user.User{Email: "fk@x.com"}); err != nil {
			return err
		}
		tx, _ := TxFrom(ctx)
		_, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname) VALUES (-1, 'orphan')`)
		return err
	})
	if err == nil {
		t.Fatal("WithTx succeeded despite the foreign key violation")
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users, want 0", n)
	}
}

// TestWithTxIsolation: until commit, the transaction's writes are invisible
// to calls whose ctx carries no transaction (they run on other connections).
func TestWithTxIsolation(t *testing.T) {
	s, pool := newTestStore(t)
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		u := &user.User{Email: "iso@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		if _, err := s.Get(ctx, u.ID); err != nil {
			t.Errorf("Get inside the tx: %v", err)
		}
		if _, err := s.Get(context.Background(), u.ID); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("Get outside the tx before commit = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 1 {
		t.Errorf("%d users after commit, want 1", n)
	}
}

// TestWithTxNestedJoins: a nested WithTx runs on the outer transaction (one
// backend pid), and its error, returned by the outer fn, rolls back both.
func TestWithTxNestedJoins(t *testing.T) {
	s, pool := newTestStore(t)
	var outerPID, innerPID uint32
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		outer, _ := TxFrom(ctx)
		outerPID = outer.Conn().PgConn().PID()
		if err := s.Create(ctx, &user.User{Email: "outer@x.com"}); err != nil {
			return err
		}
		return s.WithTx(ctx, func(ctx context.Context) error {
			inner, _ := TxFrom(ctx)
			innerPID = inner.Conn().PgConn().PID()
			if err := s.Create(ctx, &user.User{Email: "inner@x.com"}); err != nil {
				return err
			}
			return errBoom
		})
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want errBoom", err)
	}
	if outerPID == 0 || outerPID != innerPID {
		t.Errorf("inner transaction on backend %d, outer on %d: want the same", innerPID, outerPID)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users, want 0", n)
	}
}

// TestWithTxPanicRollsBack: a panic in fn rolls back and keeps panicking.
func TestWithTxPanicRollsBack(t *testing.T) {
	s, pool := newTestStore(t)
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want errBoom", r)
			}
		}()
		_ = s.WithTx(context.Background(), func(ctx context.Context) error {
			if err := s.Create(ctx, &user.User{Email: "p@x.com"}); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users after panic, want 0", n)
	}
}

// TestContextWithTx: an app-owned transaction attached with ContextWithTx is
// joined by the Store's methods and by WithTx, and the app decides.
func TestContextWithTx(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	if _, ok := TxFrom(ctx); ok {
		t.Fatal("TxFrom(Background) reported a transaction")
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tctx := ContextWithTx(ctx, tx)
	if got, ok := TxFrom(tctx); !ok || got != tx {
		t.Fatal("TxFrom did not return the attached transaction")
	}
	if err := s.Create(tctx, &user.User{Email: "a@x.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WithTx(tctx, func(ctx context.Context) error {
		return s.Create(ctx, &user.User{Email: "b@x.com"})
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users visible before the app commits, want 0 (WithTx must not commit a joined tx)", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users after the app's rollback, want 0", n)
	}
}

// TestWithTxUsableAfterRefusedWrite: a Create or Update refused for a taken
// address or ssaid inside WithTx does not abort the transaction (it runs
// under a savepoint): fn can handle the error, carry on and commit, as with
// the memory store.
func TestWithTxUsableAfterRefusedWrite(t *testing.T) {
	s, pool := newTestStore(t)
	ctx := context.Background()
	taken := &user.User{Email: "taken@x.com"}
	if err := s.Create(ctx, taken); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrCreateAnonymous(ctx, "dev", time.Now()); err != nil {
		t.Fatal(err)
	}
	err := s.WithTx(ctx, func(ctx context.Context) error {
		if err := s.Create(ctx, &user.User{Email: "TAKEN@x.com"}); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Create(taken) = %v, want ErrEmailTaken", err)
		}
		if err := s.Create(ctx, &user.User{SSAID: "dev"}); !errors.Is(err, user.ErrConflict) {
			t.Errorf("Create(anonymous dev) = %v, want ErrConflict", err)
		}
		u := &user.User{Email: "fresh@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		u.Email = "Taken@X.com"
		if err := s.Update(ctx, u); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("Update to taken = %v, want ErrEmailTaken", err)
		}
		u.Email = "fresh@x.com"
		u.Disabled = true
		return s.Update(ctx, u) // the transaction still works
	})
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE email = 'fresh@x.com' AND disabled AND version = 2`); n != 1 {
		t.Errorf("fresh@x.com committed %d times, want once, disabled, version 2", n)
	}
}
