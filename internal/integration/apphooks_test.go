package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// TestHookStatementLockTimeoutIs503: an AfterCreate hook whose own
// statement (in the kit's transaction, through postgres.TxFrom) waits past
// lock_timeout for a row another connection holds answers 503
// BACKEND_UNAVAILABLE naming postgres, not 500, and the registration rolls
// back; with the lock gone, registration works.
func TestHookStatementLockTimeoutIs503(t *testing.T) {
	be := newBackends(t)
	ctx := context.Background()
	if _, err := be.admin.Exec(ctx, `CREATE TABLE app_counters (id int PRIMARY KEY, n int NOT NULL);
		INSERT INTO app_counters VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	mb := newMailbox()
	in := be.newInstance(t, "hooked", mb, instOpts{config: func(c *simpleuser.Config) {
		c.Hooks.AfterCreate = func(ctx context.Context, u *user.User, _ hooks.Payload) error {
			tx, ok := postgres.TxFrom(ctx)
			if !ok {
				t.Error("AfterCreate outside the kit's transaction")
				return nil
			}
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE app_counters SET n = n + 1 WHERE id = 1`)
			return err
		}
	}})
	users := be.sqlCount(t, `SELECT count(*) FROM simpleuser_users WHERE email IS NOT NULL`)

	lock, err := be.admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT 1 FROM app_counters WHERE id = 1 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	email, dev := "locked-"+uniq()+"@example.com", nextSSAID("locked")
	r := in.do(t, rq{method: "POST", path: "/login", ssaid: dev, ip: nextIP(),
		body: map[string]any{"email": email, "code": in.sendCode(t, mb, email, "Login")}})
	_ = lock.Rollback(ctx)
	r.want(t, 503, "BACKEND_UNAVAILABLE")
	if !strings.Contains(r.message, "postgres") {
		t.Errorf("503 message %q does not name postgres", r.message)
	}
	if n := be.sqlCount(t, `SELECT count(*) FROM simpleuser_users WHERE email IS NOT NULL`); n != users {
		t.Errorf("%d registered users after the failed registration, want %d (rolled back)", n, users)
	}
	if n := be.sqlCount(t, `SELECT n FROM app_counters WHERE id = 1`); n != 0 {
		t.Errorf("counter %d, want 0", n)
	}

	in.register(t, mb, nextSSAID("after"), "after-"+uniq()+"@example.com", "")
	if n := be.sqlCount(t, `SELECT n FROM app_counters WHERE id = 1`); n != 1 {
		t.Errorf("counter %d after a registration, want 1", n)
	}
}
