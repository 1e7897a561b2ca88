// Package redis is the Redis implementation of code.Store.
//
// Each record is one string key, prefix + "code:" + key, written with SET PX
// so Redis expires it; consumption is a compare-and-delete Lua script, and
// its undo a SET NX.
package redis

import (
	"context"
	"errors"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/redisconn"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// Store is a code.Store on Redis. It is safe for concurrent use.
type Store struct {
	pool   redisconn.Client
	prefix string
}

var (
	_ code.Store     = (*Store)(nil)
	_ backend.Pinger = (*Store)(nil)
)

// New returns a Store using pool (a *redis.Pool from redisconn.NewPool, or
// a *redisconn.Cluster), with keys prefix + "code:" + key (prefix defaults
// to DefaultPrefix). Every command and script touches one key, so a
// cluster needs no hash tag.
func New(pool redisconn.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{pool: pool, prefix: prefix + "code:"}
}

func (s *Store) key(k string) string { return s.prefix + k }

// Set stores rec under key for ttl (rounded up to a millisecond), replacing
// any previous record. A ttl <= 0 just deletes the key. On a cluster with
// Options.DurableReplicas the write waits for the replicas
// (redisconn.DoDurable).
func (s *Store) Set(ctx context.Context, key string, rec []byte, ttl time.Duration) error {
	if ttl <= 0 {
		_, err := redisconn.Do(ctx, s.pool, "DEL", s.key(key))
		return err
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	_, err := redisconn.DoDurable(ctx, s.pool, "SET", s.key(key), rec, "PX", int64(ms))
	return err
}

// Get returns the live record under key, or code.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := redis.Bytes(redisconn.Do(ctx, s.pool, "GET", s.key(key)))
	if errors.Is(err, redis.ErrNil) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// consume deletes KEYS[1] when it holds exactly ARGV[1] and returns its
// remaining PTTL (ms, at least 1); -1 when it held something else or
// nothing. Not safe to run twice: after a lost reply a second run would
// answer -1 ("not this code") for a code the first consumed; the loss is a
// 503 instead (redisconn resends only idempotent scripts).
var consume = redis.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  if ttl < 1 then ttl = 1 end
  return ttl
end
return -1
`)

// Consume deletes key only if it still holds exactly rec, in one atomic
// script, and reports whether it did, with the remaining TTL.
func (s *Store) Consume(ctx context.Context, key string, rec []byte) (time.Duration, bool, error) {
	ms, err := redis.Int64(redisconn.Eval(ctx, s.pool, consume, s.key(key), rec))
	if err != nil || ms < 0 {
		return 0, false, err
	}
	return time.Duration(ms) * time.Millisecond, true, nil
}

// Restore puts rec back under key for ttl (rounded up to a millisecond)
// with SET NX: a record stored meanwhile (a newer code) stays.
func (s *Store) Restore(ctx context.Context, key string, rec []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	_, err := redisconn.Do(ctx, s.pool, "SET", s.key(key), rec, "PX", int64(ms), "NX")
	return err
}

// PingTarget names the backend, "redis", and the pool the store runs on
// (backend.Pinger).
func (s *Store) PingTarget() (string, any) { return redisconn.Name, s.pool }

// Ping checks that the Redis server answers (redisconn.Ping).
func (s *Store) Ping(ctx context.Context) error { return redisconn.Ping(ctx, s.pool) }
