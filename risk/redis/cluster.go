package redis

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
)

// admit is one key's step of a Take on a cluster. KEYS[1] = the key; ARGV
// = id, now ms, max, window ms, then "1" to record the entry when the key
// has room or "0" to check only. It forgets the entries older than the
// window, then returns:
//
//   - 0 when the key holds id: recorded now, or already by an earlier run
//     of this very call (a resend after a lost reply: nothing is recorded
//     twice);
//   - the wait in ms (> 0) when the key holds max or more entries: until
//     its oldest counted entry leaves the window;
//   - -1 when the key has room and ARGV[5] is "0" (nothing recorded).
//
// Safe to run twice (redisconn.Idempotent): a second run finds the id the
// first recorded and answers 0 again.
var admit = redisconn.Idempotent(redis.NewScript(1, `
local k, id, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local max, window = tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('ZSCORE', k, id) then return 0 end
redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
local n = redis.call('ZCARD', k)
if n >= max then
  local e = redis.call('ZRANGE', k, n - max, n - max, 'WITHSCORES')
  local w = tonumber(e[2]) + window - now
  if w < 1 then w = 1 end
  return w
end
if ARGV[5] ~= '1' then return -1 end
redis.call('ZADD', k, now, id)
redis.call('PEXPIRE', k, window)
return 0
`))

// unwindTimeout bounds the release of a failed or refused Take's entries,
// which runs even when the caller's context has ended.
const unwindTimeout = 2 * time.Second

// step is one limit of a cluster Take: its index in the call's limits and
// its Redis key.
type step struct {
	index int
	key   string
	limit risk.Limit
}

// takeCluster is Take and TakeExplain on a cluster, one admit script per
// key, each on its own slot's master:
//
//  1. The keys are taken in the order of their names, so two Takes over
//     the same keys meet on them in the same order (as locks taken in a
//     fixed order): of 100 concurrent Takes of the same cooldown keys, the
//     first to record on the first key passes and every other is refused
//     there, and records nothing after. Until a key refuses, each step
//     records the entry if its key has room (atomically: no key ever holds
//     more than Max); after a refusal the remaining keys are only checked,
//     for the wait and the refused indexes.
//  2. When a key refused, the entry is removed again from the keys that
//     hold it (one script per slot) and the longest wait returned, with
//     the indexes in limits of the refusing limits, increasing.
//
// Between steps other Takes run: one may meet this call's entry before it
// is removed and be refused by it (over-refusal), never admitted past Max.
// When a step fails (a master down, a timeout), the entry is removed
// best-effort, detached from ctx, from every key this call may have
// recorded it on (the failing key included: its reply may have been lost
// after the script ran), and the step's error returned: a *backend.Error,
// the service's 503. An entry that removal cannot reach stays until its
// key's window expires it (every key has a TTL of its window); meanwhile
// it counts as one more attempt, on the refusing side. A failed removal
// after a refusal is returned as the error too.
func (s *Store) takeCluster(ctx context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, []int, error) {
	steps := make([]step, 0, len(limits))
	for i, l := range limits {
		if l.On() {
			steps = append(steps, step{index: i, key: s.prefix + l.Key, limit: l})
		}
	}
	if len(steps) == 0 {
		return 0, nil, nil
	}
	slices.SortFunc(steps, func(a, b step) int { return strings.Compare(a.key, b.key) })
	ms := now.UnixMilli()
	var wait int64
	var refused []int
	held := make([]string, 0, len(steps))
	for _, st := range steps {
		record := "1"
		if wait > 0 {
			record = "0"
		}
		r, err := redis.Int64(redisconn.Eval(ctx, s.pool, admit, st.key, id, ms, st.limit.Max, st.limit.Window.Milliseconds(), record))
		if err != nil {
			_ = s.unwind(ctx, append(held, st.key), id)
			return 0, nil, err
		}
		switch {
		case r == 0:
			held = append(held, st.key)
		case r > 0:
			wait = max(wait, r)
			refused = append(refused, st.index)
		}
	}
	if wait == 0 {
		return 0, nil, nil
	}
	if err := s.unwind(ctx, held, id); err != nil {
		return 0, nil, err
	}
	slices.Sort(refused)
	return time.Duration(wait) * time.Millisecond, refused, nil
}

// unwind removes entry id from keys (prefixed), one release script per
// slot, detached from ctx's cancellation and bounded by unwindTimeout. It
// tries every slot and returns the first error.
func (s *Store) unwind(ctx context.Context, keys []string, id string) error {
	if len(keys) == 0 {
		return nil
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unwindTimeout)
	defer cancel()
	return s.releaseKeys(dctx, keys, id)
}
