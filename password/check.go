package password

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/simpleuser/simpleuser/risk"
)

// ErrWrong is Checker.Check's answer for a password that does not match
// (or is empty); the caller says which password was wrong.
var ErrWrong = errors.New("password: wrong password")

// LengthError is a password outside the configured length bounds; its
// message names the field and the bound, safe to show the client.
type LengthError struct {
	Field    string
	Min, Max int // the bound broken: Min for too short, else Max
}

func (e *LengthError) Error() string {
	if e.Min > 0 {
		return fmt.Sprintf("%s must be at least %d characters", e.Field, e.Min)
	}
	return fmt.Sprintf("%s must be at most %d characters", e.Field, e.Max)
}

// BlockedError is Checker.Check's answer when a password attempt limit
// refused the attempt: no hash was verified. Wait is how long until an
// attempt can succeed.
type BlockedError struct{ Wait time.Duration }

func (e *BlockedError) Error() string {
	return fmt.Sprintf("password: too many failed attempts, retry in %v", e.Wait)
}

// Checker checks passwords under the service's attempt limits (per
// account and per device, per client address: risk.Policy.Password) and
// length bounds in bytes (MinLength <= 0: no minimum).
type Checker struct {
	Hasher               *Hasher
	Limits               *risk.Policy
	MinLength, MaxLength int
}

// Check verifies pw against the PHC string hash of the account userID,
// tried from the device ssaid and the client address bucket. The attempt
// counts while in flight; a success, or a failure that gives no verdict
// (hasher busy, client gone), releases it, detached from ctx's
// cancellation. It reports whether the hash should be upgraded. Errors:
// ErrWrong (an empty pw spends no attempt), *LengthError for a pw over
// MaxLength (before any attempt), *BlockedError, the store's or hasher's.
func (c *Checker) Check(ctx context.Context, userID int64, ssaid, bucket, field, pw, hash string) (rehash bool, err error) {
	if pw == "" { // a missing password is no guess: refused, but it spends no attempt
		return false, ErrWrong
	}
	if err := c.CheckMax(field, pw); err != nil {
		return false, err
	}
	limits := c.Limits.Password(userID, ssaid, bucket)
	id := risk.NewID()
	wait, err := c.Limits.Take(ctx, limits, id)
	if err != nil {
		return false, err
	}
	if wait > 0 {
		return false, &BlockedError{Wait: wait}
	}
	ok, rehash, err := c.Hasher.Verify(ctx, pw, hash)
	if err == nil && !ok {
		return false, ErrWrong // the attempt keeps counting
	}
	c.Limits.Release(ctx, risk.Keys(limits), id)
	return rehash, err
}

// CheckLength refuses (*LengthError) a password outside the length
// bounds, before any hashing.
func (c *Checker) CheckLength(field, pw string) error {
	if c.MinLength > 0 && len(pw) < c.MinLength {
		return &LengthError{Field: field, Min: c.MinLength}
	}
	return c.CheckMax(field, pw)
}

// CheckMax refuses (*LengthError) a password over MaxLength bytes: every
// path that takes a password calls it before hashing or queueing.
func (c *Checker) CheckMax(field, pw string) error {
	if len(pw) > c.MaxLength {
		return &LengthError{Field: field, Max: c.MaxLength}
	}
	return nil
}
