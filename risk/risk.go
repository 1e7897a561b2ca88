// Package risk holds the atomic rate-limit primitive behind send cooldowns,
// per-address budgets and code- and password-attempt blocks.
//
// One operation, Take, covers all of them: a sliding window of at most Max
// entries per key, each key with its own limit, checked and recorded across
// several keys in one atomic step. A send cooldown is a Limit with Max 1 and
// the cooldown as Window; a budget (20 sends per address per 10 minutes) or
// an attempt limit (5 wrong passwords per 15 minutes) is a Limit with that
// count. Implementations: risk/memory (default) and risk/redis (one Lua
// script; on a Redis Cluster one script per key, each key exact, see its
// Store); conformance suite: risk/risktest.
package risk

import (
	"context"
	"time"
)

// Limit is one rule of a Take: at most Max entries under Key within the
// sliding Window. A Limit with Max <= 0 or a Window under a millisecond is
// off: Take ignores it.
type Limit struct {
	Key    string // opaque; client-supplied parts already hashed by the caller
	Max    int
	Window time.Duration
}

// On reports whether l is a rule Take enforces.
func (l Limit) On() bool { return l.Max > 0 && l.Window >= time.Millisecond }

// Keys returns the keys of the limits that are on, in order: what Release
// and Clear take to undo a Take of limits.
func Keys(limits []Limit) []string {
	keys := make([]string, 0, len(limits))
	for _, l := range limits {
		if l.On() {
			keys = append(keys, l.Key)
		}
	}
	return keys
}

// Store is the rate-limit store. Keys are opaque strings built by the
// service (client-supplied parts already hashed). Implementations wrap server
// failures with backend.Unavailable and expire every key once its window has
// passed, so nothing grows without bound.
type Store interface {
	// Take atomically, for every limit that is on: forgets the entries of
	// its key older than its window; then, if any key holds Max or more
	// entries, records nothing and returns the longest wait until each
	// blocked key would accept one more entry (its oldest counted entry's
	// time + its window − now, > 0). Otherwise it records entry id at now
	// under every key and returns 0. The keys of one call must be distinct.
	// Times are taken to the millisecond. id must be unique to the call: a
	// Take repeated with the id of one that recorded its entry (a resend
	// after a lost reply) answers 0 and records nothing more.
	//
	// An implementation may instead check and record key by key (risk/redis
	// on a Redis Cluster, whose keys live in different slots), provided
	// each key's check-and-record is atomic, so that no key ever holds more
	// than Max entries within its window, and that a refused call removes
	// its entry from the keys it recorded it on: a concurrent Take may then
	// be refused by an entry that is removed again (over-refusal, never
	// over-admission).
	Take(ctx context.Context, limits []Limit, id string, now time.Time) (wait time.Duration, err error)
	// Release removes entry id from every key (an attempt that turned out
	// not to count, or a send whose delivery failed).
	Release(ctx context.Context, keys []string, id string) error
	// Clear removes every entry of the keys.
	Clear(ctx context.Context, keys ...string) error
}

// Explainer is implemented by a Store whose Take can also tell which
// limits refused it, so the service can count refusals by rule (package
// metrics). risk/memory and risk/redis implement it; the conformance suite
// (risktest) checks it for a store that does.
type Explainer interface {
	// TakeExplain is Take. When it refuses (wait > 0), refused holds the
	// index in limits of every limit that held Max or more entries, in
	// increasing order; otherwise refused is empty.
	TakeExplain(ctx context.Context, limits []Limit, id string, now time.Time) (wait time.Duration, refused []int, err error)
}
