// Package redis is the Redis implementation of risk.Store.
//
// Every key is a sorted set of entry ids scored by the caller's clock in
// milliseconds; Take checks and records across all its keys in one Lua
// script, so concurrent callers never overshoot a limit.
package redis

import (
	"context"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// Store is a risk.Store on Redis. It is safe for concurrent use.
//
// Keys are prefix + "{risk}:" + key. The {risk} hash tag puts every risk key
// in the same Redis Cluster slot, because one Take spans keys of unrelated
// subjects (an email and an IP, say) and a script may only touch keys of one
// slot; no finer tag is shared by all keys of a call. The trade-off: on a
// cluster all rate-limit traffic and memory sit on one shard. That is small
// (short-lived sets of a few ids each) but it does not scale out.
type Store struct {
	pool   *redis.Pool
	prefix string
}

var _ risk.Store = (*Store)(nil)

// New returns a Store using pool (prefix defaults to DefaultPrefix).
func New(pool *redis.Pool, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{pool: pool, prefix: prefix + "{risk}:"}
}

// take: KEYS = the keys; ARGV = id, max, window ms, now ms. Returns the wait
// in ms (0 when the entry was recorded under every key). Safe to run twice
// (redisconn.Idempotent): a second run re-adds the same id with the same
// score, so nothing is counted twice; if the first run took the last slot,
// the second answers a wait (a refusal, never an attempt too many).
var take = redisconn.Idempotent(redis.NewScript(-1, `
local id, max = ARGV[1], tonumber(ARGV[2])
local window, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local blocked, wait = false, 0
for _, k in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
  local n = redis.call('ZCARD', k)
  if n >= max then
    blocked = true
    local e = redis.call('ZRANGE', k, n - max, n - max, 'WITHSCORES')
    local w = tonumber(e[2]) + window - now
    if w > wait then wait = w end
  end
end
if blocked then
  if wait < 1 then wait = 1 end
  return wait
end
for _, k in ipairs(KEYS) do
  redis.call('ZADD', k, now, id)
  redis.call('PEXPIRE', k, window)
end
return 0
`))

// release: KEYS = the keys; ARGV[1] = id. Safe to run twice.
var release = redisconn.Idempotent(redis.NewScript(-1, `
for _, k in ipairs(KEYS) do redis.call('ZREM', k, ARGV[1]) end
return 0
`))

// Take implements risk.Store. Times are taken to the millisecond; max <= 0,
// a window under a millisecond or no keys record nothing and return 0.
func (s *Store) Take(ctx context.Context, keys []string, id string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	windowMS := window.Milliseconds()
	if max <= 0 || windowMS <= 0 || len(keys) == 0 {
		return 0, nil
	}
	args := s.keyArgs(keys, id, max, windowMS, now.UnixMilli())
	ms, err := redis.Int64(redisconn.Eval(ctx, s.pool, take, args...))
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Release implements risk.Store in one script call.
func (s *Store) Release(ctx context.Context, keys []string, id string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := redisconn.Eval(ctx, s.pool, release, s.keyArgs(keys, id)...)
	return err
}

// Clear implements risk.Store with one DEL.
func (s *Store) Clear(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = s.prefix + k
	}
	_, err := redisconn.Do(ctx, s.pool, "DEL", args...)
	return err
}

// keyArgs builds a -1 keyCount script call: the key count, the prefixed
// keys, then argv.
func (s *Store) keyArgs(keys []string, argv ...any) []any {
	args := make([]any, 0, 1+len(keys)+len(argv))
	args = append(args, len(keys))
	for _, k := range keys {
		args = append(args, s.prefix+k)
	}
	return append(args, argv...)
}
