package simpleuser

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/simpleuser/simpleuser/backend"
)

// BackendStatus is the outcome of pinging one backend server.
type BackendStatus struct {
	// Backend names it: "postgres", "redis".
	Backend string
	// Err is nil when the server answered, else a *backend.Error naming it.
	Err error
}

// pingTarget is one distinct server to ping, with a store that reaches it.
type pingTarget struct {
	name string
	pool any
	p    backend.Pinger
}

// pingTargets lists the distinct servers behind stores: one entry per
// connection pool of the stores implementing backend.Pinger (the Redis
// stores on one pool share an entry), sorted by backend name. Other
// stores (in memory) are left out: they are always ready.
func pingTargets(stores ...any) []pingTarget {
	var out []pingTarget
	for _, st := range stores {
		p, ok := st.(backend.Pinger)
		if !ok {
			continue
		}
		name, pool := p.PingTarget()
		if !slices.ContainsFunc(out, func(t pingTarget) bool { return t.name == name && t.pool == pool }) {
			out = append(out, pingTarget{name: name, pool: pool, p: p})
		}
	}
	slices.SortStableFunc(out, func(a, b pingTarget) int { return strings.Compare(a.name, b.name) })
	return out
}

// CheckBackends pings every distinct backend server of the service's
// stores (Config.Users, Codes, Risk, SessionStore, SessionIndex) once,
// all at the same time, and returns one status per server, sorted by
// backend name; each ping is bounded by ctx, so give it a short deadline
// (handlers.Readyz does). Stores without a server (the in-memory ones,
// or any store that does not implement backend.Pinger) are not listed:
// with no server to lose they are always ready, and the result is empty.
//
// It is the readiness check (handlers.Readyz): unlike every other method
// it never fails closed by itself, it only reports.
func (s *Service) CheckBackends(ctx context.Context) []BackendStatus {
	out := make([]BackendStatus, len(s.pingers))
	var wg sync.WaitGroup
	for i, t := range s.pingers {
		out[i].Backend = t.name
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.p.Ping(ctx); err != nil {
				out[i].Err = backend.Unavailable(t.name, err) // a Pinger that forgot to name itself
			}
		}()
	}
	wg.Wait()
	return out
}
