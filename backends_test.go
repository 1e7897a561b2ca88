package simpleuser_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/realbackends"
	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// fixtureMaker builds a fixture on one backend set.
type fixtureMaker func(t *testing.T, mod func(*simpleuser.Config)) *fixture

// forBackends runs test on the in-memory stores, on PostgreSQL + Redis and
// on PostgreSQL + the Redis Cluster (a fresh schema and key prefix per test).
func forBackends(t *testing.T, test func(t *testing.T, newFixture fixtureMaker)) {
	t.Run("memory", func(t *testing.T) { test(t, newFixture) })
	for _, set := range []struct {
		name      string
		configure func(testing.TB, *simpleuser.Config)
	}{
		{"postgres+redis", realbackends.Configure},
		{"postgres+redis-cluster", realbackends.ConfigureCluster},
	} {
		t.Run(set.name, func(t *testing.T) {
			test(t, func(t *testing.T, mod func(*simpleuser.Config)) *fixture {
				return newFixture(t, func(c *simpleuser.Config) {
					set.configure(t, c)
					if mod != nil {
						mod(c)
					}
				})
			})
		})
	}
}

// useRealBackends puts c on PostgreSQL and Redis.
func useRealBackends(t testing.TB, c *simpleuser.Config) { realbackends.Configure(t, c) }

// On PostgreSQL the app's own statements in AfterCreate join the kit's
// transaction: a later failure (OnLogin rejects) rolls back the auth user
// and the app row together; a success commits both.
func TestAppStatementsJoinTheTransaction(t *testing.T) {
	reject := true
	var pool interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
	f := newFixture(t, func(c *simpleuser.Config) {
		useRealBackends(t, c)
		pool = c.Users.(*postgres.Store).Pool()
		c.Hooks.AfterCreate = func(ctx context.Context, u *user.User, p hooks.Payload) error {
			tx, ok := postgres.TxFrom(ctx)
			if !ok {
				return errors.New("AfterCreate outside the transaction")
			}
			_, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname) VALUES ($1, $2)`, u.ID, p.String("nickname"))
			return err
		}
		c.Hooks.OnLogin = func(context.Context, *user.User, hooks.LoginInfo) error {
			if reject {
				return hooks.Reject(403, "closed")
			}
			return nil
		}
	})
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE app_users (auth_user_id bigint PRIMARY KEY REFERENCES simpleuser_users(id) ON DELETE CASCADE, nickname text)`); err != nil {
		t.Fatal(err)
	}
	login := func(ssaid string) error {
		c := client(ssaid)
		f.clock.Advance(time.Minute)
		if err := f.svc.SendCode(ctx, c, "tx@example.com", hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: "tx@example.com", Code: f.mail.code("tx@example.com", hooks.PurposeLogin),
			Extra: hooks.Payload{"nickname": []byte(`"tx"`)}})
		return err
	}
	count := func() (users, apps int) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM simpleuser_users WHERE email IS NOT NULL`).Scan(&users)
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM app_users`).Scan(&apps)
		return
	}
	if err := login("d1"); simpleuser.AsError(err).Status != 403 {
		t.Fatalf("rejected login: %v", err)
	}
	if u, a := count(); u != 0 || a != 0 {
		t.Fatalf("after the rollback: %d users, %d app rows; want none", u, a)
	}
	reject = false
	if err := login("d2"); err != nil {
		t.Fatal(err)
	}
	if u, a := count(); u != 1 || a != 1 {
		t.Fatalf("after the commit: %d users, %d app rows; want 1 and 1", u, a)
	}
}
