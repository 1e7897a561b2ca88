package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// Index is a session.Index on Redis: one sorted set per user, member = store
// key, score = expiry in Unix milliseconds. The set expires with its
// longest-lived session, so an abandoned user's index disappears by itself.
type Index struct {
	pool   redisconn.Client
	prefix string
}

var (
	_ session.Index  = (*Index)(nil)
	_ backend.Pinger = (*Index)(nil)
)

func (x *Index) key(userID int64) string { return x.prefix + strconv.FormatInt(userID, 10) }

// indexAdd: KEYS[1] = index; ARGV = member, expiry ms, now ms, limit.
// Adds the member, prunes expired ones, sets the key's expiry to its latest
// member's (PEXPIREAT in the past deletes an index left empty), and returns
// the oldest members beyond limit (lowest score, ties by member, the new
// one excepted) without removing them. Safe to run twice
// (redisconn.Idempotent): the same member, score and expiry, and the same
// answer, since nothing is popped.
var indexAdd = redisconn.Idempotent(redis.NewScript(1, `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
local limit = tonumber(ARGV[4])
if limit <= 0 then return {} end
local extra = redis.call('ZCARD', KEYS[1]) - limit
if extra <= 0 then return {} end
local over = {}
for _, k in ipairs(redis.call('ZRANGE', KEYS[1], 0, extra)) do
  if k ~= ARGV[1] and #over < extra then over[#over + 1] = k end
end
return over
`))

// indexList: KEYS[1] = index; ARGV[1] = now ms. Safe to run twice.
var indexList = redisconn.Idempotent(redis.NewScript(1, `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`))

// indexPopAll: KEYS[1] = index. Not safe to run twice: a second run would
// return nothing after the first popped the keys, and their sessions would
// stay live; a lost reply is a 503.
var indexPopAll = redis.NewScript(1, `
local keys = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return keys
`)

// Add records key as a session of userID until expiry and returns the
// oldest members beyond limit (see session.Index), in one round trip (and
// a WAIT on a cluster with Options.DurableReplicas: an index entry lost in
// a failover would hide a live session from RevokeUser).
// Pruning uses the wall clock, as Redis expires the session bodies by it too.
func (x *Index) Add(ctx context.Context, userID int64, key string, expiry time.Time, limit int) ([]string, error) {
	return redis.Strings(redisconn.EvalDurable(ctx, x.pool, indexAdd, x.key(userID), key, expiry.UnixMilli(), time.Now().UnixMilli(), limit))
}

// Remove forgets sessions of userID, in one ZREM.
func (x *Index) Remove(ctx context.Context, userID int64, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, 1+len(keys))
	args = append(args, x.key(userID))
	for _, k := range keys {
		args = append(args, k)
	}
	_, err := redisconn.Do(ctx, x.pool, "ZREM", args...)
	return err
}

// List prunes the sessions of userID that expired by now and returns the rest.
func (x *Index) List(ctx context.Context, userID int64, now time.Time) ([]string, error) {
	return redis.Strings(redisconn.Eval(ctx, x.pool, indexList, x.key(userID), now.UnixMilli()))
}

// PopAll atomically removes and returns every key of userID.
func (x *Index) PopAll(ctx context.Context, userID int64) ([]string, error) {
	return redis.Strings(redisconn.Eval(ctx, x.pool, indexPopAll, x.key(userID)))
}

// PingTarget names the backend, "redis", and the pool the index runs on
// (backend.Pinger).
func (x *Index) PingTarget() (string, any) { return redisconn.Name, x.pool }

// Ping checks that the Redis server answers (redisconn.Ping).
func (x *Index) Ping(ctx context.Context) error { return redisconn.Ping(ctx, x.pool) }
