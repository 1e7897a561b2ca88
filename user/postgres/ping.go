package postgres

import (
	"context"
	"fmt"

	"github.com/simpleuser/simpleuser/backend"
)

var _ backend.Pinger = (*Store)(nil)

// PingTarget names the backend, "postgres", and the pool the store runs
// on (backend.Pinger).
func (s *Store) PingTarget() (string, any) { return backendName, s.pool }

// Ping checks that PostgreSQL answers: it takes a connection from the pool
// (dialling one if none is idle) and sends an empty statement, within ctx's
// deadline (or QueryTimeout when ctx has none). Every failure, whatever its
// cause (refused, lost, timed out, an authentication or shutdown error), is
// a *backend.Error for "postgres".
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return backend.Unavailable(backendName, fmt.Errorf("ping: %w", err))
	}
	return nil
}
