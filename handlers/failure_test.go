package handlers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

// flakyUsers is a user store whose reads fail while down is set.
type flakyUsers struct {
	user.Store
	down atomic.Bool
}

var errDown = backend.Unavailable("postgres", errors.New("connection refused"))

func (f *flakyUsers) GetOrCreateAnonymous(ctx context.Context, ssaid string, now time.Time) (*user.User, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.GetOrCreateAnonymous(ctx, ssaid, now)
}

func (f *flakyUsers) GetByEmail(ctx context.Context, email string) (*user.User, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.GetByEmail(ctx, email)
}

// TestBackendDown checks the fail-closed 503 and the recovery.
func TestBackendDown(t *testing.T) {
	var flaky *flakyUsers
	e := newMemoryEnv(t, withConfig(func(c *simpleuser.Config) {
		m := usermemory.New()
		m.Now = c.Now
		flaky = &flakyUsers{Store: m}
		c.Users = flaky
	}))
	a := e.email("a")
	flaky.down.Store(true)
	r := e.me(e.ssaid("d"), "").want(t, 503, "BACKEND_UNAVAILABLE")
	if r.message != "postgres unavailable" || r.header.Get("Retry-After") == "" || r.num("waitTimeMs") <= 0 {
		t.Fatalf("503 answer: %s %v", r.raw, r.header)
	}
	e.do(rq{method: "GET", path: "/login/user-exists", query: map[string]string{"email": a}}).want(t, 503, "BACKEND_UNAVAILABLE")
	e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: map[string]any{"email": a, "password": "password-1"}}).want(t, 503, "BACKEND_UNAVAILABLE")
	flaky.down.Store(false)
	e.me(e.ssaid("d"), "").want(t, 200, "")
}
