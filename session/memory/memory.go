// Package memory is the in-memory session backend, the kit's embedded
// default: scs/memstore for session bodies and an in-memory Index.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/simpleuser/simpleuser/session"
)

// minSweep is the fewest entries that trigger a sweep of expired ones.
const minSweep = 64

// New returns a Store (scs/memstore, which drops expired bodies every
// minute) and a new Index.
func New() (*Store, *Index) { return NewStore(), NewIndex() }

// Store is scs/memstore with an atomic Replace (session.Replacer), so a
// session rewritten by Get (its LastSeen) while it is being ended can never
// come back unindexed. Create one with NewStore.
type Store struct {
	mu sync.Mutex // orders the writes: Commit, Delete and Replace
	ms *memstore.MemStore
}

var (
	_ session.Store    = (*Store)(nil)
	_ session.Replacer = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{ms: memstore.New()} }

// Find returns the body stored under key; found is false when there is
// none or it expired.
func (s *Store) Find(key string) ([]byte, bool, error) { return s.ms.Find(key) }

// Commit stores b under key until expiry.
func (s *Store) Commit(key string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ms.Commit(key, b, expiry)
}

// Delete removes key.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ms.Delete(key)
}

// Replace overwrites key with b until expiry only if key holds a live body,
// and reports whether it wrote.
func (s *Store) Replace(_ context.Context, key string, b []byte, expiry time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found, err := s.ms.Find(key); err != nil || !found {
		return false, err
	}
	return true, s.ms.Commit(key, b, expiry)
}

// Take reads and deletes key in one step (session.Taker).
func (s *Store) Take(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, found, err := s.ms.Find(key)
	if err != nil || !found {
		return nil, false, err
	}
	return b, true, s.ms.Delete(key)
}

var _ session.Taker = (*Store)(nil)

// Index is an in-memory session.Index. Create one with NewIndex.
//
// List prunes with the now it is given. So that users who never come back
// do not leak memory, Add also sweeps entries that expired by Now once the
// index holds twice as many entries as the last sweep left (at least
// minSweep): amortised O(1) per Add.
type Index struct {
	// Now is the clock of the sweep in Add (default time.Now). It should
	// agree with the clock of the session store, which drops bodies by it.
	Now func() time.Time

	mu        sync.Mutex
	users     map[int64]map[string]time.Time // user → key → expiry
	size      int                            // entries in users
	nextSweep int                            // sweep when size reaches it
}

var _ session.Index = (*Index)(nil)

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{users: map[int64]map[string]time.Time{}} }

func (x *Index) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// Add records key as a session of userID, live until expiry, prunes the
// user's entries that expired by Now, and returns the oldest entries beyond
// limit (see session.Index).
func (x *Index) Add(_ context.Context, userID int64, key string, expiry time.Time, limit int) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := x.now()
	x.prune(userID, now)
	keys := x.users[userID]
	if keys == nil {
		keys = map[string]time.Time{}
		x.users[userID] = keys
	}
	if _, ok := keys[key]; !ok {
		x.size++
	}
	keys[key] = expiry
	var over []string
	if limit > 0 && len(keys) > limit {
		over = oldest(keys, key, len(keys)-limit)
	}
	if x.size >= max(x.nextSweep, minSweep) {
		for id := range x.users {
			x.prune(id, now)
		}
		x.nextSweep = 2 * x.size
	}
	return over, nil
}

// oldest returns the n entries of keys with the earliest expiry (ties: the
// smaller key), except.
func oldest(keys map[string]time.Time, except string, n int) []string {
	all := make([]string, 0, len(keys))
	for k := range keys {
		if k != except {
			all = append(all, k)
		}
	}
	slices.SortFunc(all, func(a, b string) int {
		if c := keys[a].Compare(keys[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return all[:min(n, len(all))]
}

// prune drops the expired keys of userID, and the user once empty. Called with mu held.
func (x *Index) prune(userID int64, now time.Time) {
	keys := x.users[userID]
	for k, exp := range keys {
		if !now.Before(exp) {
			delete(keys, k)
			x.size--
		}
	}
	if len(keys) == 0 {
		delete(x.users, userID)
	}
}

// Remove forgets sessions of userID.
func (x *Index) Remove(_ context.Context, userID int64, keys ...string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	m := x.users[userID]
	for _, key := range keys {
		if _, ok := m[key]; ok {
			delete(m, key)
			x.size--
		}
	}
	if m != nil && len(m) == 0 {
		delete(x.users, userID)
	}
	return nil
}

// List returns the keys of userID live at now, sorted, pruning expired ones.
func (x *Index) List(_ context.Context, userID int64, now time.Time) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.prune(userID, now)
	keys := make([]string, 0, len(x.users[userID]))
	for k := range x.users[userID] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// PopAll removes and returns every key of userID, expired or not, sorted.
func (x *Index) PopAll(_ context.Context, userID int64) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys := make([]string, 0, len(x.users[userID]))
	for k := range x.users[userID] {
		keys = append(keys, k)
	}
	x.size -= len(keys)
	delete(x.users, userID)
	slices.Sort(keys)
	return keys, nil
}
