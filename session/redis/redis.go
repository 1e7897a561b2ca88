// Package redis keeps sessions in Redis: bodies in scs/redisstore (one
// string key per token hash, prefix + "session:" + hash) and the per-user
// index in one sorted set per user (prefix + "usess:" + user id).
//
// Revoking every session of a user costs two round trips whatever their
// number: Index.PopAll (one script) and Store.DeleteMany (one pipeline);
// listing them costs two as well: Index.List and Store.FindMany (MGET).
package redis

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// New returns the session body store (a *Store) and the per-user index,
// both on pool (prefix defaults to DefaultPrefix).
func New(pool *redis.Pool, prefix string) (session.Store, *Index) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return NewStore(pool, prefix+"session:"), &Index{pool: pool, prefix: prefix + "usess:"}
}

// Store is scs/redisstore with errors wrapped as *backend.Error and a
// one-round-trip DeleteMany. It implements session.Store and
// session.BatchDeleter.
type Store struct {
	rs     *redisstore.RedisStore
	pool   *redis.Pool
	prefix string
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.BatchDeleter = (*Store)(nil)
	_ session.BatchFinder  = (*Store)(nil)
	_ backend.Pinger       = (*Store)(nil)
)

// NewStore returns a Store whose keys are prefix + token hash.
func NewStore(pool *redis.Pool, prefix string) *Store {
	return &Store{rs: redisstore.NewWithPrefix(pool, prefix), pool: pool, prefix: prefix}
}

// Find returns the body stored under key; found is false when there is none.
func (s *Store) Find(key string) ([]byte, bool, error) {
	b, found, err := s.rs.Find(key)
	return b, found, redisconn.Wrap(err)
}

// Commit stores b under key until expiry (an expiry in the past deletes it).
func (s *Store) Commit(key string, b []byte, expiry time.Time) error {
	return redisconn.Wrap(s.rs.Commit(key, b, expiry))
}

// Delete removes key.
func (s *Store) Delete(key string) error {
	return redisconn.Wrap(s.rs.Delete(key))
}

// deleteChunk is the most keys one DEL carries.
const deleteChunk = 500

// DeleteMany removes keys in one round trip: a pipeline of DELs of at most
// 500 keys each. The keys carry no hash tag, so on Redis Cluster this would
// need one DEL per slot.
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	conn, err := redisconn.Get(ctx, s.pool)
	if err != nil {
		return err
	}
	defer conn.Close()
	for start := 0; start < len(keys); start += deleteChunk {
		chunk := keys[start:min(start+deleteChunk, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = s.prefix + k
		}
		if err := conn.Send("DEL", args...); err != nil {
			return redisconn.Wrap(err)
		}
	}
	replies, err := redis.Values(redis.DoContext(conn, ctx, ""))
	if err != nil {
		return redisconn.Wrap(err)
	}
	for _, r := range replies {
		if e, ok := r.(redis.Error); ok {
			return redisconn.Wrap(e)
		}
	}
	return nil
}

// FindMany reads the bodies of keys (nil where there is none) with one
// MGET per 500 keys. Like DeleteMany, on Redis Cluster this would need one
// MGET per slot.
func (s *Store) FindMany(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, 0, len(keys))
	for start := 0; start < len(keys); start += deleteChunk {
		chunk := keys[start:min(start+deleteChunk, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = s.prefix + k
		}
		bs, err := redis.ByteSlices(redisconn.Do(ctx, s.pool, "MGET", args...))
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// Replace overwrites key with b until expiry only if key still exists (SET
// XX), so rewriting a session (idle refresh, new user data) can never bring
// back one that was revoked meanwhile. It reports whether it wrote.
func (s *Store) Replace(ctx context.Context, key string, b []byte, expiry time.Time) (bool, error) {
	reply, err := redisconn.Do(ctx, s.pool, "SET", s.prefix+key, b, "XX", "PXAT", expiry.UnixMilli())
	if err != nil {
		return false, err
	}
	return reply != nil, nil
}

var _ session.Replacer = (*Store)(nil)

// Take reads and deletes key in one command (GETDEL, Redis 6.2+), so
// that of concurrent Ends of one session exactly one gets its body
// (session.Taker).
func (s *Store) Take(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := redis.Bytes(redisconn.Do(ctx, s.pool, "GETDEL", s.prefix+key))
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

var _ session.Taker = (*Store)(nil)

// PingTarget names the backend, "redis", and the pool the store runs on
// (backend.Pinger).
func (s *Store) PingTarget() (string, any) { return redisconn.Name, s.pool }

// Ping checks that the Redis server answers (redisconn.Ping).
func (s *Store) Ping(ctx context.Context) error { return redisconn.Ping(ctx, s.pool) }
