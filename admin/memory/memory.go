// Package memory is the in-memory admin.Store, the embedded default. It
// does not join the user store's transactions: an entry recorded in a
// transaction that later rolls back stays (use admin/postgres for an audit
// log that commits with its change).
package memory

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/admin"
)

// Store is the in-memory admin.Store; safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	entries []admin.Entry // ID ascending
	keys    []admin.APIKey
}

var _ admin.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store { return &Store{} }

// Record implements admin.Store.
func (s *Store) Record(_ context.Context, e *admin.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.entries)) + 1
	c := *e
	c.Detail = maps.Clone(e.Detail)
	s.entries = append(s.entries, c)
	return nil
}

// Entries implements admin.Store.
func (s *Store) Entries(_ context.Context, f admin.Filter) ([]admin.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := admin.ClampLimit(f.Limit)
	var out []admin.Entry
	for i := len(s.entries) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.entries[i]
		if (f.Before > 0 && e.ID >= f.Before) ||
			(f.ActorUserID != 0 && e.ActorUserID != f.ActorUserID) ||
			(f.ActorKeyID != "" && e.ActorKeyID != f.ActorKeyID) ||
			(f.Action != "" && e.Action != f.Action) ||
			(f.TargetUserID != 0 && e.TargetUserID != f.TargetUserID) ||
			(!f.From.IsZero() && e.At.Before(f.From)) ||
			(!f.To.IsZero() && !e.At.Before(f.To)) {
			continue
		}
		e.Detail = maps.Clone(e.Detail)
		out = append(out, e)
	}
	return out, nil
}

// CreateKey implements admin.Store.
func (s *Store) CreateKey(_ context.Context, k *admin.APIKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *k
	c.Hash = bytes.Clone(k.Hash)
	s.keys = append(s.keys, c)
	return nil
}

// KeyByHash implements admin.Store.
func (s *Store) KeyByHash(_ context.Context, hash []byte) (*admin.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if bytes.Equal(k.Hash, hash) {
			return &k, nil
		}
	}
	return nil, admin.ErrNotFound
}

// Keys implements admin.Store.
func (s *Store) Keys(context.Context) ([]admin.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.keys)
	slices.Reverse(out)
	return out, nil
}

// RevokeKey implements admin.Store.
func (s *Store) RevokeKey(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		if s.keys[i].ID == id {
			if s.keys[i].RevokedAt.IsZero() {
				s.keys[i].RevokedAt = at
			}
			return nil
		}
	}
	return admin.ErrNotFound
}
