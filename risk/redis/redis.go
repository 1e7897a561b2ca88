// Package redis is the Redis implementation of risk.Store.
//
// Every key is a sorted set of entry ids scored by the caller's clock in
// milliseconds. On one Redis server Take checks and records across all its
// keys in one Lua script; on a Redis Cluster each key lives in its own slot
// and Take runs one single-key script per key, in an order that keeps every
// limit exact (see Store). Either way concurrent callers never overshoot a
// limit.
package redis

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// Store is a risk.Store on Redis. It is safe for concurrent use.
//
// On one server (a *redis.Pool, or any Client but a *redisconn.Cluster)
// keys are prefix + "{risk}:" + key and Take is one script over all its
// keys: atomic, as risk.Store documents.
//
// On a *redisconn.Cluster keys are prefix + "risk:" + key, with no hash
// tag, so the keys of one Take, and all rate-limit keys, spread over the
// slots and masters like the kit's code and session keys (one shared tag
// would put every counter of the app on one master). A script may touch
// only one slot's keys, so Take becomes single-key steps (see takeCluster):
// for each key, in a fixed order, one script that forgets the entries out
// of the window and records the entry only if the key holds fewer than Max;
// then, if any key refused, the entry is removed again from the keys that
// recorded it. No key ever holds more than its Max entries within its
// window, however many Takes run at once; the price is that a Take may be
// refused by the entry of a concurrent Take that is then released
// (over-refusal, never over-admission). Release and Clear send one command
// per slot. A prefix holding a "{…}" hash tag would put every key back in
// that tag's slot (still correct, not spread).
type Store struct {
	pool    redisconn.Client
	cluster bool // pool is a *redisconn.Cluster: single-key steps
	prefix  string
}

var (
	_ risk.Store     = (*Store)(nil)
	_ risk.Explainer = (*Store)(nil)
	_ backend.Pinger = (*Store)(nil)
)

// New returns a Store using pool, a *redis.Pool (redisconn.NewPool) or a
// *redisconn.Cluster (prefix defaults to DefaultPrefix; it should hold no
// "{": on one server the {risk} tag would be ignored, harmlessly; on a
// cluster a tag in the prefix would gather every key in one slot).
func New(pool redisconn.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if _, ok := pool.(*redisconn.Cluster); ok {
		return &Store{pool: pool, cluster: true, prefix: prefix + "risk:"}
	}
	return &Store{pool: pool, prefix: prefix + "{risk}:"}
}

// take: KEYS = the keys; ARGV = id, now ms, then for each key its max and
// window ms, then "1" to explain (nothing otherwise). Returns the wait in ms (0 when the entry
// was recorded under every key); explaining, {wait, then the 1-based
// positions of the keys that refused}. Safe to run twice (redisconn.Idempotent): an entry id already
// recorded means an earlier run of this very call recorded it under every
// key (the script is atomic), so it answers 0 again and counts nothing
// twice.
var take = redisconn.Idempotent(redis.NewScript(-1, `
local id, now = ARGV[1], tonumber(ARGV[2])
local explain = ARGV[3 + 2*#KEYS] == '1'
if redis.call('ZSCORE', KEYS[1], id) then
  if explain then return {0} end
  return 0
end
local wait, out = 0, {0}
for i, k in ipairs(KEYS) do
  local max, window = tonumber(ARGV[1 + 2*i]), tonumber(ARGV[2 + 2*i])
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
  local n = redis.call('ZCARD', k)
  if n >= max then
    local e = redis.call('ZRANGE', k, n - max, n - max, 'WITHSCORES')
    local w = tonumber(e[2]) + window - now
    if w < 1 then w = 1 end
    if w > wait then wait = w end
    out[#out + 1] = i
  end
end
if wait > 0 then
  if not explain then return wait end
  out[1] = wait
  return out
end
for i, k in ipairs(KEYS) do
  redis.call('ZADD', k, now, id)
  redis.call('PEXPIRE', k, tonumber(ARGV[2 + 2*i]))
end
if explain then return {0} end
return 0
`))

// release: KEYS = the keys; ARGV[1] = id. Safe to run twice.
var release = redisconn.Idempotent(redis.NewScript(-1, `
for _, k in ipairs(KEYS) do redis.call('ZREM', k, ARGV[1]) end
return 0
`))

