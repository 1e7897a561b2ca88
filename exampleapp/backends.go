package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	mfapostgres "github.com/simpleuser/simpleuser/mfa/postgres"
	passkeypostgres "github.com/simpleuser/simpleuser/passkey/postgres"
	"github.com/simpleuser/simpleuser/redisconn"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	tenantpg "github.com/simpleuser/simpleuser/tenant/postgres"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// configureBackends switches cfg onto PostgreSQL and/or Redis when their URLs
// are set; otherwise the service keeps its in-memory defaults.
func (a *app) configureBackends(ctx context.Context, s settings, log *slog.Logger, cfg *simpleuser.Config) error {
	var names []string
	if s.databaseURL != "" {
		pool, err := postgres.Open(ctx, s.databaseURL)
		if err != nil {
			return fmt.Errorf("-database-url: %w", err)
		}
		a.closers = append(a.closers, pool.Close)
		// The kit's tables, then the app's (app_users), in one transaction
		// under the kit's migration lock.
		if err := postgres.Migrate(ctx, pool, appMigrations()); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		cfg.Users = postgres.New(pool)
		cfg.MFA.Store = mfapostgres.New(pool)  // second factors beside the users
		cfg.Tenants.Store = tenantpg.New(pool) // and tenants, memberships, roles
		if cfg.Passkeys.Enabled {
			cfg.Passkeys.Store = passkeypostgres.New(pool) // and the passkeys
		}
		a.appUsers = newPGAppUsers(pool)
		names = append(names, "postgres")
	} else {
		kit := usermemory.New()
		cfg.Users = kit
		app := newMemAppUsers(kit)
		kit.CascadeTo(app) // a deleted user's rows go with them, as ON DELETE CASCADE does on PostgreSQL
		a.appUsers = app
	}
	if s.redisURL != "" {
		pool, err := redisconn.New(redisconn.Options{URL: s.redisURL}) // one server, or a redis-cluster:// URL
		if err != nil {
			return fmt.Errorf("-redis-url: %w", err)
		}
		a.closers = append(a.closers, func() { _ = pool.Close() })
		cfg.Codes = coderedis.New(pool, s.redisPrefix)
		cfg.Risk = riskredis.New(pool, s.redisPrefix)
		cfg.SessionStore, cfg.SessionIndex = sessionredis.New(pool, s.redisPrefix)
		warnPersistence(ctx, pool, log)
		names = append(names, "redis")
	}
	if len(names) > 0 {
		a.Backends = fmt.Sprint(names)
		log.Info("backends configured", slog.Any("backends", names))
	}
	return nil
}

// warnPersistence logs a warning when the Redis server keeps nothing on
// disk (appendonly no, save ""): its restart would sign every user out and
// reset codes, cooldowns and attempt limits (docs/backends.md, "Redis
// persistence"). A server that does not say (CONFIG refused) or cannot be
// reached gets a warning too: the app cannot tell.
func warnPersistence(ctx context.Context, pool redisconn.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	p, err := redisconn.ReadPersistence(ctx, pool)
	switch {
	case err != nil:
		log.Warn("could not tell whether Redis keeps its data on disk; without persistence a restart signs every user out and resets codes and attempt limits (see docs/backends.md)",
			slog.Any("error", err))
	case p.None():
		log.Warn("Redis keeps nothing on disk (appendonly no, save \"\"): a restart signs every user out and resets codes, cooldowns and attempt limits; set appendonly yes (see docs/backends.md)")
	}
}
