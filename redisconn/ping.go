package redisconn

import (
	"context"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
)

// Ping sends PING on a pooled connection, within ctx's deadline, and
// returns nil when the server answers. Every failure (refused, lost,
// timed out, the pool exhausted, ctx ended, an error reply such as
// LOADING) is a *backend.Error for "redis": a readiness check must name
// the backend whatever went wrong. The Redis stores' Ping methods
// (backend.Pinger) call it.
func Ping(ctx context.Context, pool *redis.Pool) error {
	if _, err := Do(ctx, pool, "PING"); err != nil {
		return backend.Unavailable(Name, err)
	}
	return nil
}