// Take implements risk.Store: in one script call on one server, in one
// script call per key on a cluster (takeCluster). Limits that are off are
// left out; with none on, Take returns 0 without a round trip. Errors are
// *backend.Error (redisconn.Wrap).
func (s *Store) Take(ctx context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, error) {
	if s.cluster {
		wait, _, err := s.takeCluster(ctx, limits, id, now)
		return wait, err
	}
	args := s.takeArgs(limits, id, now, false)
	if args == nil {
		return 0, nil
	}
	ms, err := redis.Int64(redisconn.Eval(ctx, s.pool, take, args...))
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// TakeExplain implements risk.Explainer: Take, naming the limits that
// refused, in the same script calls.
func (s *Store) TakeExplain(ctx context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, []int, error) {
	if s.cluster {
		return s.takeCluster(ctx, limits, id, now)
	}
	args := s.takeArgs(limits, id, now, true)
	if args == nil {
		return 0, nil, nil
	}
	reply, err := redis.Int64s(redisconn.Eval(ctx, s.pool, take, args...))
	if err != nil {
		return 0, nil, err
	}
	if len(reply) == 0 || reply[0] <= 0 {
		return 0, nil, nil
	}
	// The script numbers the keys that are on from 1: map back to limits.
	refused := make([]int, 0, len(reply)-1)
	pos := 0
	for i, l := range limits {
		if !l.On() {
			continue
		}
		pos++
		if slices.Contains(reply[1:], int64(pos)) {
			refused = append(refused, i)
		}
	}
	return time.Duration(reply[0]) * time.Millisecond, refused, nil
}

// takeArgs are the arguments of the take script, nil when no limit is on.
func (s *Store) takeArgs(limits []risk.Limit, id string, now time.Time, explain bool) []any {
	n := 0
	for _, l := range limits {
		if l.On() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	args := make([]any, 0, 1+n+2+2*n+1) // + the explain flag
	args = append(args, n)
	for _, l := range limits {
		if l.On() {
			args = append(args, s.prefix+l.Key)
		}
	}
	args = append(args, id, now.UnixMilli())
	for _, l := range limits {
		if l.On() {
			args = append(args, l.Max, l.Window.Milliseconds())
		}
	}
	if explain {
		args = append(args, "1")
	}
	return args
}

// Release implements risk.Store in one script call per slot (one on a
// single server); on a cluster the slots' calls run at once, every one is
// tried, and the first error is returned.
func (s *Store) Release(ctx context.Context, keys []string, id string) error {
	return s.releaseKeys(ctx, s.redisKeys(keys), id)
}

// releaseKeys is Release on prefixed keys.
func (s *Store) releaseKeys(ctx context.Context, keys []string, id string) error {
	return eachSlot(s.pool, keys, func(group []string) error {
		_, err := redisconn.Eval(ctx, s.pool, release, keyArgs(group, id)...)
		return err
	})
}

// Clear implements risk.Store with one DEL per slot (one on a single
// server), run as Release runs its calls.
func (s *Store) Clear(ctx context.Context, keys ...string) error {
	return eachSlot(s.pool, s.redisKeys(keys), func(group []string) error {
		args := make([]any, len(group))
		for i, k := range group {
			args[i] = k
		}
		_, err := redisconn.Do(ctx, s.pool, "DEL", args...)
		return err
	})
}

// eachSlot calls fn with keys grouped by slot (redisconn.SplitBySlot: one
// group on a single server), the groups at once when there are several,
// and returns the first error in group order.
func eachSlot(c redisconn.Client, keys []string, fn func(group []string) error) error {
	groups := redisconn.SplitBySlot(c, keys)
	if len(groups) == 1 {
		return fn(groups[0])
	}
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { errs[i] = fn(g) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// redisKeys are keys with the store's prefix.
func (s *Store) redisKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.prefix + k
	}
	return out
}

// keyArgs builds a -1 keyCount script call: the key count, the keys, then
// argv.
func keyArgs(keys []string, argv ...any) []any {
	args := make([]any, 0, 1+len(keys)+len(argv))
	args = append(args, len(keys))
	for _, k := range keys {
		args = append(args, k)
	}
	return append(args, argv...)
}

// PingTarget names the backend, "redis", and the pool the store runs on
// (backend.Pinger).
func (s *Store) PingTarget() (string, any) { return redisconn.Name, s.pool }

// Ping checks that the Redis server answers (redisconn.Ping).
func (s *Store) Ping(ctx context.Context) error { return redisconn.Ping(ctx, s.pool) }
