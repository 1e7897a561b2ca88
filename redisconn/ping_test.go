package redisconn_test

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

// Ping is nil on a live server; on a refused one, a silent one (within
// ctx's deadline, which redisconn.Do returns unwrapped) and after ctx was
// cancelled it is a *backend.Error for "redis".
func TestPing(t *testing.T) {
	live, _ := testenv.Redis(t)
	if err := redisconn.Ping(context.Background(), live); err != nil {
		t.Fatalf("live: %v", err)
	}
	if err := redisconn.Ping(context.Background(), testenv.DeadRedis(t)); backend.Name(err) != "redis" {
		t.Fatalf("refused: %v", err)
	}
	p := testenv.NewProxy(t, redisAddr(t))
	silent, err := redisconn.NewPool(redisconn.Options{URL: viaAddr(t, p.Addr())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	p.Freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := redisconn.Ping(ctx, silent); backend.Name(err) != "redis" {
		t.Fatalf("silent: %v", err)
	}
	p.Thaw()
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := redisconn.Ping(done, live); backend.Name(err) != "redis" {
		t.Fatalf("cancelled: %v", err)
	}
}
