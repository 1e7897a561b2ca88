package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
)

// TestCopyHot: the hot tokens' sessions copied to the cluster resolve there
// through the kit's session store to the same sessions (user, expiry), and
// appear in their users' lists; a token not in the file is not copied.
func TestCopyHot(t *testing.T) {
	ctx := context.Background()
	pool, prefix := testenv.Redis(t)
	cl, _ := testenv.RedisCluster(t)
	t.Cleanup(func() { _ = testenv.DeleteRedisPrefix(cl, prefix) })
	e := &env{o: &options{redisPrefix: prefix}, rpool: pool}
	const n = 6
	if err := e.seedSessionRange(ctx, prefix, 0, n, 10, sessionUser); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	var lines []byte
	for j := range n - 1 { // the last is left out
		lines = append(lines, benchToken(j)+"\n"...)
	}
	if err := os.WriteFile(tokens, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	pair := &clusterPair{client: cl, prefix: prefix}
	if err := pair.copyHot(ctx, e, tokens); err != nil {
		t.Fatal(err)
	}
	st, idx := sessionredis.New(cl, prefix)
	m := &session.Manager{Store: st, Index: idx, MaxPerUser: -1}
	for j := range n {
		d, err := m.Get(ctx, benchToken(j))
		if j == n-1 {
			if err == nil && d != nil {
				t.Errorf("token %d (not in the file) resolves on the cluster", j)
			}
			continue
		}
		want := e.seedSession(j, sessionUser(j))
		if err != nil || d == nil || d.UserID != want.UserID || !d.ExpiresAt.Equal(want.ExpiresAt) {
			t.Fatalf("token %d on the cluster: %+v, %v; want user %d until %v", j, d, err, want.UserID, want.ExpiresAt)
		}
		list, err := m.List(ctx, want.UserID, "")
		if err != nil || len(list) == 0 {
			t.Errorf("user %d's sessions on the cluster: %d, %v", want.UserID, len(list), err)
		}
	}
	if n, err := testenv.RedisKeys(cl, prefix); err != nil || len(n) == 0 {
		t.Fatalf("cluster keys: %v %v", n, err)
	}
	if _, err := pair.deleteKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if left, err := testenv.RedisKeys(cl, prefix); err != nil || len(left) != 0 {
		t.Errorf("after deleteKeys: %d keys left (%v)", len(left), err)
	}
}
