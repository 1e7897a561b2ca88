package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// envelope serves one JSON request on h's app and returns its status and
// whole envelope.
func (h *harness) envelope(method, path, ssaid string, body any) (int, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-client-ssaid", ssaid)
	req.RemoteAddr = fmt.Sprintf("198.51.100.%d:1234", h.ip.Add(1))
	w := httptest.NewRecorder()
	h.app.Handler.ServeHTTP(w, req)
	var env map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		h.t.Fatalf("%s %s: not JSON: %s", method, path, w.Body)
	}
	return w.Code, env
}

// want503 asserts a 503 BACKEND_UNAVAILABLE naming postgres.
func want503(t *testing.T, what string, status int, env map[string]any) {
	t.Helper()
	data, _ := env["data"].(map[string]any)
	msg, _ := env["message"].(string)
	if status != 503 || data["code"] != "BACKEND_UNAVAILABLE" || !strings.Contains(msg, "postgres") {
		t.Errorf("%s: %d %v, want 503 BACKEND_UNAVAILABLE naming postgres", what, status, env)
	}
}

// TestAppStatementTimeoutsAre503: the app's own app_users statements that
// PostgreSQL cannot serve in time (a lock held elsewhere past
// lock_timeout) answer 503 BACKEND_UNAVAILABLE naming postgres, not 500:
// in AfterCreate, inside the kit's transaction (which rolls back, account
// included), and in GetSessionUserData at login.
func TestAppStatementTimeoutsAre503(t *testing.T) {
	url := testenv.PostgresURL(t)
	h := newHarness(t, settings{databaseURL: url + "&lock_timeout=200ms"})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := admin.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// hold runs fn while another connection holds lock (a statement taking
	// locks, in a transaction rolled back after fn).
	hold := func(lock string, args []any, fn func()) {
		t.Helper()
		tx, err := admin.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, lock, args...); err != nil {
			t.Fatal(err)
		}
		fn()
	}

	if c, _ := h.signup("dev-ref", "ref@example.com", nil); c != 200 {
		t.Fatalf("referrer signup: %d", c)
	}
	var refID int64
	var refCode string
	if err := admin.QueryRow(ctx, `SELECT auth_user_id, referral_code FROM app_users`).Scan(&refID, &refCode); err != nil {
		t.Fatal(err)
	}

	t.Run("AfterCreate, in the kit's transaction", func(t *testing.T) {
		if c, _ := h.call("POST", "/api/send-code/send", "dev-new", "", map[string]any{"email": "new@example.com", "codePurpose": "Login"}); c != 200 {
			t.Fatalf("send-code: %d", c)
		}
		login := map[string]any{"email": "new@example.com", "code": "123456", "referralCode": refCode}
		hold(`SELECT 1 FROM app_users WHERE auth_user_id = $1 FOR UPDATE`, []any{refID}, func() {
			status, env := h.envelope("POST", "/api/login", "dev-new", login)
			want503(t, "signup crediting a locked referrer", status, env)
		})
		if n := count(`SELECT count(*) FROM simpleuser_users WHERE email = 'new@example.com'`); n != 0 {
			t.Errorf("the account was committed (%d rows) by a signup that answered 503", n)
		}
		if n := count(`SELECT credits FROM app_users WHERE auth_user_id = $1`, refID); n != 0 {
			t.Errorf("referrer credits %d after the failed signup, want 0", n)
		}
		// Once the lock is gone a signup with the referral succeeds. (Another
		// address: the root package consumes a Login code before the
		// registration's transaction, so the failed one used it up.)
		if c, _ := h.signup("dev-new2", "new2@example.com", map[string]any{"referralCode": refCode}); c != 200 {
			t.Fatalf("signup after the lock: %d", c)
		}
		if n := count(`SELECT credits FROM app_users WHERE auth_user_id = $1`, refID); n != 1 {
			t.Errorf("referrer credits %d, want 1", n)
		}
	})

	t.Run("GetSessionUserData, at login", func(t *testing.T) {
		if c, _ := h.signup("dev-pw", "pw@example.com", map[string]any{"setPassword": "password-123"}); c != 200 {
			t.Fatalf("signup: %d", c)
		}
		login := map[string]any{"email": "pw@example.com", "password": "password-123"}
		hold(`LOCK TABLE app_users IN ACCESS EXCLUSIVE MODE`, nil, func() {
			status, env := h.envelope("POST", "/api/login", "dev-pw", login)
			want503(t, "password login reading app_users", status, env)
		})
		if status, env := h.envelope("POST", "/api/login", "dev-pw", login); status != 200 {
			t.Fatalf("login after the lock: %d %v", status, env)
		}
	})
}
