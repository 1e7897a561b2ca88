package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user"
)

// wantUnavailable fails unless err is a *backend.Error naming postgres.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var be *backend.Error
	if !errors.As(err, &be) || be.Backend != "postgres" {
		t.Errorf("%s: err = %v (%T), want a *backend.Error for postgres", what, err, err)
	}
}

// everyCall runs every Store method and Migrate on s, naming each error.
func everyCall(ctx context.Context, s *Store) map[string]error {
	errs := map[string]error{}
	_, errs["Get"] = s.Get(ctx, 1)
	_, errs["GetByEmail"] = s.GetByEmail(ctx, "a@x.com")
	_, errs["GetAnonymous"] = s.GetAnonymous(ctx, "dev")
	_, errs["GetOrCreateAnonymous"] = s.GetOrCreateAnonymous(ctx, "dev", time.Now())
	errs["Create"] = s.Create(ctx, &user.User{Email: "a@x.com"})
	errs["Update"] = s.Update(ctx, &user.User{ID: 1, Email: "a@x.com", Version: 1})
	errs["Delete"] = s.Delete(ctx, 1)
	errs["TouchActive"] = s.TouchActive(ctx, 1, "192.0.2.1", time.Now())
	_, errs["PurgeAnonymous"] = s.PurgeAnonymous(ctx, time.Now(), 10)
	errs["WithTx"] = s.WithTx(ctx, func(context.Context) error { return errors.New("fn must not run") })
	errs["Migrate"] = Migrate(ctx, s.pool)
	return errs
}

// TestUnreachableClosedPort: with nothing listening, Open still succeeds (the
// pool connects lazily) and every call fails fast with a backend error.
func TestUnreachableClosedPort(t *testing.T) {
	start := time.Now()
	pool, err := Open(context.Background(), "postgres://postgres@127.0.0.1:1/test")
	if err != nil {
		t.Fatalf("Open with the server down: %v", err)
	}
	defer pool.Close()
	for what, err := range everyCall(context.Background(), New(pool)) {
		wantUnavailable(t, what, err)
	}
	if d := time.Since(start); d >= 5*time.Second {
		t.Errorf("took %v, want < 5s", d)
	}
}

// TestConnectTimeout: a server that accepts but never answers costs one
// connect timeout (3s by default), not a hang, even with a ctx without
// deadline.
func TestConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	pool, err := Open(context.Background(), "postgres://postgres@"+ln.Addr().String()+"/test")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	start := time.Now()
	_, err = New(pool).Get(context.Background(), 1)
	d := time.Since(start)
	wantUnavailable(t, "Get", err)
	if d >= 5*time.Second || d < DefaultConnectTimeout-500*time.Millisecond {
		t.Errorf("failed after %v, want about DefaultConnectTimeout (%v)", d, DefaultConnectTimeout)
	}
}

// TestRecoversAfterOutage: while the server is unreachable calls fail with
// a backend error (connections cut mid-session and new ones refused alike);
// once it is back the same pool serves again with no restart.
func TestRecoversAfterOutage(t *testing.T) {
	base := testenv.Postgres(t)
	if err := Migrate(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	cc := base.Config().ConnConfig
	p := testenv.NewProxy(t, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)))
	pool := poolOn(t, base, p.Addr(), nil)
	s := New(pool)
	ctx := context.Background()
	u := &user.User{Email: "r@x.com"}
	if err := s.Create(ctx, u); err != nil {
		t.Fatalf("Create through the proxy: %v", err)
	}

	p.Stop()
	for what, err := range everyCall(ctx, s) {
		wantUnavailable(t, what+" while down", err)
	}

	p.Start()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = s.Get(ctx, u.ID); err == nil {
			break
		}
		wantUnavailable(t, "Get while recovering", err)
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("not recovered after the outage: %v", err)
	}
	if err := s.WithTx(ctx, func(ctx context.Context) error {
		return s.Create(ctx, &user.User{Email: "after@x.com"})
	}); err != nil {
		t.Errorf("WithTx after recovery: %v", err)
	}
}

// TestCutMidTransaction: the connection dying inside WithTx fails the
// transaction with a backend error, and nothing of it is committed.
func TestCutMidTransaction(t *testing.T) {
	base := testenv.Postgres(t)
	if err := Migrate(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	cc := base.Config().ConnConfig
	p := testenv.NewProxy(t, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)))
	s := New(poolOn(t, base, p.Addr(), nil))
	err := s.WithTx(context.Background(), func(ctx context.Context) error {
		if err := s.Create(ctx, &user.User{Email: "half@x.com"}); err != nil {
			return err
		}
		p.Stop()
		return s.Create(ctx, &user.User{Email: "other-half@x.com"})
	})
	wantUnavailable(t, "WithTx", err)
	if n := count(t, base, `SELECT count(*) FROM simpleuser_users`); n != 0 {
		t.Errorf("%d users committed, want 0", n)
	}
}

