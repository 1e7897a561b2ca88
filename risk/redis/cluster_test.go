package redis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestConformanceCluster runs the shared risk.Store suite on the Redis
// Cluster of REDIS_CLUSTER_URL, where a Take is one single-key script per
// key, each key in its own slot.
func TestConformanceCluster(t *testing.T) {
	risktest.Run(t, func(t *testing.T) risk.Store {
		c, prefix := testenv.RedisCluster(t)
		return riskredis.New(c, prefix)
	})
}

// slotMasters returns the master address ("host:port") of every slot, from
// CLUSTER SLOTS.
func slotMasters(t *testing.T, c redisconn.Client) []string {
	t.Helper()
	v, err := redis.Values(redisconn.Do(t.Context(), c, "CLUSTER", "SLOTS"))
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	owner := make([]string, 16384)
	for _, r := range v {
		rng, err := redis.Values(r, nil)
		if err != nil || len(rng) < 3 {
			t.Fatalf("CLUSTER SLOTS entry %v: %v", r, err)
		}
		lo, _ := redis.Int(rng[0], nil)
		hi, _ := redis.Int(rng[1], nil)
		m, _ := redis.Values(rng[2], nil)
		host, _ := redis.String(m[0], nil)
		port, _ := redis.Int(m[1], nil)
		for s := lo; s <= hi; s++ {
			owner[s] = fmt.Sprintf("%s:%d", host, port)
		}
	}
	return owner
}

// keySlot is CLUSTER KEYSLOT key, as the server computes it; it must agree
// with redisconn.Slot, which routes the commands.
func keySlot(t *testing.T, c redisconn.Client, key string) int {
	t.Helper()
	n, err := redis.Int(redisconn.Do(t.Context(), c, "CLUSTER", "KEYSLOT", key))
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
	}
	if n != redisconn.Slot(key) {
		t.Fatalf("CLUSTER KEYSLOT %s = %d, redisconn.Slot = %d", key, n, redisconn.Slot(key))
	}
	return n
}

