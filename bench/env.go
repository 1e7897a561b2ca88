package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// env is the bench's backends: its own database and Redis key space.
type env struct {
	o     *options
	dbURL string // URL of the bench database
	pg    *pgxpool.Pool
	rpool *redis.Pool

	seededUsers, seededSessions int
	appTable                    bool // the example app's app_users table exists

	hotTokenUsers, hotAnonUsers []int64 // users of the hot tokens, hot anonymous users
	touch                       map[string]*touchState
	seedTimes                   string // human summary of the last seed
}

// openEnv creates (fresh: drops and recreates) the bench database, applies
// the kit's migrations and opens both pools.
func openEnv(ctx context.Context, o *options, fresh bool) (*env, error) {
	dbURL, err := withDatabase(o.adminURL, o.dbName)
	if err != nil {
		return nil, err
	}
	e := &env{o: o, dbURL: dbURL}
	admin, err := pgx.Connect(ctx, o.adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at -database-url: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{o.dbName}.Sanitize()
	if fresh {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return nil, fmt.Errorf("drop %s: %w", o.dbName, err)
		}
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", o.dbName).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
			return nil, fmt.Errorf("create %s: %w", o.dbName, err)
		}
	}
	if e.pg, err = postgres.Open(ctx, dbURL); err != nil {
		return nil, err
	}
	if err := postgres.Migrate(ctx, e.pg); err != nil {
		e.Close()
		return nil, fmt.Errorf("migrate the bench database: %w", err)
	}
	if e.rpool, err = redisconn.NewPool(redisconn.Options{URL: o.redisURL, MaxIdle: 16, MaxActive: 16, ReadTimeout: time.Minute}); err != nil {
		e.Close()
		return nil, err
	}
	if _, err := redisconn.Do(ctx, e.rpool, "PING"); err != nil {
		e.Close()
		return nil, fmt.Errorf("Redis at -redis-url: %w", err)
	}
	if fresh {
		if _, err := e.deleteKeys(ctx); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close closes the pools.
func (e *env) Close() {
	if e.pg != nil {
		e.pg.Close()
	}
	if e.rpool != nil {
		_ = e.rpool.Close()
	}
}

// drop removes the bench database and every Redis key of the bench.
func (e *env) drop(ctx context.Context) error {
	n, err := e.deleteKeysOn(ctx)
	if err != nil {
		return err
	}
	if err := e.dropDB(ctx); err != nil {
		return err
	}
	fmt.Printf("cleaned up: database %s dropped, %d Redis keys deleted\n", e.o.dbName, n)
	return nil
}

// dropDB drops the bench database.
func (e *env) dropDB(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, e.o.adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{e.o.dbName}.Sanitize()+" WITH (FORCE)")
	return err
}

// deleteKeysOn opens a pool of its own (for use after Close).
func (e *env) deleteKeysOn(ctx context.Context) (int, error) {
	p, err := redisconn.NewPool(redisconn.Options{URL: e.o.redisURL, ReadTimeout: time.Minute})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	old := e.rpool
	e.rpool = p
	defer func() { e.rpool = old }()
	return e.deleteKeys(ctx)
}

// keyPatterns are the key spaces the bench writes: its prefix, and the
// memory-measurement prefix (see memPrefix).
func (e *env) keyPatterns() []string {
	return []string{e.o.redisPrefix + "*", memPrefix(e.o.redisPrefix) + "*"}
}

// deleteKeys deletes every key of the bench.
func (e *env) deleteKeys(ctx context.Context) (int, error) {
	total := 0
	for _, pat := range e.keyPatterns() {
		n, err := e.deletePattern(ctx, pat)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete %s: %w", pat, err)
		}
	}
	return total, nil
}

// withDatabase returns u with its database replaced by name.
func withDatabase(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return "", errors.New("-database-url must be a postgres:// URL")
	}
	p.Path = "/" + name
	return p.String(), nil
}

// redisDB returns the db number of a redis:// URL ("0" when none).
func redisDB(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	if db := strings.TrimPrefix(p.Path, "/"); db != "" {
		return db
	}
	return "0"
}
