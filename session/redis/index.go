package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// Index is a session.Index on Redis: one sorted set per user, member = store
// key, score = expiry in Unix milliseconds. The set expires with its
// longest-lived session, so an abandoned user's index disappears by itself.
type Index struct {
	pool   *redis.Pool
	prefix string
}

var _ session.Index = (*Index)(nil)

func (x *Index) key(userID int64) string { return x.prefix + strconv.FormatInt(userID, 10) }

// indexAdd: KEYS[1] = index; ARGV = member, expiry ms, now ms. Adds the
// member, prunes expired ones, and sets the key's expiry to its latest
// member's (PEXPIREAT in the past deletes an index left empty). Safe to run
// twice (redisconn.Idempotent): the same member, score and expiry.
var indexAdd = redisconn.Idempotent(redis.NewScript(1, `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 0
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

// Add records key as a session of userID until expiry. Pruning uses the
// wall clock, as Redis expires the session bodies by it too.
func (x *Index) Add(ctx context.Context, userID int64, key string, expiry time.Time) error {
	_, err := redisconn.Eval(ctx, x.pool, indexAdd, x.key(userID), key, expiry.UnixMilli(), time.Now().UnixMilli())
	return err
}

// Remove forgets one session of userID.
func (x *Index) Remove(ctx context.Context, userID int64, key string) error {
	_, err := redisconn.Do(ctx, x.pool, "ZREM", x.key(userID), key)
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
