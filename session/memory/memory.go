// Package memory is the in-memory session backend, the kit's embedded
// default: scs/memstore for session bodies and an in-memory Index.
package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/simpleuser/simpleuser/session"
)

// minSweep is the fewest entries that trigger a sweep of expired ones.
const minSweep = 64

// New returns a memstore (which drops expired bodies every minute) and a new Index.
func New() (session.Store, *Index) { return memstore.New(), NewIndex() }

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

// Add records key as a session of userID, live until expiry.
func (x *Index) Add(_ context.Context, userID int64, key string, expiry time.Time) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys := x.users[userID]
	if keys == nil {
		keys = map[string]time.Time{}
		x.users[userID] = keys
	}
	if _, ok := keys[key]; !ok {
		x.size++
	}
	keys[key] = expiry
	if x.size >= max(x.nextSweep, minSweep) {
		now := x.now()
		for id := range x.users {
			x.prune(id, now)
		}
		x.nextSweep = 2 * x.size
	}
	return nil
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

// Remove forgets one session of userID.
func (x *Index) Remove(_ context.Context, userID int64, key string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys := x.users[userID]
	if _, ok := keys[key]; ok {
		delete(keys, key)
		x.size--
		if len(keys) == 0 {
			delete(x.users, userID)
		}
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
