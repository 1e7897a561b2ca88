package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	"github.com/simpleuser/simpleuser/session/sessiontest"
)

// TestConformance runs the shared session backend suite against Redis.
func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) (session.Store, session.Index) {
		pool, prefix := testenv.Redis(t)
		return sessionredis.New(pool, prefix)
	})
}

func newManager(t *testing.T, pool *redis.Pool, prefix string) *session.Manager {
	store, index := sessionredis.New(pool, prefix)
	return &session.Manager{Store: store, Index: index, Lifetime: time.Hour}
}

func create(t *testing.T, m *session.Manager, userID int64) string {
	t.Helper()
	tok, err := m.Create(context.Background(), session.Data{UserID: userID, IP: "127.0.0.1"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return tok
}

func TestManagerLifecycle(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	m := newManager(t, pool, prefix)
	ctx := context.Background()
	a1, a2, b := create(t, m, 1), create(t, m, 1), create(t, m, 2)

	d, err := m.Get(ctx, a1)
	if err != nil || d.UserID != 1 || d.IP != "127.0.0.1" {
		t.Fatalf("Get = %+v, %v", d, err)
	}
	if err := m.Revoke(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, a1); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get revoked = %v, want ErrNotFound", err)
	}
	if n, err := m.SetUserData(ctx, 1, []byte(`{"nick":"x"}`)); n != 1 || err != nil {
		t.Fatalf("SetUserData = %d, %v; want 1", n, err)
	}
	if d, _ := m.Get(ctx, a2); d == nil || string(d.UserData) != `{"nick":"x"}` {
		t.Fatalf("UserData not stored: %+v", d)
	}
	if n, err := m.RevokeUser(ctx, 1); n != 1 || err != nil {
		t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
	}
	if _, err := m.Get(ctx, a2); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after RevokeUser = %v", err)
	}
	if _, err := m.Get(ctx, b); err != nil {
		t.Fatalf("other user's session lost: %v", err)
	}
}

func TestIndex(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	_, x := sessionredis.New(pool, prefix)
	ctx := context.Background()
	now := time.Now()
	for i, exp := range []time.Duration{time.Minute, time.Hour, 2 * time.Hour} {
		if _, err := x.Add(ctx, 7, fmt.Sprint("k", i), now.Add(exp), 0); err != nil {
			t.Fatal(err)
		}
	}
	list := func(at time.Time) []string {
		got, err := x.List(ctx, 7, at)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	if got := list(now); !slices.Equal(got, []string{"k0", "k1", "k2"}) {
		t.Fatalf("List = %q", got)
	}
	if got := list(now.Add(time.Hour)); !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("List an hour later = %q, want [k2] (k1 expires exactly then)", got)
	}
	// The index key lives as long as its longest session.
	ttl, err := redis.Int64(redisconn.Do(ctx, pool, "PTTL", prefix+"usess:7"))
	if err != nil || ttl < (2*time.Hour-time.Minute).Milliseconds() || ttl > (2*time.Hour).Milliseconds() {
		t.Fatalf("index PTTL = %d, %v; want about 2h", ttl, err)
	}
	// A shorter session added later does not shorten it.
	x.Add(ctx, 7, "k3", now.Add(time.Minute), 0)
	ttl2, _ := redis.Int64(redisconn.Do(ctx, pool, "PTTL", prefix+"usess:7"))
	if ttl2 < ttl-time.Minute.Milliseconds() {
		t.Fatalf("index PTTL shrank from %d to %d", ttl, ttl2)
	}
	if err := x.Remove(ctx, 7, "k3"); err != nil {
		t.Fatal(err)
	}
	got, err := x.PopAll(ctx, 7)
	if slices.Sort(got); err != nil || !slices.Equal(got, []string{"k2"}) {
		t.Fatalf("PopAll = %q, %v", got, err)
	}
	if got, err := x.PopAll(ctx, 7); len(got) != 0 || err != nil {
		t.Fatalf("second PopAll = %q, %v", got, err)
	}
	// An already-expired session leaves no index behind.
	x.Add(ctx, 8, "old", now.Add(-time.Second), 0)
	if keys, _ := testenv.RedisKeys(pool, prefix+"usess:8"); len(keys) != 0 {
		t.Fatalf("expired-only index kept: %q", keys)
	}
}

// TestPopAllConcurrent: concurrent PopAlls hand out every key exactly once.
func TestPopAllConcurrent(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	_, x := sessionredis.New(pool, prefix)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range 50 {
		if _, err := x.Add(ctx, 1, fmt.Sprint(i), exp, 0); err != nil {
			t.Fatal(err)
		}
	}
	var total atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := x.PopAll(ctx, 1)
			if err != nil {
				t.Error(err)
			}
			total.Add(int32(len(keys)))
		}()
	}
	wg.Wait()
	if n := total.Load(); n != 50 {
		t.Fatalf("PopAlls returned %d keys in all, want 50", n)
	}
}

