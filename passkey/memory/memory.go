// Package memory is the in-memory passkey.Store, the kit's embedded
// default. It keeps everything in the process: use passkey/postgres when
// several instances serve one app or passkeys must survive a restart.
package memory

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/passkey"
)

// Store is an in-memory passkey.Store. Create one with New; it is safe for
// concurrent use.
type Store struct {
	mu      sync.Mutex
	handles map[int64][]byte               // user id -> handle
	owners  map[string]int64               // string(handle) -> user id
	creds   map[string]*passkey.Credential // string(credential id) -> record
	seq     map[string]uint64              // string(credential id) -> insertion order
	next    uint64
}

var _ passkey.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		handles: map[int64][]byte{},
		owners:  map[string]int64{},
		creds:   map[string]*passkey.Credential{},
		seq:     map[string]uint64{},
	}
}

// UserHandle returns the user's handle, making one on the first call.
func (s *Store) UserHandle(_ context.Context, userID int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.handles[userID]
	if !ok {
		h = passkey.NewUserHandle()
		s.handles[userID] = h
		s.owners[string(h)] = userID
	}
	return bytes.Clone(h), nil
}

// UserByHandle returns the user id of handle, or passkey.ErrNotFound.
func (s *Store) UserByHandle(_ context.Context, handle []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.owners[string(handle)]
	if !ok {
		return 0, passkey.ErrNotFound
	}
	return id, nil
}

// Add stores a copy of c; see passkey.Store.
func (s *Store) Add(_ context.Context, c *passkey.Credential, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.handles[c.UserID]; !ok || !bytes.Equal(h, c.UserHandle) {
		return passkey.ErrNotFound
	}
	if _, ok := s.creds[string(c.ID)]; ok {
		return passkey.ErrExists
	}
	c.CreatedAt, c.LastUsedAt = at, time.Time{}
	s.creds[string(c.ID)] = c.Clone()
	s.next++
	s.seq[string(c.ID)] = s.next
	return nil
}

// List returns the user's credentials, oldest first.
func (s *Store) List(_ context.Context, userID int64) ([]passkey.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []passkey.Credential{}
	for _, c := range s.creds {
		if c.UserID == userID {
			out = append(out, *c.Clone())
		}
	}
	slices.SortFunc(out, func(a, b passkey.Credential) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmpUint(s.seq[string(a.ID)], s.seq[string(b.ID)])
	})
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Get returns the credential of that id, or passkey.ErrNotFound.
func (s *Store) Get(_ context.Context, id []byte) (*passkey.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[string(id)]
	if !ok {
		return nil, passkey.ErrNotFound
	}
	return c.Clone(), nil
}

// Rename sets the name of the user's credential id.
func (s *Store) Rename(_ context.Context, userID int64, id []byte, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[string(id)]
	if !ok || c.UserID != userID {
		return passkey.ErrNotFound
	}
	c.Name = name
	return nil
}

// Remove deletes the user's credential id.
func (s *Store) Remove(_ context.Context, userID int64, id []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[string(id)]
	if !ok || c.UserID != userID {
		return passkey.ErrNotFound
	}
	delete(s.creds, string(id))
	delete(s.seq, string(id))
	return nil
}

// RemoveUser deletes every credential and the handle of userID: what the
// PostgreSQL store's ON DELETE CASCADE does when the user row goes (see
// DropUsers, through which the user store does it).
func (s *Store) RemoveUser(_ context.Context, userID int64) error {
	s.DropUsers([]int64{userID})
	return nil
}

// DropUsers deletes the credentials and handles of the users ids and
// returns a function putting them back (nil: none). It makes the store a
// user/memory Dependent: the user store calls it when it deletes users
// (usermemory.Store.CascadeTo, which simpleuser.New sets up).
func (s *Store) DropUsers(ids []int64) (restore func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	creds, seq, handles := map[string]*passkey.Credential{}, map[string]uint64{}, map[int64][]byte{}
	for k, c := range s.creds {
		if slices.Contains(ids, c.UserID) {
			creds[k], seq[k] = c, s.seq[k]
			delete(s.creds, k)
			delete(s.seq, k)
		}
	}
	for _, id := range ids {
		if h, ok := s.handles[id]; ok {
			handles[id] = h
			delete(s.owners, string(h))
			delete(s.handles, id)
		}
	}
	if len(creds) == 0 && len(handles) == 0 {
		return nil
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for k, c := range creds {
			s.creds[k], s.seq[k] = c, seq[k]
		}
		for id, h := range handles {
			s.handles[id], s.owners[string(h)] = h, id
		}
	}
}

// RecordUse applies the counter rule and records the use; see
// passkey.Store.
func (s *Store) RecordUse(_ context.Context, id []byte, u passkey.Use) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[string(id)]
	if !ok {
		return passkey.ErrNotFound
	}
	if !passkey.CounterOK(c.SignCount, u.SignCount) {
		return passkey.ErrCounter
	}
	c.SignCount, c.BackupState, c.LastUsedAt = u.SignCount, u.BackupState, u.At
	return nil
}
