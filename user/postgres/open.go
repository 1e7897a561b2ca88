package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults Open applies when the connection string leaves them unset.
const (
	// DefaultConnectTimeout bounds dialling and the start-up handshake of
	// one connection (connect_timeout), so requests fail fast with a
	// backend error while the server is down.
	DefaultConnectTimeout = 3 * time.Second
	// DefaultStatementTimeout is the statement_timeout of the pool's
	// sessions: no kit query should come near it.
	DefaultStatementTimeout = "5s"
	// DefaultLockTimeout is the lock_timeout of the pool's sessions: a
	// request waits at most this long for a row lock.
	DefaultLockTimeout = "2s"
	// DefaultHealthCheckPeriod is how often idle connections are checked
	// and the pool is topped up to its minimum.
	DefaultHealthCheckPeriod = 15 * time.Second
)

// Open returns a connection pool for url (a postgres:// URL or a keyword/value
// DSN, as pgxpool.ParseConfig accepts) with the kit's defaults for what url
// does not set: connect_timeout DefaultConnectTimeout, statement_timeout
// DefaultStatementTimeout, lock_timeout DefaultLockTimeout,
// pool_health_check_period DefaultHealthCheckPeriod and application_name
// "simpleuser". Its ShouldPing also pings an idle connection the server
// has closed (seen without a round trip), so that after a restart no
// statement is sent on a dead connection.
//
// Open fails only on a malformed url. It does not wait for the server:
// pgxpool connects lazily, so an app can start while PostgreSQL is down; its
// requests then fail with a *backend.Error (503) within the connect timeout,
// and succeed again as soon as the server is back. Call pool.Ping to check
// the server at start-up when that is wanted. ctx is passed to
// pgxpool.NewWithConfig. Close the pool on shutdown.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err // ParseConfig redacts the password
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout <= 0 {
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	for k, v := range map[string]string{
		"statement_timeout": DefaultStatementTimeout,
		"lock_timeout":      DefaultLockTimeout,
		"application_name":  "simpleuser",
	} {
		if _, ok := cc.RuntimeParams[k]; !ok {
			cc.RuntimeParams[k] = v
		}
	}
	if !strings.Contains(url, "pool_health_check_period") {
		cfg.HealthCheckPeriod = DefaultHealthCheckPeriod
	}
	cfg.ShouldPing = shouldPing
	return pgxpool.NewWithConfig(ctx, cfg)
}
