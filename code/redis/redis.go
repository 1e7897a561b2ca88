// Package redis is the Redis implementation of code.Store.
//
// Each record is one string key, prefix + "code:" + key, written with SET PX
// so Redis expires it; consumption is a compare-and-delete Lua script.
package redis

import (
	"context"
	"errors"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/redisconn"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// Store is a code.Store on Redis. It is safe for concurrent use.
type Store struct {
	pool   *redis.Pool
	prefix string
}

var _ code.Store = (*Store)(nil)

// New returns a Store using pool, with keys prefix + "code:" + key
// (prefix defaults to DefaultPrefix).
func New(pool *redis.Pool, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{pool: pool, prefix: prefix + "code:"}
}

func (s *Store) key(k string) string { return s.prefix + k }

// Set stores rec under key for ttl (rounded up to a millisecond), replacing
// any previous record. A ttl <= 0 just deletes the key.
func (s *Store) Set(ctx context.Context, key string, rec []byte, ttl time.Duration) error {
	if ttl <= 0 {
		_, err := redisconn.Do(ctx, s.pool, "DEL", s.key(key))
		return err
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	_, err := redisconn.Do(ctx, s.pool, "SET", s.key(key), rec, "PX", int64(ms))
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

// deleteIfEqual deletes KEYS[1] when it holds exactly ARGV[1]. Not safe to
// run twice: after a lost reply a second run would answer 0 ("not this
// code") for a code the first consumed; the loss is a 503 instead.
var deleteIfEqual = redis.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// DeleteIfEqual deletes key only if it still holds exactly rec, in one
// atomic script, and reports whether it did.
func (s *Store) DeleteIfEqual(ctx context.Context, key string, rec []byte) (bool, error) {
	n, err := redis.Int(redisconn.Eval(ctx, s.pool, deleteIfEqual, s.key(key), rec))
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
