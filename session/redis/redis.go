// Package redis keeps sessions in Redis: bodies as one string key per
// token hash (prefix + "session:" + hash, the layout of scs/redisstore,
// which this package's Store replaces so as to run on a Redis Cluster too)
// and the per-user index in one sorted set per user (prefix + "usess:" +
// user id).
//
// On one server, revoking every session of a user costs two round trips
// whatever their number: Index.PopAll (one script) and Store.DeleteMany
// (one pipeline); listing them costs two as well: Index.List and
// Store.FindMany (MGET). On a cluster a body and its user's index sit in
// different slots (the body is found by its token alone), so each step is a
// single-slot command, ordered so that no step can leave a live session
// unlisted: the body is written before its index entry and removed before
// it, and a listing drops index entries whose body is gone (see
// docs/backends.md, "Redis Cluster"). DeleteMany and FindMany then send
// one DEL or MGET per slot.
package redis

import (
	"context"
	"errors"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// DefaultPrefix is the key prefix used when New gets "".
const DefaultPrefix = redisconn.DefaultPrefix

// New returns the session body store (a *Store) and the per-user index,
// both on pool, a *redis.Pool (redisconn.NewPool) or a *redisconn.Cluster
// (prefix defaults to DefaultPrefix).
func New(pool redisconn.Client, prefix string) (session.Store, *Index) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return NewStore(pool, prefix+"session:"), &Index{pool: pool, prefix: prefix + "usess:"}
}

// Store is an scs session store (scs.Store: Find, Commit, Delete) on a
// redisconn.Client, with errors wrapped as *backend.Error, plus the
// batch and conditional operations of session.BatchDeleter, BatchFinder,
// Replacer and Taker. Its keys are those of scs/redisstore (prefix +
// token), each written with one SET ... PXAT.
type Store struct {
	pool   redisconn.Client
	prefix string
}

var (
	_ session.Store        = (*Store)(nil)
	_ session.BatchDeleter = (*Store)(nil)
	_ session.BatchFinder  = (*Store)(nil)
	_ backend.Pinger       = (*Store)(nil)
)

// NewStore returns a Store whose keys are prefix + token hash.
func NewStore(pool redisconn.Client, prefix string) *Store {
	return &Store{pool: pool, prefix: prefix}
}

// Find, Commit and Delete have scs's signatures, which carry no context:
// their commands are bounded by the client's own timeouts instead (the
// wait for a free connection, redisconn.WaitTimeout, and each command's
// read and write timeouts), without a timer of their own per call.

// Find returns the body stored under key; found is false when there is none.
func (s *Store) Find(key string) ([]byte, bool, error) {
	ctx := context.Background()
	b, err := redis.Bytes(redisconn.Do(ctx, s.pool, "GET", s.prefix+key))
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Commit stores b under key until expiry (an expiry in the past deletes
// it), in one SET PXAT (on a cluster with Options.DurableReplicas, then a
// WAIT: redisconn.DoDurable).
func (s *Store) Commit(key string, b []byte, expiry time.Time) error {
	ctx := context.Background()
	if !expiry.After(time.Now()) {
		_, err := redisconn.Do(ctx, s.pool, "DEL", s.prefix+key)
		return err
	}
	_, err := redisconn.DoDurable(ctx, s.pool, "SET", s.prefix+key, b, "PXAT", expiry.UnixMilli())
	return err
}

// Delete removes key.
func (s *Store) Delete(key string) error {
	ctx := context.Background()
	_, err := redisconn.Do(ctx, s.pool, "DEL", s.prefix+key)
	return err
}

// deleteChunk is the most keys one DEL or MGET carries.
const deleteChunk = 500

// DeleteMany removes keys: on one server in one round trip, a pipeline of
// DELs of at most 500 keys each; on a cluster one DEL per slot (the keys
// are token hashes, spread over the slots).
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, ok := s.pool.(*redisconn.Cluster); ok {
		for _, group := range redisconn.SplitBySlot(s.pool, s.prefixed(keys)) {
			if _, err := redisconn.Do(ctx, s.pool, "DEL", anys(group)...); err != nil {
				return err
			}
		}
		return nil
	}
	conn, err := redisconn.Get(ctx, s.pool)
	if err != nil {
		return err
	}
	defer conn.Close()
	for start := 0; start < len(keys); start += deleteChunk {
		chunk := keys[start:min(start+deleteChunk, len(keys))]
		if err := conn.Send("DEL", anys(s.prefixed(chunk))...); err != nil {
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
// MGET per 500 keys, and on a cluster one per slot.
func (s *Store) FindMany(ctx context.Context, keys []string) ([][]byte, error) {
	found := make(map[string][]byte, len(keys))
	for _, group := range redisconn.SplitBySlot(s.pool, s.prefixed(keys)) {
		for start := 0; start < len(group); start += deleteChunk {
			chunk := group[start:min(start+deleteChunk, len(group))]
			bs, err := redis.ByteSlices(redisconn.Do(ctx, s.pool, "MGET", anys(chunk)...))
			if err != nil {
				return nil, err
			}
			for i, b := range bs {
				if b != nil {
					found[chunk[i]] = b
				}
			}
		}
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = found[s.prefix+k]
	}
	return out, nil
}

func (s *Store) prefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.prefix + k
	}
	return out
}

func anys(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// Replace overwrites key with b until expiry only if key still exists (SET
// XX), so rewriting a session (idle refresh, new user data) can never bring
// back one that was revoked meanwhile. It reports whether it wrote.
func (s *Store) Replace(ctx context.Context, key string, b []byte, expiry time.Time) (bool, error) {
	reply, err := redisconn.DoDurable(ctx, s.pool, "SET", s.prefix+key, b, "XX", "PXAT", expiry.UnixMilli())
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
