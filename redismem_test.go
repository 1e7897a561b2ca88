package simpleuser_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/risk"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
)

// TestRedisMemoryPerKey measures what the kit's short-lived Redis keys cost
// (docs/operations.md, "Redis memory"): the used_memory delta (INFO memory)
// over n of each on a redis-server of the test's own (the shared one has
// other tests' keys coming and going), divided by n:
//
//   - a send: what one POST /send-code/send leaves for its lifetime, the
//     code and three cooldown/budget keys, through Service.SendCode;
//   - a code alone (code/redis, the record SendCode writes);
//   - a counter: a risk key holding one entry (risk/redis), as each
//     cooldown, budget or attempt window is at first;
//   - an entry added to an existing counter (a budget's second send...).
//
// The budgets asserted are loose (about twice the figures measured on
// Redis 7.0), so that a change that bloats these keys is caught.
func TestRedisMemoryPerKey(t *testing.T) {
	const n = 20000
	srv := testenv.StartRedisServer(t)
	pool, err := redisconn.NewPool(redisconn.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	ctx := context.Background()
	do := func(cmd string, args ...any) any {
		t.Helper()
		v, err := redisconn.Do(ctx, pool, cmd, args...)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return v
	}
	used := func() int64 {
		t.Helper()
		info, _ := redis.String(do("INFO", "memory"), nil)
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatalf("no used_memory in INFO memory")
		return 0
	}
	measure := func(what string, fill func(i int)) float64 {
		t.Helper()
		do("FLUSHALL") // the test's own server
		before := used()
		for i := range n {
			fill(i)
		}
		per := float64(used()-before) / n
		keys, _ := redis.Int64(do("DBSIZE"), nil)
		t.Logf("%-38s %6.0f B (%d keys for %d)", what, per, keys, n)
		return per
	}
	hash := func(s string) string { // the shape of the kit's hashed key parts
		h := sha256.Sum256([]byte(s))
		return base64.RawURLEncoding.EncodeToString(h[:18])
	}
	ip := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }

	f := newFixture(t, func(c *simpleuser.Config) {
		c.Now = time.Now // Redis expires the keys by its own clock
		c.Codes = coderedis.New(pool, "")
		c.Risk = riskredis.New(pool, "")
	})
	perSend := measure("send (code + 3 cooldown/budget keys)", func(i int) {
		c := simpleuser.Client{SSAID: fmt.Sprintf("device-%d", i), IP: ip(i)}
		if err := f.svc.SendCode(ctx, c, fmt.Sprintf("person-%d@example.com", i), hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
	})

	// The record SendCode stored, to store n more alone.
	keys, _ := redis.Strings(do("KEYS", "simpleuser:code:*"), nil)
	if len(keys) == 0 {
		t.Fatal("no code key after the sends")
	}
	rec, _ := redis.Bytes(do("GET", keys[0]), nil)
	codes := coderedis.New(pool, "")
	perCode := measure("code", func(i int) {
		if err := codes.Set(ctx, "c:Login:"+hash(strconv.Itoa(i)), rec, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	})

	rs := riskredis.New(pool, "")
	now := time.Now()
	perCounter := measure("counter (one entry)", func(i int) {
		l := []risk.Limit{{Key: "p:s:" + hash(strconv.Itoa(i)), Max: 5, Window: 15 * time.Minute}}
		if _, err := rs.Take(ctx, l, fmt.Sprintf("%024x", i), now); err != nil {
			t.Fatal(err)
		}
	})
	perEntry := measure("entry (20 per counter)", func(i int) {
		l := []risk.Limit{{Key: "s:Login:b:" + hash(strconv.Itoa(i/20)), Max: 20, Window: 10 * time.Minute}}
		if _, err := rs.Take(ctx, l, fmt.Sprintf("%024x", i), now); err != nil {
			t.Fatal(err)
		}
	})

	for _, b := range []struct {
		what      string
		got, most float64
	}{
		{"send", perSend, 1800}, {"code", perCode, 500}, {"counter", perCounter, 450}, {"entry", perEntry, 100},
	} {
		if b.got <= 0 || b.got > b.most {
			t.Errorf("%s: %.0f B each, want at most %.0f", b.what, b.got, b.most)
		}
	}
}
