package simpleuser_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/code"
	codememory "github.com/simpleuser/simpleuser/code/memory"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
)

// namelessPinger is a code store whose Ping fails with an error that names
// no backend.
type namelessPinger struct{ code.Store }

func (namelessPinger) PingTarget() (string, any) { return "custom", "custom-pool" }
func (namelessPinger) Ping(context.Context) error {
	return errors.New("custom: refused")
}

// CheckBackends pings each distinct server once: none on memory; one
// PostgreSQL and one Redis for stores sharing a pool; a second Redis
// entry for a store on another pool, failing alone when its server is
// gone; a Pinger's unnamed error is named after its backend.
func TestCheckBackends(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	check := func(t *testing.T, mod func(*simpleuser.Config)) []simpleuser.BackendStatus {
		t.Helper()
		return newFixture(t, mod).svc.CheckBackends(ctx)
	}

	if got := check(t, nil); len(got) != 0 {
		t.Fatalf("memory: %v, want no backend", got)
	}

	got := check(t, func(c *simpleuser.Config) { useRealBackends(t, c) })
	if len(got) != 2 || got[0] != (simpleuser.BackendStatus{Backend: "postgres"}) || got[1] != (simpleuser.BackendStatus{Backend: "redis"}) {
		t.Fatalf("postgres+redis: %v, want postgres and redis, both answering", got)
	}

	got = check(t, func(c *simpleuser.Config) {
		useRealBackends(t, c)
		c.Codes = coderedis.New(testenv.DeadRedis(t), "")
	})
	if len(got) != 3 || got[0].Err != nil || got[1].Backend != "redis" || got[2].Backend != "redis" {
		t.Fatalf("codes on a dead Redis: %v", got)
	}
	if backend.Name(got[1].Err) != "redis" || got[2].Err != nil {
		t.Fatalf("codes on a dead Redis: %v, want the codes' pool failing, named redis, and the other answering", got)
	}

	got = check(t, func(c *simpleuser.Config) { c.Codes = namelessPinger{codememory.New()} })
	if len(got) != 1 || got[0].Backend != "custom" || backend.Name(got[0].Err) != "custom" {
		t.Fatalf("nameless pinger: %v", got)
	}
}
