package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	"github.com/simpleuser/simpleuser/risk/risktest"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// TestConformance runs the shared risk.Store suite against Redis.
func TestConformance(t *testing.T) {
	risktest.Run(t, func(t *testing.T) risk.Store {
		pool, prefix := testenv.Redis(t)
		return riskredis.New(pool, prefix)
	})
}

// limits gives every key the same rule.
func limits(keys []string, max int, window time.Duration) []risk.Limit {
	out := make([]risk.Limit, len(keys))
	for i, k := range keys {
		out[i] = risk.Limit{Key: k, Max: max, Window: window}
	}
	return out
}

func newStore(t *testing.T) (*riskredis.Store, *redis.Pool, string) {
	pool, prefix := testenv.Redis(t)
	return riskredis.New(pool, prefix), pool, prefix
}

func take(t *testing.T, s *riskredis.Store, keys []string, id string, max int, window time.Duration, now time.Time) time.Duration {
	t.Helper()
	w, err := s.Take(context.Background(), limits(keys, max, window), id, now)
	if err != nil {
		t.Fatalf("Take(%q, %s): %v", keys, id, err)
	}
	return w
}

func zcard(t *testing.T, pool *redis.Pool, key string) int {
	t.Helper()
	n, err := redis.Int(redisconn.Do(context.Background(), pool, "ZCARD", key))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSlidingWindow(t *testing.T) {
	s, _, _ := newStore(t)
	k := []string{"attempt:a"}
	for i := range 3 {
		now := t0.Add(time.Duration(i) * 10 * time.Second)
		if w := take(t, s, k, fmt.Sprint(i), 3, time.Minute, now); w != 0 {
			t.Fatalf("take %d: wait %v, want 0", i, w)
		}
	}
	// Full: the oldest entry (t0) leaves the window at t0+1m.
	if w := take(t, s, k, "x", 3, time.Minute, t0.Add(30*time.Second)); w != 30*time.Second {
		t.Fatalf("wait = %v, want 30s", w)
	}
	// Exactly at t0+1m the t0 entry is forgotten.
	if w := take(t, s, k, "y", 3, time.Minute, t0.Add(time.Minute)); w != 0 {
		t.Fatalf("wait at window edge = %v, want 0", w)
	}
	// Now t0+10s, t0+20s, t0+1m are held: next room at t0+10s+1m.
	if w := take(t, s, k, "z", 3, time.Minute, t0.Add(time.Minute+time.Millisecond)); w != 10*time.Second-time.Millisecond {
		t.Fatalf("wait = %v, want 9.999s", w)
	}
}

// TestMultiKeyAllOrNothing: a blocked key blocks all and nothing is
// recorded; the wait is the longest of the blocked keys.
func TestMultiKeyAllOrNothing(t *testing.T) {
	s, pool, prefix := newStore(t)
	take(t, s, []string{"ip"}, "1", 1, time.Minute, t0)
	take(t, s, []string{"email"}, "2", 1, 2*time.Minute, t0)
	w := take(t, s, []string{"fresh", "ip", "email"}, "3", 1, 3*time.Minute, t0.Add(time.Second))
	if w != 3*time.Minute-time.Second {
		t.Fatalf("wait = %v, want 2m59s (longest, with this call's window)", w)
	}
	if n := zcard(t, pool, prefix+"{risk}:fresh"); n != 0 {
		t.Fatalf("blocked Take recorded %d entries under an open key", n)
	}
}

func TestReleaseAndClear(t *testing.T) {
	s, pool, prefix := newStore(t)
	ctx := context.Background()
	keys := []string{"a", "b"}
	take(t, s, keys, "1", 2, time.Minute, t0)
	take(t, s, keys, "2", 2, time.Minute, t0)
	if w := take(t, s, keys, "3", 2, time.Minute, t0); w == 0 {
		t.Fatal("third take not blocked")
	}
	if err := s.Release(ctx, keys, "2"); err != nil {
		t.Fatal(err)
	}
	if w := take(t, s, keys, "3", 2, time.Minute, t0); w != 0 {
		t.Fatalf("take after Release: wait %v", w)
	}
	if err := s.Clear(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	if got, _ := testenv.RedisKeys(pool, prefix); len(got) != 0 {
		t.Fatalf("keys after Clear: %q", got)
	}
	for _, err := range []error{s.Release(ctx, nil, "x"), s.Clear(ctx)} {
		if err != nil {
			t.Fatalf("empty key list: %v", err)
		}
	}
}

func TestNonPositiveMaxRecordsNothing(t *testing.T) {
	s, pool, prefix := newStore(t)
	for _, max := range []int{0, -1} {
		if w := take(t, s, []string{"k"}, "1", max, time.Minute, t0); w != 0 {
			t.Fatalf("max %d: wait %v", max, w)
		}
	}
	if got, _ := testenv.RedisKeys(pool, prefix); len(got) != 0 {
		t.Fatalf("keys created: %q", got)
	}
}

// TestConcurrentTake: 100 goroutines race on one key; exactly max of them
// get in (1 for a cooldown, 5 for an attempt limit), and the losers leave
// no trace under their own second key.
func TestConcurrentTake(t *testing.T) {
	for _, max := range []int{1, 5} {
		t.Run(fmt.Sprintf("max=%d", max), func(t *testing.T) {
			s, pool, prefix := newStore(t)
			now := time.Now()
			var mu sync.Mutex
			var won []int
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					keys := []string{"shared", fmt.Sprint("own:", i)}
					w, err := s.Take(context.Background(), limits(keys, max, time.Minute), fmt.Sprint(i), now)
					if err != nil {
						t.Error(err)
						return
					}
					if w == 0 {
						mu.Lock()
						won = append(won, i)
						mu.Unlock()
					} else if w != time.Minute {
						t.Errorf("loser %d: wait %v, want 1m", i, w)
					}
				}()
			}
			wg.Wait()
			if len(won) != max {
				t.Fatalf("%d of 100 got in, want exactly %d", len(won), max)
			}
			if n := zcard(t, pool, prefix+"{risk}:shared"); n != max {
				t.Fatalf("shared holds %d entries, want %d", n, max)
			}
			keys, _ := testenv.RedisKeys(pool, prefix+"{risk}:own:")
			if len(keys) != max {
				t.Fatalf("%d own keys exist, want only the %d winners'", len(keys), max)
			}
		})
	}
}

