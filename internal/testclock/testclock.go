// Package testclock is a settable clock for tests: TTLs, cooldowns and
// windows are exercised by advancing it, never by sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is a concurrency-safe manual clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock set to start (time.Now() when zero), truncated to the millisecond.
func New(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Now()
	}
	return &Clock{t: start.UTC().Truncate(time.Millisecond)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
