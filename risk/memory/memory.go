// Package memory is the in-memory risk.Store, the kit's embedded default.
package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/risk"
)

// minSweep is the fewest keys that trigger a sweep of expired ones.
const minSweep = 64

// Store is an in-memory risk.Store. Create one with New.
//
// One mutex makes Take atomic across keys. Times come only from the now
// passed to Take. A key is dropped once all its entries have expired: when a
// Take finds it empty, and by a sweep in Take once the store holds twice
// as many keys as the last sweep left (at least minSweep), so memory stays
// within about twice the live keys at amortised O(1) cost per Take.
type Store struct {
	mu        sync.Mutex
	keys      map[string]*bucket
	nextSweep int // sweep when len(keys) reaches it
}

// bucket is one key's entries, oldest first.
type bucket struct {
	entries []entry
	until   time.Time // when the newest entry expires under the window it was taken with
}

type entry struct {
	id string
	at time.Time
}

var (
	_ risk.Store     = (*Store)(nil)
	_ risk.Explainer = (*Store)(nil)
)

// New returns an empty store.
func New() *Store { return &Store{keys: map[string]*bucket{}} }

// Take implements risk.Store. Limits that are off record nothing; a key
// given twice is checked under each of its limits and recorded once.
func (s *Store) Take(ctx context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, error) {
	wait, _, err := s.TakeExplain(ctx, limits, id, now)
	return wait, err
}

// TakeExplain implements risk.Explainer: Take, naming the limits that refused.
func (s *Store) TakeExplain(_ context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, []int, error) {
	now = now.Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	var wait time.Duration
	var refused []int
	on := 0
	for i, l := range limits {
		if !l.On() {
			continue
		}
		if on == 0 && s.holds(l.Key, id) {
			return 0, nil, nil // this call's entry is recorded already (see risk.Store)
		}
		on++
		b := s.keys[l.Key]
		if b == nil {
			continue
		}
		window := l.Window.Truncate(time.Millisecond)
		cut := now.Add(-window)
		b.entries = slices.DeleteFunc(b.entries, func(e entry) bool { return !e.at.After(cut) })
		if n := len(b.entries); n >= l.Max {
			// Blocked until enough old entries expire to leave Max-1.
			wait = max(wait, b.entries[n-l.Max].at.Add(window).Sub(now))
			refused = append(refused, i)
		} else if n == 0 {
			delete(s.keys, l.Key)
		}
	}
	if wait > 0 || on == 0 {
		return wait, refused, nil
	}
	for _, l := range limits {
		if !l.On() {
			continue
		}
		b := s.keys[l.Key]
		if b == nil {
			b = &bucket{}
			s.keys[l.Key] = b
		}
		if u := now.Add(l.Window.Truncate(time.Millisecond)); u.After(b.until) {
			b.until = u
		}
		if slices.ContainsFunc(b.entries, func(e entry) bool { return e.id == id && e.at.Equal(now) }) {
			continue // the same key twice in one call
		}
		i, _ := slices.BinarySearchFunc(b.entries, now, func(e entry, t time.Time) int {
			if e.at.After(t) {
				return 1
			}
			return -1 // equal times go after existing entries
		})
		b.entries = slices.Insert(b.entries, i, entry{id: id, at: now})
	}
	return 0, nil, nil
}

// holds reports whether key holds an entry id. Called with mu held.
func (s *Store) holds(key, id string) bool {
	b := s.keys[key]
	return b != nil && slices.ContainsFunc(b.entries, func(e entry) bool { return e.id == id })
}

// sweep drops every key whose entries have all expired, once the store has
// doubled since the last sweep. Called with mu held.
func (s *Store) sweep(now time.Time) {
	if len(s.keys) < max(s.nextSweep, minSweep) {
		return
	}
	for k, b := range s.keys {
		if !b.until.After(now) {
			delete(s.keys, k)
		}
	}
	s.nextSweep = 2 * len(s.keys)
}

// Release removes every entry id from the keys.
func (s *Store) Release(_ context.Context, keys []string, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		b := s.keys[k]
		if b == nil {
			continue
		}
		b.entries = slices.DeleteFunc(b.entries, func(e entry) bool { return e.id == id })
		if len(b.entries) == 0 {
			delete(s.keys, k)
		}
	}
	return nil
}

// Clear removes the keys and all their entries.
func (s *Store) Clear(_ context.Context, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.keys, k)
	}
	return nil
}
