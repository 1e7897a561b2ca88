package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user"
)

// TestWithTxClassifiesAppErrors: an error that fn returns from the app's
// own statements (through TxFrom) is a postgres *backend.Error (503) when
// it says PostgreSQL could not serve, with the original still reachable and
// the kit's own write of the same transaction rolled back; other errors
// pass as they are.
func TestWithTxClassifiesAppErrors(t *testing.T) {
	s, pool := newAppStore(t)
	bg := context.Background()
	holder := &user.User{Email: "holder@x.com"}
	if err := s.Create(bg, holder); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(bg, `INSERT INTO app_users (auth_user_id, nickname) VALUES ($1, 'h')`, holder.ID); err != nil {
		t.Fatal(err)
	}
	lock, err := pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(bg) }()
	if _, err := lock.Exec(bg, `SELECT 1 FROM app_users WHERE auth_user_id = $1 FOR UPDATE`, holder.ID); err != nil {
		t.Fatal(err)
	}

	// run creates a user (the kit's write), then runs app in the same
	// transaction and returns what WithTx returned.
	run := func(ctx context.Context, email string, app func(ctx context.Context, tx pgx.Tx) error) error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			if err := s.Create(ctx, &user.User{Email: email}); err != nil {
				return err
			}
			tx, _ := TxFrom(ctx)
			return app(ctx, tx)
		})
	}
	tests := []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		app   func(ctx context.Context, tx pgx.Tx) error
		want  bool   // a postgres *backend.Error
		state string // the SQLSTATE still reachable with errors.As, if any
	}{
		{"lock timeout", nil, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE app_users SET nickname = 'x' WHERE auth_user_id = $1`, holder.ID)
			return fmt.Errorf("app: credit the referrer: %w", err)
		}, true, "55P03"},
		{"statement timeout", nil, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = '100ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT pg_sleep(10)`)
			return err
		}, true, "57014"},
		{"context deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(bg, 500*time.Millisecond)
		}, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT pg_sleep(10)`)
			return err
		}, true, ""},
		{"the app's own error", nil, func(context.Context, pgx.Tx) error { return errBoom }, false, ""},
		{"a constraint", nil, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname) VALUES (-1, 'x')`)
			return err
		}, false, "23503"},
		{"a network error not from PostgreSQL", nil, func(context.Context, pgx.Tx) error {
			return fmt.Errorf("app: webhook: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
		}, false, ""},
		{"canceled", nil, func(context.Context, pgx.Tx) error { return context.Canceled }, false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(bg)
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			email := fmt.Sprintf("kit-%d@x.com", i)
			err := run(ctx, email, tt.app)
			if err == nil {
				t.Fatal("WithTx succeeded")
			}
			if got := backend.Name(err) == "postgres"; got != tt.want {
				t.Errorf("err = %v: postgres backend error %v, want %v", err, got, tt.want)
			}
			var pgErr *pgconn.PgError
			if tt.state != "" && (!errors.As(err, &pgErr) || pgErr.Code != tt.state) {
				t.Errorf("err = %v: SQLSTATE %s not reachable with errors.As", err, tt.state)
			}
			if n := count(t, pool, `SELECT count(*) FROM simpleuser_users WHERE email = $1`, email); n != 0 {
				t.Errorf("the kit's write was committed (%d rows)", n)
			}
		})
	}

	// Joined: ctx carries the app's own transaction.
	t.Run("joined transaction", func(t *testing.T) {
		tx, err := pool.Begin(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(bg) }()
		err = run(ContextWithTx(bg, tx), "joined@x.com", func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE app_users SET nickname = 'x' WHERE auth_user_id = $1`, holder.ID)
			return err
		})
		wantUnavailable(t, "joined WithTx", err)
	})
}

// TestWithTxAppConnectionLost: the connection dies under the app's own
// statement, and the app returns an error that does not wrap the driver's
// (%v): WithTx still answers a postgres *backend.Error, since the
// transaction's connection is gone, and nothing is committed.
func TestWithTxAppConnectionLost(t *testing.T) {
	base := testenv.Postgres(t)
	if err := Migrate(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	cc := base.Config().ConnConfig
	p := testenv.NewProxy(t, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)))
	s := New(poolOn(t, base, p.Addr(), nil))
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		if err := s.Create(ctx, &user.User{Email: "lost@x.com"}); err != nil {
			return err
		}
		p.Stop()
		tx, _ := TxFrom(ctx)
		if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
			return fmt.Errorf("app: %v", err)
		}
		return errors.New("the statement succeeded on a cut connection")
	})
	wantUnavailable(t, "WithTx", err)
	if n := count(t, base, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users committed, want 0", n)
	}
}

// TestWrap: the exported classifier for the app's work outside WithTx.
func TestWrap(t *testing.T) {
	_, pool := newTestStore(t)
	bg := context.Background()
	closed := poolOn(t, pool, "", nil)
	closed.Close()
	_, closedErr := closed.Exec(bg, `SELECT 1`)
	lockTimeout := &pgconn.PgError{Code: "55P03"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no rows", pgx.ErrNoRows, false},
		{"unique", &pgconn.PgError{Code: "23505"}, false},
		{"lock timeout", fmt.Errorf("app: %w", lockTimeout), true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"closed pool", closedErr, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"plain", errBoom, false},
	} {
		got := Wrap(tc.err)
		if (backend.Name(got) == "postgres") != tc.want {
			t.Errorf("%s: Wrap(%v) = %v, want unavailable %v", tc.name, tc.err, got, tc.want)
		}
		if !tc.want && got != tc.err {
			t.Errorf("%s: Wrap changed %v to %v", tc.name, tc.err, got)
		}
		if tc.err != nil && !errors.Is(got, tc.err) {
			t.Errorf("%s: Wrap(%v) lost the original", tc.name, tc.err)
		}
	}
	if closedErr == nil {
		t.Error("Exec on a closed pool succeeded")
	}
	var pgErr *pgconn.PgError
	if !errors.As(Wrap(lockTimeout), &pgErr) || pgErr.Code != "55P03" {
		t.Error("Wrap hides the PgError from errors.As")
	}
}

// TestBounceNoStaleConnection: every connection of an Open pool is cut and
// the server is back at once (within pgxpool's one-second ping rule); the
// next statements must not fail on the dead idle connections.
func TestBounceNoStaleConnection(t *testing.T) {
	testenv.Postgres(t) // fails or skips clearly when the server is down
	u, err := url.Parse(testenv.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := testenv.NewProxy(t, host)
	u.Host = p.Addr()
	q := u.Query()
	q.Set("connect_timeout", "10")
	u.RawQuery = q.Encode()
	pool, err := Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if pool.Config().ShouldPing == nil {
		t.Fatal("Open set no ShouldPing")
	}
	ctx := context.Background()
	for bounce := range 3 {
		conns := make([]interface{ Release() }, 0, pool.Config().MaxConns)
		for range pool.Config().MaxConns {
			c, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Release()
		}
		p.Stop()
		p.Start()
		failed := 0
		for range 20 {
			var one int
			if err := pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
				failed++
				t.Logf("bounce %d: %v", bounce+1, err)
			}
		}
		if failed != 0 {
			t.Errorf("bounce %d: %d of 20 statements failed, want 0", bounce+1, failed)
		}
	}
}

// BenchmarkShouldPing is the work Open's ShouldPing adds to each acquire of
// a connection idle for under a second: one peek at its socket.
func BenchmarkShouldPing(b *testing.B) {
	pool := testenv.Postgres(b)
	c, err := pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Release()
	p := pgxpool.ShouldPingParams{Conn: c.Conn(), IdleDuration: time.Millisecond}
	for b.Loop() {
		if shouldPing(context.Background(), p) {
			b.Fatal("shouldPing on a live connection")
		}
	}
}
