// Package backend holds the one error type every storage implementation uses
// to say "the server behind me is unreachable", so the service can fail
// closed with a 503 that names the backend instead of a generic 500.
package backend

import (
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
