package redis_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/code/codetest"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// TestConformance runs the shared code.Store suite against Redis; TTLs are
// server-side, so advancing the clock means sleeping.
func TestConformance(t *testing.T) {
	codetest.Run(t, func(t *testing.T) code.Store {
		pool, prefix := testenv.Redis(t)
		return coderedis.New(pool, prefix)
	}, time.Sleep)
}

func newStore(t *testing.T) (*coderedis.Store, *redis.Pool, string) {
	pool, prefix := testenv.Redis(t)
	return coderedis.New(pool, prefix), pool, prefix
}

func TestSetGetExpire(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Get(ctx, "none"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("Get missing = %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, "k", []byte("one"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", []byte("two\x00bin"), 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "k")
	if err != nil || string(got) != "two\x00bin" {
		t.Fatalf("Get = %q, %v; want the replacing record", got, err)
	}
	time.Sleep(250 * time.Millisecond) // TTLs are server-side
	if _, err := s.Get(ctx, "k"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("Get after TTL = %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, "k", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("Get after Set with ttl 0 = %v, want ErrNotFound", err)
	}
}

func TestConsume(t *testing.T) {
	s, pool, prefix := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.Consume(ctx, "k", []byte("a")); ok || err != nil {
		t.Fatalf("Consume on missing = %v, %v", ok, err)
	}
	s.Set(ctx, "k", []byte("a"), time.Minute)
	if _, ok, err := s.Consume(ctx, "k", []byte("b")); ok || err != nil {
		t.Fatalf("Consume other rec = %v, %v; want false", ok, err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("record gone after a mismatched delete: %v", err)
	}
	left, ok, err := s.Consume(ctx, "k", []byte("a"))
	if !ok || err != nil || left <= 0 || left > time.Minute {
		t.Fatalf("Consume = %v, %v, %v; want true with a TTL in (0, 1m]", left, ok, err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("Get after delete = %v", err)
	}
	// Restore writes the key back with the TTL it is given.
	if err := s.Restore(ctx, "k", []byte("a"), left); err != nil {
		t.Fatal(err)
	}
	ttl, err := redis.Int64(redisconn.Do(ctx, pool, "PTTL", prefix+"code:k"))
	if err != nil || ttl <= 0 || ttl > left.Milliseconds() {
		t.Fatalf("PTTL after Restore = %d, %v; want in (0, %d]", ttl, err, left.Milliseconds())
	}
	if _, ok, err := s.Consume(ctx, "k", []byte("a")); !ok || err != nil {
		t.Fatalf("Consume after Restore = %v, %v; want true", ok, err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("Get after delete = %v", err)
	}
}

// TestConsumeConcurrent: 100 goroutines consume the same sealed code,
// exactly one wins.
func TestConsumeConcurrent(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	secret := []byte("secret")
	rec, err := code.Seal(secret, "123456")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "login:alice", rec, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.Get(ctx, "login:alice")
			if errors.Is(err, code.ErrNotFound) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			if !code.Match(secret, got, "123456") {
				t.Error("sealed code does not match")
				return
			}
			_, ok, err := s.Consume(ctx, "login:alice", got)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d goroutines consumed the code, want exactly 1", n)
	}
}

// TestKeysAndTTL: every key is prefix + "code:" + key and carries a TTL.
func TestKeysAndTTL(t *testing.T) {
	s, pool, prefix := newStore(t)
	ctx := context.Background()
	for _, k := range []string{"a", "b:c", "{x}"} {
		if err := s.Set(ctx, k, []byte("r"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := testenv.RedisKeys(pool, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("keys = %q, want 3", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"code:") {
			t.Errorf("key %q lacks %q", k, prefix+"code:")
		}
		ttl, err := redis.Int64(redisconn.Do(ctx, pool, "PTTL", k))
		if err != nil || ttl <= 0 || ttl > time.Hour.Milliseconds() {
			t.Errorf("PTTL %s = %d, %v; want in (0, 1h]", k, ttl, err)
		}
	}
}

func TestDefaultPrefix(t *testing.T) {
	pool, _ := testenv.Redis(t)
	s := coderedis.New(pool, "")
	ctx := context.Background()
	key := "testdefault:" + t.Name()
	if err := s.Set(ctx, key, []byte("r"), time.Second); err != nil {
		t.Fatal(err)
	}
	defer s.Consume(ctx, key, []byte("r"))
	got, err := redis.Bytes(redisconn.Do(ctx, pool, "GET", "simpleuser:code:"+key))
	if err != nil || !bytes.Equal(got, []byte("r")) {
		t.Fatalf("GET simpleuser:code:%s = %q, %v", key, got, err)
	}
}

// TestFailsClosed: with Redis unreachable every method returns a
// *backend.Error; Get never reports ErrNotFound.
func TestFailsClosed(t *testing.T) {
	s := coderedis.New(testenv.DeadRedis(t), "x:")
	ctx := context.Background()
	_, getErr := s.Get(ctx, "k")
	_, _, consumeErr := s.Consume(ctx, "k", []byte("r"))
	for name, err := range map[string]error{
		"Set":     s.Set(ctx, "k", []byte("r"), time.Minute),
		"Get":     getErr,
		"Consume": consumeErr,
		"Restore": s.Restore(ctx, "k", []byte("r"), time.Minute),
	} {
		var be *backend.Error
		if !errors.As(err, &be) || errors.Is(err, code.ErrNotFound) {
			t.Errorf("%s = %v, want *backend.Error", name, err)
		}
	}
}
