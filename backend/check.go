package backend

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Status is the outcome of pinging one backend server.
type Status struct {
	// Backend names it: "postgres", "redis".
	Backend string
	// Err is nil when the server answered, else an *Error naming it.
	Err error
}

// Checker pings the distinct servers behind a set of stores: the
// readiness check of simpleuser.Service.CheckBackends and handlers.Readyz.
type Checker struct{ targets []target }

// target is one distinct server to ping, with a store that reaches it.
type target struct {
	name string
	pool any
	p    Pinger
}

// NewChecker returns a Checker for the servers behind stores: one entry
// per connection pool of the stores implementing Pinger (stores on one
// pool share it), sorted by backend name. Other stores (in memory, or any
// store that does not implement Pinger) are left out: with no server to
// lose they are always ready.
func NewChecker(stores ...any) *Checker {
	var out []target
	for _, st := range stores {
		p, ok := st.(Pinger)
		if !ok {
			continue
		}
		name, pool := p.PingTarget()
		if !slices.ContainsFunc(out, func(t target) bool { return t.name == name && t.pool == pool }) {
			out = append(out, target{name: name, pool: pool, p: p})
		}
	}
	slices.SortStableFunc(out, func(a, b target) int { return strings.Compare(a.name, b.name) })
	return &Checker{targets: out}
}

// Check pings every server once, all at the same time, and returns one
// Status per server in the Checker's order (empty when there is none);
// each ping is bounded by ctx, so give it a short deadline. It never fails
// by itself: it only reports.
func (c *Checker) Check(ctx context.Context) []Status {
	out := make([]Status, len(c.targets))
	var wg sync.WaitGroup
	for i, t := range c.targets {
		out[i].Backend = t.name
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.p.Ping(ctx); err != nil {
				out[i].Err = Unavailable(t.name, err) // a Pinger that forgot to name itself
			}
		}()
	}
	wg.Wait()
	return out
}