// TestKeysAndTTL: keys are prefix + "{risk}:" + key and every one expires
// within its window.
func TestKeysAndTTL(t *testing.T) {
	s, pool, prefix := newStore(t)
	ctx := context.Background()
	now := time.Now()
	take(t, s, []string{"send:a", "send:ip"}, "1", 1, time.Minute, now)
	take(t, s, []string{"send:a"}, "2", 1, time.Minute, now) // blocked
	take(t, s, []string{"try:a"}, "1", 5, 10*time.Minute, now)
	take(t, s, []string{"try:a"}, "2", 5, 10*time.Minute, now)
	s.Release(ctx, []string{"try:a"}, "1")
	keys, err := testenv.RedisKeys(pool, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("keys = %q, want 3", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"{risk}:") {
			t.Errorf("key %q lacks %q", k, prefix+"{risk}:")
		}
		ttl, err := redis.Int64(redisconn.Do(ctx, pool, "PTTL", k))
		if err != nil || ttl <= 0 || ttl > (10*time.Minute).Milliseconds() {
			t.Errorf("PTTL %s = %d, %v; want in (0, window]", k, ttl, err)
		}
	}
}

func TestFailsClosed(t *testing.T) {
	s := riskredis.New(testenv.DeadRedis(t), "x:")
	ctx := context.Background()
	_, takeErr := s.Take(ctx, limits([]string{"k"}, 1, time.Minute), "1", time.Now())
	for name, err := range map[string]error{
		"Take":    takeErr,
		"Release": s.Release(ctx, []string{"k"}, "1"),
		"Clear":   s.Clear(ctx, "k"),
	} {
		var be *backend.Error
		if !errors.As(err, &be) {
			t.Errorf("%s = %v, want *backend.Error", name, err)
		}
	}
}
