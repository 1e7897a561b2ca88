package simpleuser

import (
	"context"

	"github.com/simpleuser/simpleuser/backend"
)

// BackendStatus is the outcome of pinging one backend server.
type BackendStatus = backend.Status

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
	return s.backends.Check(ctx)
}