// TestKeysAndTTL: keys use the prefix, hold only token hashes (never a raw
// token) and all expire.
func TestKeysAndTTL(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	m := newManager(t, pool, prefix)
	ctx := context.Background()
	var tokens []string
	for i := range 6 {
		tokens = append(tokens, create(t, m, int64(i%3)))
	}
	m.Revoke(ctx, tokens[0])
	keys, err := testenv.RedisKeys(pool, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5+3 {
		t.Fatalf("keys = %q, want 5 sessions + 3 indexes", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"session:") && !strings.HasPrefix(k, prefix+"usess:") {
			t.Errorf("key %q is neither %ssession: nor %susess:", k, prefix, prefix)
		}
		for _, tok := range tokens {
			if strings.Contains(k, tok) {
				t.Errorf("key %q contains a raw token", k)
			}
		}
		ttl, err := redis.Int64(redisconn.Do(ctx, pool, "PTTL", k))
		if err != nil || ttl <= 0 || ttl > time.Hour.Milliseconds() {
			t.Errorf("PTTL %s = %d, %v; want in (0, 1h]", k, ttl, err)
		}
	}
	for _, tok := range tokens[1:] {
		if !slices.Contains(keys, prefix+"session:"+session.Key(tok)) {
			t.Errorf("no body under the hash of a live token")
		}
	}
}

// countingPool is a pool on REDIS_URL that counts round trips: a round
// trip starts whenever the client writes after having read.
func countingPool(t *testing.T) (*redis.Pool, *atomic.Int64) {
	trips := new(atomic.Int64)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tripConn{Conn: c, trips: trips, reading: true}, nil
	}
	pool := &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialURLContext(ctx, testenv.RedisURL(), redis.DialContextFunc(dial))
		},
		MaxIdle: 4,
	}
	t.Cleanup(func() { pool.Close() })
	return pool, trips
}

type tripConn struct {
	net.Conn
	trips   *atomic.Int64
	mu      sync.Mutex
	reading bool
}

func (c *tripConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.reading {
		c.trips.Add(1)
		c.reading = false
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *tripConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	c.reading = true
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// TestRevokeUser1000: revoking 1000 sessions takes 2 round trips (PopAll
// and one pipelined DeleteMany of two 500-key DELs) and removes them all.
func TestRevokeUser1000(t *testing.T) {
	_, prefix := testenv.Redis(t) // cleanup of prefix
	pool, trips := countingPool(t)
	m := newManager(t, pool, prefix)
	m.MaxPerUser = -1
	ctx := context.Background()

	// Warm up: a connection in the pool and the scripts loaded.
	create(t, m, 99)
	if _, err := m.RevokeUser(ctx, 99); err != nil {
		t.Fatal(err)
	}

	tokens := make([]string, 1000)
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(tokens); i += 10 {
				tokens[i] = create(t, m, 42)
			}
		}()
	}
	wg.Wait()
	keep := create(t, m, 43)

	// The counter sees each command: two lookups are two round trips.
	before := trips.Load()
	m.Get(ctx, tokens[0])
	m.Get(ctx, tokens[1])
	if got := trips.Load() - before; got != 2 {
		t.Fatalf("two Gets counted as %d round trips", got)
	}

	before = trips.Load()
	start := time.Now()
	n, err := m.RevokeUser(ctx, 42)
	elapsed := time.Since(start)
	if err != nil || n != 1000 {
		t.Fatalf("RevokeUser = %d, %v; want 1000", n, err)
	}
	if got := trips.Load() - before; got != 2 {
		t.Fatalf("RevokeUser took %d round trips, want 2", got)
	}
	t.Logf("revoked 1000 sessions in %v", elapsed)
	for _, tok := range tokens {
		if _, err := m.Get(ctx, tok); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("revoked session still resolves: %v", err)
		}
	}
	if keys, _ := testenv.RedisKeys(pool, prefix+"usess:42"); len(keys) != 0 {
		t.Fatalf("index left behind: %q", keys)
	}
	if _, err := m.Get(ctx, keep); err != nil {
		t.Fatalf("another user's session lost: %v", err)
	}
}