// TestMapErr: which driver errors become backend errors and sentinels.
func TestMapErr(t *testing.T) {
	deadline, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	<-deadline.Done()
	for _, tc := range []struct {
		name string
		err  error
		want error // a sentinel, or errUnavailable, or nil for "passed through"
	}{
		{"no rows", pgx.ErrNoRows, user.ErrNotFound},
		{"email index", &pgconn.PgError{Code: "23505", ConstraintName: emailIndex}, user.ErrEmailTaken},
		{"ssaid index", &pgconn.PgError{Code: "23505", ConstraintName: ssaidIndex}, user.ErrConflict},
		{"other unique", &pgconn.PgError{Code: "23505", ConstraintName: "app_key"}, nil},
		{"foreign key", &pgconn.PgError{Code: "23503"}, nil},
		{"syntax", &pgconn.PgError{Code: "42601"}, nil},
		{"serialization", &pgconn.PgError{Code: "40001"}, nil},
		{"connection failure", &pgconn.PgError{Code: "08006"}, errUnavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, errUnavailable},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, errUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, errUnavailable},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, errUnavailable},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, errUnavailable},
		{"read-only after failover", &pgconn.PgError{Code: "25006"}, errUnavailable},
		{"net op error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, errUnavailable},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), errUnavailable},
		{"ctx deadline", deadline.Err(), errUnavailable},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), errUnavailable},
		{"conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), errUnavailable},
		{"closed pool", errors.New("closed pool"), errUnavailable},
		{"canceled by caller", context.Canceled, nil},
		{"plain", errors.New("something else"), nil},
	} {
		got := mapErr("op", tc.err)
		switch tc.want {
		case errUnavailable:
			wantUnavailable(t, tc.name, got)
		case nil:
			if backend.Name(got) != "" || !errors.Is(got, tc.err) {
				t.Errorf("%s: mapErr = %v, want the error passed through", tc.name, got)
			}
		default:
			if !errors.Is(got, tc.want) || backend.Name(got) != "" {
				t.Errorf("%s: mapErr = %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	if mapErr("op", nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}

var errUnavailable = errors.New("unavailable (test marker)")

// TestLockTimeoutIsUnavailable: a request that waits longer than
// lock_timeout for a row another transaction holds gets a backend error (a
// 503) rather than hanging.
func TestLockTimeoutIsUnavailable(t *testing.T) {
	base := testenv.Postgres(t)
	if err := Migrate(context.Background(), base); err != nil {
		t.Fatal(err)
	}
	s := New(base)
	ctx := context.Background()
	u := &user.User{Email: "locked@x.com"}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	holder, err := base.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(ctx) }()
	if _, err := holder.Exec(ctx, `SELECT 1 FROM simpleuser_users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	impatient := New(poolOn(t, base, "", func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["lock_timeout"] = "100ms"
	}))
	start := time.Now()
	err = impatient.Update(ctx, u.Clone())
	wantUnavailable(t, "Update of a locked row", err)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Update waited %v", d)
	}
}

// A call ignores its context's cancellation, so a client that disconnects
// never cuts a statement in the middle (over TLS pgx would then hold the
// session, its transaction and its row locks for up to 15 s), but keeps
// its deadline.
func TestCallsIgnoreCancellationKeepDeadline(t *testing.T) {
	pool := testenv.Postgres(t)
	if err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	s := New(pool)
	u := &user.User{Email: "cancel@x.com"}
	if err := s.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.Get(cancelled, u.ID); err != nil || got.ID != u.ID {
		t.Fatalf("Get with a cancelled context: %v, %v; want the user", got, err)
	}
	err := s.WithTx(cancelled, func(ctx context.Context) error {
		got, err := s.Get(ctx, u.ID)
		if err != nil {
			return err
		}
		got.Metadata = map[string]any{"finished": true}
		return s.Update(ctx, got)
	})
	if err != nil {
		t.Fatalf("a transaction with a cancelled context: %v", err)
	}
	if got, _ := s.Get(context.Background(), u.ID); got.Metadata["finished"] != true {
		t.Fatalf("the transaction's write is missing: %v", got.Metadata)
	}
	past, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := s.Get(past, u.ID); backend.Name(err) != "postgres" {
		t.Fatalf("Get past its deadline: %v, want a postgres backend error", err)
	}
}