// keysByMaster lists the keys under prefix on each master (SCAN on each
// master's own connection, no redirection).
func keysByMaster(t *testing.T, c *redisconn.Cluster, prefix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := c.EachMaster(func(addr string, conn redis.Conn) error {
		cursor := "0"
		for {
			v, err := redis.Values(conn.Do("SCAN", cursor, "MATCH", prefix+"*", "COUNT", 1000))
			if err != nil {
				return err
			}
			var batch []string
			if _, err := redis.Scan(v, &cursor, &batch); err != nil {
				return err
			}
			out[addr] = append(out[addr], batch...)
			if cursor == "0" {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatalf("SCAN on each master: %v", err)
	}
	return out
}

// TestKeysSpreadOverSlots: the keys of one Take (a send's email, device
// and address keys, named so that their slots belong to the three masters)
// carry no hash tag, each sits in its own slot (CLUSTER KEYSLOT) on the
// master that serves that slot, each records the entry, and the limit is
// enforced across masters: a second Take is refused by all three.
func TestKeysSpreadOverSlots(t *testing.T) {
	c, prefix := testenv.RedisCluster(t)
	s := riskredis.New(c, prefix)
	owner := slotMasters(t, c)
	var names []string
	want := map[string]string{} // master → its key
	for _, shape := range []string{"s:login:e:", "s:login:s:", "s:login:b:"} {
		for i := 0; ; i++ {
			name := fmt.Sprint(shape, i)
			m := owner[keySlot(t, c, prefix+"risk:"+name)]
			if _, taken := want[m]; !taken {
				want[m] = prefix + "risk:" + name
				names = append(names, name)
				break
			}
		}
	}
	if len(want) != 3 {
		t.Fatalf("masters = %v, want 3 (a 3-master cluster)", want)
	}
	if w := take(t, s, names, "id1", 1, time.Minute, t0); w != 0 {
		t.Fatalf("first Take: wait %v", w)
	}
	got := keysByMaster(t, c, prefix)
	for m, k := range want {
		if !slices.Equal(got[m], []string{k}) {
			t.Errorf("master %s holds %q, want [%q]", m, got[m], k)
		}
		if strings.Contains(k, "{") {
			t.Errorf("key %q holds a hash tag", k)
		}
		if _, err := redis.Float64(redisconn.Do(t.Context(), c, "ZSCORE", k, "id1")); err != nil {
			t.Errorf("ZSCORE %s id1: %v", k, err)
		}
	}
	wait, refused, err := s.TakeExplain(t.Context(), limits(names, 1, time.Minute), "id2", t0.Add(time.Second))
	if err != nil || wait != time.Minute-time.Second || !slices.Equal(refused, []int{0, 1, 2}) {
		t.Fatalf("second Take = %v, %v, %v; want 59s, [0 1 2]", wait, refused, err)
	}
}

// TestKeysSpreadUnderLoad: 3,000 Takes of a send's shape (an email key of
// its own, an address key shared by 15 emails: 3,200 keys) spread over the
// three masters in shares near a third (each at least a quarter). The
// counts are logged (docs/backends.md, "Sizing on a cluster").
func TestKeysSpreadUnderLoad(t *testing.T) {
	c, prefix := testenv.RedisCluster(t)
	s := riskredis.New(c, prefix)
	ctx := context.Background()
	for i := range 3000 {
		ls := []risk.Limit{
			{Key: fmt.Sprintf("s:login:e:%d", i), Max: 1, Window: time.Minute},
			{Key: fmt.Sprintf("s:login:b:%d", i%200), Max: 20, Window: 10 * time.Minute},
		}
		if w, err := s.Take(ctx, ls, fmt.Sprint(i), t0); err != nil || w != 0 {
			t.Fatalf("Take %d = %v, %v", i, w, err)
		}
	}
	total := 0
	got := keysByMaster(t, c, prefix)
	for m, keys := range got {
		t.Logf("master %s: %d risk keys", m, len(keys))
		total += len(keys)
	}
	if total != 3200 || len(got) != 3 {
		t.Fatalf("%d keys on %d masters, want 3200 on 3", total, len(got))
	}
	for m, keys := range got {
		if len(keys) < 800 {
			t.Errorf("master %s holds %d of 3200 keys, want at least a quarter", m, len(keys))
		}
	}
}

// TestClusterConcurrentTake: many goroutines Take the same limits at once;
// no key ever admits more than its Max.
//
// Same keys: 100 Takes of three keys with Max 3, each listing the keys in
// one of their six orders: exactly 3 pass (the keys are taken in one
// order, so the first three to record on the first key pass and the
// others record nothing), every other waits the window, and each key holds
// exactly the 3 entries.
//
// Overlapping keys: 200 Takes of two or three of four keys, Max 5: for each
// key, at most 5 of the Takes that included it passed, and the key holds
// exactly the entries of those (the refused Takes' entries were released).
func TestClusterConcurrentTake(t *testing.T) {
	c, prefix := testenv.RedisCluster(t)
	s := riskredis.New(c, prefix)
	w := time.Minute
	run := func(n int, keysOf func(i int) []string, max int) (passed [][]string) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				keys := keysOf(i)
				<-start
				wait, err := s.Take(context.Background(), limits(keys, max, w), fmt.Sprint("c", i), t0)
				switch {
				case err != nil:
					t.Errorf("Take %d: %v", i, err)
				case wait == 0:
					mu.Lock()
					passed = append(passed, keys)
					mu.Unlock()
				case wait != w:
					t.Errorf("Take %d waits %v, want %v", i, wait, w)
				}
			})
		}
		close(start)
		wg.Wait()
		return passed
	}
	zcard := func(key string) int {
		n, err := redis.Int(redisconn.Do(t.Context(), c, "ZCARD", prefix+"risk:"+key))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("same keys", func(t *testing.T) {
		orders := [][]string{{"a", "b", "c"}, {"a", "c", "b"}, {"b", "a", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"c", "b", "a"}}
		passed := run(100, func(i int) []string { return orders[i%6] }, 3)
		if len(passed) != 3 {
			t.Errorf("%d of 100 Takes with Max 3 passed, want 3", len(passed))
		}
		for _, k := range []string{"a", "b", "c"} {
			if n := zcard(k); n != 3 {
				t.Errorf("key %s holds %d entries, want 3", k, n)
			}
		}
	})

	t.Run("overlapping keys", func(t *testing.T) {
		sets := [][]string{{"p", "q"}, {"q", "r", "s"}, {"s", "p"}, {"r", "q"}, {"p", "r", "s"}, {"s", "q", "p"}, {"r", "s"}}
		passed := run(200, func(i int) []string { return sets[i%len(sets)] }, 5)
		if len(passed) == 0 {
			t.Fatal("no Take passed")
		}
		per := map[string]int{}
		for _, keys := range passed {
			for _, k := range keys {
				per[k]++
			}
		}
		for _, k := range []string{"p", "q", "r", "s"} {
			if per[k] > 5 {
				t.Errorf("key %s admitted %d Takes, Max 5", k, per[k])
			}
			if n := zcard(k); n != per[k] {
				t.Errorf("key %s holds %d entries, want the %d of the Takes that passed", k, n, per[k])
			}
		}
		t.Logf("%d of 200 passed; per key %v", len(passed), per)
	})
}