// TestFailsClosed: with Redis unreachable every operation returns a
// *backend.Error, and a lookup never reads as "no such session".
func TestFailsClosed(t *testing.T) {
	store, x := sessionredis.New(testenv.DeadRedis(t), "x:")
	ctx := context.Background()
	_, found, findErr := store.Find("k")
	_, listErr := x.List(ctx, 1, time.Now())
	_, popErr := x.PopAll(ctx, 1)
	_, addErr := x.Add(ctx, 1, "k", time.Now().Add(time.Hour), 3)
	_, findManyErr := store.(session.BatchFinder).FindMany(ctx, []string{"a", "b"})
	m := &session.Manager{Store: store, Index: x}
	_, mListErr := m.List(ctx, 1, "")
	_, endIDErr := m.EndID(ctx, 1, strings.Repeat("A", session.IDLength))
	_, exceptErr := m.RevokeUserExcept(ctx, 1, "")
	_, getErr := m.Get(ctx, strings.Repeat("a", session.TokenLength))
	_, createErr := m.Create(ctx, session.Data{UserID: 1})
	errs := map[string]error{
		"Find":           findErr,
		"Commit":         store.Commit("k", []byte("b"), time.Now().Add(time.Hour)),
		"Delete":         store.Delete("k"),
		"DeleteMany":     store.(session.BatchDeleter).DeleteMany(ctx, []string{"a", "b"}),
		"Add":            addErr,
		"FindMany":       findManyErr,
		"Remove":         x.Remove(ctx, 1, "k"),
		"List":           listErr,
		"PopAll":         popErr,
		"Manager.Get":    getErr,
		"Manager.Create": createErr,
		"Manager.List":   mListErr,
		"Manager.EndID":  endIDErr,
		"Manager.Except": exceptErr,
	}
	if found {
		t.Error("Find reported found")
	}
	for name, err := range errs {
		var be *backend.Error
		if !errors.As(err, &be) || errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s = %v, want *backend.Error", name, err)
		}
	}
}

// Replace never recreates a deleted session: a rewrite racing a revocation
// cannot bring the session back.
func TestReplaceOnlyExisting(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	st, _ := sessionredis.New(pool, prefix)
	s := st.(*sessionredis.Store)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	if ok, err := s.Replace(ctx, "k1", []byte("x"), exp); ok || err != nil {
		t.Fatalf("Replace of a missing key: ok=%v err=%v", ok, err)
	}
	if _, found, _ := s.Find("k1"); found {
		t.Fatal("Replace created a key")
	}
	if err := s.Commit("k1", []byte("a"), exp); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Replace(ctx, "k1", []byte("b"), exp); !ok || err != nil {
		t.Fatalf("Replace of a live key: ok=%v err=%v", ok, err)
	}
	if b, _, _ := s.Find("k1"); string(b) != "b" {
		t.Fatalf("after Replace: %q", b)
	}
}

// TestSelfServiceRoundTrips: what a user does with their sessions costs a
// fixed number of round trips whatever their number (at the cap, 50):
// List 2 (index, MGET), EndID 3 (index, then End's GETDEL, ZREM),
// RevokeUserExcept 3 (index, DEL pipeline, ZREM); and a Create beyond the
// cap 4 (SET, the index script, DEL, ZREM).
func TestSelfServiceRoundTrips(t *testing.T) {
	_, prefix := testenv.Redis(t)
	pool, trips := countingPool(t)
	m := newManager(t, pool, prefix)
	ctx := t.Context()
	create(t, m, 99) // warm up: a connection in the pool and the script loaded
	var toks []string
	for range session.DefaultMaxPerUser {
		toks = append(toks, create(t, m, 42))
	}
	count := func(what string, want int64, f func() error) {
		t.Helper()
		before := trips.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := trips.Load() - before; got != want {
			t.Errorf("%s took %d round trips, want %d", what, got, want)
		}
	}
	var list []session.Info
	count("List", 2, func() (err error) { list, err = m.List(ctx, 42, toks[0]); return err })
	if len(list) != session.DefaultMaxPerUser {
		t.Fatalf("List: %d sessions, want %d", len(list), session.DefaultMaxPerUser)
	}
	count("Create at the cap", 4, func() error { toks = append(toks, create(t, m, 42)); return nil })
	list, err := m.List(ctx, 42, toks[len(toks)-1])
	if err != nil || len(list) != session.DefaultMaxPerUser || !slices.ContainsFunc(list, func(i session.Info) bool { return i.Current }) {
		t.Errorf("after a Create at the cap: %d sessions (%v), want %d with the new one", len(list), err, session.DefaultMaxPerUser)
	}
	count("EndID", 3, func() error {
		d, err := m.EndID(ctx, 42, list[len(list)-1].ID)
		if err == nil && d == nil {
			err = errors.New("not found")
		}
		return err
	})
	var n int
	count("RevokeUserExcept", 3, func() (err error) { n, err = m.RevokeUserExcept(ctx, 42, toks[len(toks)-1]); return err })
	if n != session.DefaultMaxPerUser-2 {
		t.Errorf("RevokeUserExcept ended %d, want %d", n, session.DefaultMaxPerUser-2)
	}
}
