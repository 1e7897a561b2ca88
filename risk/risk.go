// Package risk holds the atomic rate-limit primitive behind send cooldowns
// and code- and password-attempt blocks.
//
// One operation, Take, covers all of them: a sliding window of at most max
// entries per key, checked and recorded across several keys in one atomic
// step. A send cooldown is Take with max 1 and the cooldown as window; an
// attempt limit is Take with the attempt count. Implementations: risk/memory
// (default) and risk/redis (one Lua script); conformance suite: risk/risktest.
package risk

import (
	"context"
	"time"
)

// Store is the rate-limit store. Keys are opaque strings built by the service
// (client-supplied parts already hashed). Implementations wrap server
// failures with backend.Unavailable and expire every key once its window has
// passed, so nothing grows without bound.
type Store interface {
	// Take atomically, for every key: forgets entries older than window;
	// then, if any key holds max or more entries, records nothing and returns
	// the longest wait until each blocked key would accept one more entry
	// (its oldest counted entry's time + window − now, > 0). Otherwise it
	// records entry id at now under every key and returns 0.
	Take(ctx context.Context, keys []string, id string, max int, window time.Duration, now time.Time) (wait time.Duration, err error)
	// Release removes entry id from every key (an attempt that turned out not to count).
	Release(ctx context.Context, keys []string, id string) error
	// Clear removes every entry of the keys.
	Clear(ctx context.Context, keys ...string) error
}
