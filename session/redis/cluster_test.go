package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	"github.com/simpleuser/simpleuser/session/sessiontest"
)

// TestConformanceCluster runs the shared session suite on the Redis
// Cluster of REDIS_CLUSTER_URL.
func TestConformanceCluster(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) (session.Store, session.Index) {
		c, prefix := testenv.RedisCluster(t)
		return sessionredis.New(c, prefix)
	})
}

// TestClusterManyUserSessions: a user's sessions spread over many slots
// (and all three masters); List, RevokeUserExcept and RevokeUser still see
// and end every one of them (one MGET or DEL per slot).
func TestClusterManyUserSessions(t *testing.T) {
	c, prefix := testenv.RedisCluster(t)
	store, index := sessionredis.New(c, prefix)
	m := &session.Manager{Store: store, Index: index, Lifetime: time.Hour}
	ctx := context.Background()
	var toks []string
	for range session.DefaultMaxPerUser {
		toks = append(toks, create(t, m, 5))
	}
	keep := create(t, m, 6)
	keys, err := testenv.RedisKeys(c, prefix+"session:")
	if err != nil {
		t.Fatal(err)
	}
	slots := map[int]bool{}
	for _, k := range keys {
		slots[redisconn.Slot(k)] = true
	}
	if len(slots) < 10 {
		t.Fatalf("%d session keys in %d slots; want them spread", len(keys), len(slots))
	}
	list, err := m.List(ctx, 5, toks[0])
	if err != nil || len(list) != len(toks) {
		t.Fatalf("List = %d sessions, %v; want %d", len(list), err, len(toks))
	}
	n, err := m.RevokeUserExcept(ctx, 5, toks[0])
	if err != nil || n != len(toks)-1 {
		t.Fatalf("RevokeUserExcept = %d, %v; want %d", n, err, len(toks)-1)
	}
	for _, tok := range toks[1:] {
		if _, err := m.Get(ctx, tok); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("revoked session still resolves: %v", err)
		}
	}
	if n, err := m.RevokeUser(ctx, 5); err != nil || n != 1 {
		t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
	}
	if _, err := m.Get(ctx, toks[0]); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("session after RevokeUser: %v", err)
	}
	if _, err := m.Get(ctx, keep); err != nil {
		t.Fatalf("another user's session lost: %v", err)
	}
}
