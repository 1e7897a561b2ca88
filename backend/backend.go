// Package backend holds the one error type every storage implementation uses
// to say "the server behind me is unreachable", so the service can fail
// closed with a 503 that names the backend instead of a generic 500.
package backend

import (
	"context"
	"errors"
	"fmt"
)

// Error reports that a backend (PostgreSQL, Redis, ...) could not serve a
// request. Implementations wrap driver and network errors in it; the HTTP
// layer answers 503 with a message naming Backend.
type Error struct {
	Backend string // "postgres", "redis", ...
	Err     error
}

func (e *Error) Error() string { return fmt.Sprintf("%s unavailable: %v", e.Backend, e.Err) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable wraps err as an *Error for the named backend. A nil err stays nil.
func Unavailable(name string, err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	return &Error{Backend: name, Err: err}
}

// Name returns the backend named by err, or "" when err is not a backend error.
func Name(err error) string {
	if err == nil {
		return "" // errors.As would still allocate be
	}
	var be *Error
	if errors.As(err, &be) {
		return be.Backend
	}
	return ""
}

// Pinger is implemented by a store that can check the server behind it,
// for readiness probes (simpleuser.Service.CheckBackends, handlers.Readyz).
// The PostgreSQL user store and the Redis stores implement it; an
// in-memory store does not, and is always ready.
type Pinger interface {
	// PingTarget names the backend ("postgres", "redis"), as the errors
	// of Ping do, and identifies the connection pool Ping uses with a
	// comparable value (the pool pointer): stores sharing one pool give
	// equal targets, so a readiness check pings that server once.
	PingTarget() (backend string, pool any)
	// Ping checks with one round trip on the pool that the server
	// answers, within ctx's deadline. Any failure (refused, lost,
	// timed out, an error reply) is an *Error naming the backend.
	Ping(ctx context.Context) error
}