// TestClusterStepFailure: a Take whose first key's master recorded the
// entry and whose second key's master is down (SIGKILLed, not yet replaced:
// a private cluster with a long node timeout) returns a *backend.Error for
// "redis" (the service's 503), and the entry recorded on the first key is
// released, not stranded.
func TestClusterStepFailure(t *testing.T) {
	pc := testenv.StartPrivateCluster(t, time.Minute)
	c, err := redisconn.NewCluster(redisconn.Options{URL: pc.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := redisconn.Ping(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	prefix := "fail:"
	s := riskredis.New(c, prefix)
	// Two keys in name order whose slots have different masters.
	first, second := "a:1", ""
	m1 := pc.MasterOf(redisconn.Slot(prefix + "risk:" + first))
	for i := 0; second == ""; i++ {
		if k := fmt.Sprint("b:", i); pc.MasterOf(redisconn.Slot(prefix+"risk:"+k)) != m1 {
			second = k
		}
	}
	if w := take(t, s, []string{second}, "warm", 5, time.Minute, t0); w != 0 { // a pooled connection to the master to kill
		t.Fatalf("warm-up Take: wait %v", w)
	}
	// An entry without TTL on the first key: after the Take, a TTL shows
	// that its step ran (the script sets one when it records).
	fk := prefix + "risk:" + first
	if _, err := redisconn.Do(t.Context(), c, "ZADD", fk, t0.UnixMilli(), "old"); err != nil {
		t.Fatal(err)
	}
	pc.MasterOf(redisconn.Slot(prefix + "risk:" + second)).Kill()

	_, err = s.Take(t.Context(), limits([]string{second, first}, 5, time.Minute), "x", t0)
	var be *backend.Error
	if !errors.As(err, &be) || backend.Name(err) != "redis" {
		t.Fatalf("Take with a master down = %v, want a *backend.Error for redis", err)
	}
	members, err := redis.Strings(redisconn.Do(t.Context(), c, "ZRANGE", fk, 0, -1))
	if err != nil || !slices.Equal(members, []string{"old"}) {
		t.Fatalf("first key holds %q, %v after the failed Take; want only [old] (x released)", members, err)
	}
	if ttl, err := redis.Int64(redisconn.Do(t.Context(), c, "PTTL", fk)); err != nil || ttl <= 0 {
		t.Fatalf("first key PTTL = %d, %v: its step did not record", ttl, err)
	}
}
