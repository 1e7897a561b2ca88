package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// TestOpenDefaults: Open fills in what the URL leaves unset and keeps what it sets.
func TestOpenDefaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url             string
		connect         time.Duration
		statement, lock string
		health          time.Duration
	}{
		{"postgres://u@127.0.0.1:1/db", DefaultConnectTimeout, DefaultStatementTimeout, DefaultLockTimeout, DefaultHealthCheckPeriod},
		{"postgres://u@127.0.0.1:1/db?connect_timeout=9&statement_timeout=1min&lock_timeout=100ms&pool_health_check_period=1m",
			9 * time.Second, "1min", "100ms", time.Minute},
		{"host=127.0.0.1 port=1 user=u dbname=db connect_timeout=7", 7 * time.Second, DefaultStatementTimeout, DefaultLockTimeout, DefaultHealthCheckPeriod},
	} {
		pool, err := Open(ctx, tc.url)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		cfg := pool.Config()
		pool.Close()
		rp := cfg.ConnConfig.RuntimeParams
		if cfg.ConnConfig.ConnectTimeout != tc.connect || rp["statement_timeout"] != tc.statement ||
			rp["lock_timeout"] != tc.lock || cfg.HealthCheckPeriod != tc.health || rp["application_name"] != "simpleuser" {
			t.Errorf("Open(%q): connect %v statement %q lock %q health %v app %q; want %v %q %q %v simpleuser", tc.url,
				cfg.ConnConfig.ConnectTimeout, rp["statement_timeout"], rp["lock_timeout"], cfg.HealthCheckPeriod, rp["application_name"],
				tc.connect, tc.statement, tc.lock, tc.health)
		}
	}
	if _, err := Open(ctx, "postgres://u@host:notaport/db"); err == nil {
		t.Error("Open(malformed URL) succeeded")
	}
}

// TestOpenSessionSettings: the server applies the defaults to each session.
func TestOpenSessionSettings(t *testing.T) {
	testenv.Postgres(t) // fails or skips clearly when the server is down
	pool, err := Open(context.Background(), testenv.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var st, lt, app string
	err = pool.QueryRow(context.Background(), `SELECT current_setting('statement_timeout'),
		current_setting('lock_timeout'), current_setting('application_name')`).Scan(&st, &lt, &app)
	if err != nil {
		t.Fatal(err)
	}
	if st != DefaultStatementTimeout || lt != DefaultLockTimeout || app != "simpleuser" {
		t.Errorf("session: statement_timeout %q lock_timeout %q application_name %q", st, lt, app)
	}
}
