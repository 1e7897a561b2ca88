// Package memory is the in-memory code.Store, the kit's embedded default.
package memory

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/code"
)

// minSweep is the fewest records that trigger a sweep of expired ones.
const minSweep = 64

// Store is an in-memory code.Store. Create one with New.
//
// Expired records are dropped when read, and by a sweep in Set once the
// store holds twice as many records as the last sweep left (at least
// minSweep): memory stays within about twice the live records, at amortised
// O(1) cost per Set.
type Store struct {
	// Now is the clock used for TTLs (default time.Now).
	Now func() time.Time

	mu        sync.Mutex
	recs      map[string]record
	nextSweep int // sweep when len(recs) reaches it
}

type record struct {
	rec []byte
	exp time.Time
}

var _ code.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{recs: map[string]record{}} }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// live returns the unexpired record under key, dropping an expired one.
// Called with mu held.
func (s *Store) live(key string, now time.Time) (record, bool) {
	r, ok := s.recs[key]
	if ok && !now.Before(r.exp) {
		delete(s.recs, key)
		return record{}, false
	}
	return r, ok
}

// Set stores a copy of rec under key for ttl. A ttl <= 0 stores a record
// that is already expired, which amounts to deleting key.
func (s *Store) Set(_ context.Context, key string, rec []byte, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs[key] = record{rec: bytes.Clone(rec), exp: now.Add(ttl)}
	if len(s.recs) >= max(s.nextSweep, minSweep) {
		for k := range s.recs {
			s.live(k, now)
		}
		s.nextSweep = 2 * len(s.recs)
	}
	return nil
}

// Get returns a copy of the live record under key, or code.ErrNotFound.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(key, now)
	if !ok {
		return nil, code.ErrNotFound
	}
	return bytes.Clone(r.rec), nil
}

// Consume deletes key if its live record equals rec and reports whether it
// did, with the record's remaining time to live.
func (s *Store) Consume(_ context.Context, key string, rec []byte) (time.Duration, bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(key, now)
	if !ok || !bytes.Equal(r.rec, rec) {
		return 0, false, nil
	}
	delete(s.recs, key)
	return r.exp.Sub(now), true, nil
}

// Restore stores a copy of rec under key for ttl unless key holds a live
// record.
func (s *Store) Restore(_ context.Context, key string, rec []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live(key, now); ok {
		return nil
	}
	s.recs[key] = record{rec: bytes.Clone(rec), exp: now.Add(ttl)}
	return nil
}
