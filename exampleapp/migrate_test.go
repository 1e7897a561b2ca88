package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// TestInstancesStartAtOnce: several exampleapp instances, each with its own
// pool, start together on a fresh database. Every one starts (the kit's
// migrations and the app's app_users run under one advisory lock, so none
// dies on a CREATE TABLE race), the tables exist once, every version is
// recorded once, and the instances then serve from the shared tables.
func TestInstancesStartAtOnce(t *testing.T) {
	url := testenv.PostgresURL(t)
	const n = 6
	apps := make([]*app, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			apps[i], errs[i] = newApp(context.Background(),
				settings{databaseURL: url, fixedCode: "123456", allowAnonymous: true},
				slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(apps[i].Close)
	}
	if t.Failed() {
		t.FailNow()
	}

	ctx := t.Context()
	pool, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	count := func(sql string) int {
		t.Helper()
		var c int
		if err := pool.QueryRow(ctx, sql).Scan(&c); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return c
	}
	for _, table := range []string{"simpleuser_users", "simpleuser_identities", "simpleuser_email_conflicts", "simpleuser_migrations", "app_users"} {
		if c := count(`SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = '` + table + `'`); c != 1 {
			t.Errorf("%s: %d tables in the schema, want 1", table, c)
		}
	}
	if c := count(`SELECT count(*) FROM (SELECT component, version FROM simpleuser_migrations GROUP BY 1, 2 HAVING count(*) > 1) d`); c != 0 {
		t.Errorf("%d versions recorded more than once", c)
	}
	if c := count(`SELECT count(*) FROM simpleuser_migrations WHERE component = 'exampleapp'`); c != 2 {
		t.Errorf("exampleapp versions recorded: %d, want 2 (0001_app_users.sql, 0002_app_users_tenant.sql)", c)
	}
	if c := count(`SELECT count(*) FROM simpleuser_migrations WHERE component = 'simpleuser'`); c < 6 {
		t.Errorf("kit versions recorded: %d, want every kit migration (6 or more)", c)
	}

	// A signup on one instance is an account (with its app row) on another.
	h0 := &harness{t: t, app: apps[0]}
	if c, d := h0.signup("dev-a", "ann@example.com", map[string]any{"nickname": "ann"}); c != 200 {
		t.Fatalf("signup on instance 0: %d %v", c, d)
	}
	if c := count(`SELECT count(*) FROM app_users a JOIN simpleuser_users u ON u.id = a.auth_user_id WHERE u.email_key = 'ann@example.com'`); c != 1 {
		t.Errorf("app rows of the new account: %d, want 1", c)
	}
	h1 := &harness{t: t, app: apps[n-1]}
	if c, d := h1.call("GET", "/api/login/user-exists?email=ANN@example.com", "dev-b", "", nil); c != 200 || d["exists"] != true {
		t.Errorf("user-exists on another instance: %d %v", c, d)
	}
}
