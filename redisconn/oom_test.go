package redisconn_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// A write refused because Redis is at maxmemory with the noeviction policy
// (the reply OOM) is "redis unavailable" (a 503 naming it), not a 500.
func TestOOMIsUnavailable(t *testing.T) {
	srv := testenv.StartRedisServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	pool, err := redisconn.NewPool(redisconn.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	ctx := context.Background()
	value := strings.Repeat("x", 1000)
	for i := 0; ; i++ {
		if _, err := redisconn.Do(ctx, pool, "SET", fmt.Sprint("fill:", i), value); err != nil {
			break
		}
		if i > 100000 {
			t.Fatal("maxmemory never reached")
		}
	}
	// Fill well past the limit, so that even a small write is refused.
	if _, err := redisconn.Do(ctx, pool, "CONFIG", "SET", "maxmemory", "1mb"); err != nil {
		t.Fatal(err)
	}
	_, err = redisconn.Do(ctx, pool, "SET", "small", "v")
	if !strings.HasPrefix(fmt.Sprint(err), "redis unavailable: OOM") || backend.Name(err) != "redis" {
		t.Fatalf("SET at maxmemory: %v, want a redis *backend.Error carrying OOM", err)
	}
}
