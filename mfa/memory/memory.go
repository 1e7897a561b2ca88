// Package memory is the in-memory mfa.Store, the kit's embedded default.
// It keeps everything in one process and loses it on restart: give a
// service whose users are in PostgreSQL the PostgreSQL store (mfa/postgres).
package memory

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/mfa"
)

// Store is an in-memory mfa.Store; one mutex makes every method atomic.
// Create one with New.
type Store struct {
	mu       sync.Mutex
	auths    map[int64][]mfa.Authenticator // oldest first
	recovery map[int64][][]byte
	settings map[int64]mfa.Settings
	devices  map[int64][]mfa.TrustedDevice // oldest first
}

var _ mfa.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		auths: map[int64][]mfa.Authenticator{}, recovery: map[int64][][]byte{},
		settings: map[int64]mfa.Settings{}, devices: map[int64][]mfa.TrustedDevice{},
	}
}

func cloneAuth(a mfa.Authenticator) mfa.Authenticator {
	a.Secret = bytes.Clone(a.Secret)
	return a
}

// AddAuthenticator stores a copy of a.
func (s *Store) AddAuthenticator(_ context.Context, a *mfa.Authenticator) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.auths[a.UserID] {
		if o.Name == a.Name {
			return mfa.ErrNameTaken
		}
		if o.ID == a.ID {
			return mfa.ErrNameTaken // ids are random: a repeat is a caller's bug
		}
	}
	s.auths[a.UserID] = append(s.auths[a.UserID], cloneAuth(*a))
	return nil
}

// Authenticator returns a copy of one authenticator.
func (s *Store) Authenticator(_ context.Context, userID int64, id string) (*mfa.Authenticator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.auths[userID] {
		if a.ID == id {
			c := cloneAuth(a)
			return &c, nil
		}
	}
	return nil, mfa.ErrNotFound
}

// Authenticators returns copies of the user's authenticators, oldest first.
func (s *Store) Authenticators(_ context.Context, userID int64) ([]mfa.Authenticator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]mfa.Authenticator, 0, len(s.auths[userID]))
	for _, a := range s.auths[userID] {
		out = append(out, cloneAuth(a))
	}
	return out, nil
}

// AcceptStep is the compare-and-set of mfa.Store.AcceptStep.
func (s *Store) AcceptStep(_ context.Context, userID int64, id string, step int64, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.auths[userID]
	for i := range list {
		a := &list[i]
		if a.ID != id {
			continue
		}
		if step <= a.LastStep {
			return false, nil
		}
		a.LastStep, a.LastUsedAt = step, at
		if a.ConfirmedAt.IsZero() {
			a.ConfirmedAt = at
		}
		return true, nil
	}
	return false, nil
}

// SetSecret replaces one authenticator's sealed secret.
func (s *Store) SetSecret(_ context.Context, userID int64, id string, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.auths[userID] {
		if a := &s.auths[userID][i]; a.ID == id {
			a.Secret = bytes.Clone(sealed)
			return nil
		}
	}
	return mfa.ErrNotFound
}

// RemoveAuthenticator deletes one authenticator.
func (s *Store) RemoveAuthenticator(_ context.Context, userID int64, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.auths[userID]
	i := slices.IndexFunc(list, func(a mfa.Authenticator) bool { return a.ID == id })
	if i < 0 {
		return mfa.ErrNotFound
	}
	s.auths[userID] = slices.Delete(list, i, i+1)
	return nil
}

// ReplaceRecoveryCodes replaces the user's set.
func (s *Store) ReplaceRecoveryCodes(_ context.Context, userID int64, hashes [][]byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := make([][]byte, len(hashes))
	for i, h := range hashes {
		set[i] = bytes.Clone(h)
	}
	s.recovery[userID] = set
	return nil
}

// UseRecoveryCode deletes the matching code, if any.
func (s *Store) UseRecoveryCode(_ context.Context, userID int64, candidates [][]byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.recovery[userID]
	for i, h := range set {
		for _, c := range candidates {
			if bytes.Equal(h, c) {
				s.recovery[userID] = slices.Delete(set, i, i+1)
				return true, nil
			}
		}
	}
	return false, nil
}

// RecoveryCodesLeft counts the user's unused codes.
func (s *Store) RecoveryCodesLeft(_ context.Context, userID int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recovery[userID]), nil
}

// Settings returns the user's settings.
func (s *Store) Settings(_ context.Context, userID int64) (mfa.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.settings[userID]
	if !ok {
		st.UserID = userID
	}
	return st, nil
}

// UpdateSettings applies p.
func (s *Store) UpdateSettings(_ context.Context, userID int64, p mfa.SettingsPatch, at time.Time) (mfa.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.settings[userID]
	st.UserID = userID
	if p.Enabled != nil {
		st.Enabled = *p.Enabled
	}
	if p.EmailFactor != nil {
		st.EmailFactor = *p.EmailFactor
	}
	st.UpdatedAt = at
	s.settings[userID] = st
	return st, nil
}

// AddTrustedDevice stores a copy of d.
func (s *Store) AddTrustedDevice(_ context.Context, d *mfa.TrustedDevice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices[d.UserID] = append(s.devices[d.UserID], *d)
	return nil
}

// TrustedDevice returns an unexpired device of the user.
func (s *Store) TrustedDevice(_ context.Context, userID int64, id string, now time.Time) (*mfa.TrustedDevice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices[userID] {
		if d.ID == id && now.Before(d.ExpiresAt) {
			return &d, nil
		}
	}
	return nil, mfa.ErrNotFound
}

// TrustedDevices lists the user's unexpired devices and drops the expired ones.
func (s *Store) TrustedDevices(_ context.Context, userID int64, now time.Time) ([]mfa.TrustedDevice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := slices.DeleteFunc(s.devices[userID], func(d mfa.TrustedDevice) bool { return !now.Before(d.ExpiresAt) })
	s.devices[userID] = live
	return slices.Clone(live), nil
}

// RemoveTrustedDevices deletes devices of the user (all when ids is empty).
func (s *Store) RemoveTrustedDevices(_ context.Context, userID int64, ids ...string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.devices[userID]
	n := len(list)
	list = slices.DeleteFunc(list, func(d mfa.TrustedDevice) bool { return len(ids) == 0 || slices.Contains(ids, d.ID) })
	s.devices[userID] = list
	return n - len(list), nil
}

// DropUsers deletes the authenticators, recovery codes, settings and
// trusted devices of the users ids and returns a function putting them
// back (nil: none): what PostgreSQL does by ON DELETE CASCADE. It makes the
// store a user/memory Dependent: the user store calls it when it deletes
// users (usermemory.Store.CascadeTo, which simpleuser.New sets up).
func (s *Store) DropUsers(ids []int64) (restore func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type rows struct {
		auths    []mfa.Authenticator
		recovery [][]byte
		settings mfa.Settings
		devices  []mfa.TrustedDevice
		has      [4]bool
	}
	gone := map[int64]rows{}
	for _, id := range ids {
		var r rows
		r.auths, r.has[0] = s.auths[id]
		r.recovery, r.has[1] = s.recovery[id]
		r.settings, r.has[2] = s.settings[id]
		r.devices, r.has[3] = s.devices[id]
		if r.has != [4]bool{} {
			gone[id] = r
			delete(s.auths, id)
			delete(s.recovery, id)
			delete(s.settings, id)
			delete(s.devices, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for id, r := range gone {
			if r.has[0] {
				s.auths[id] = r.auths
			}
			if r.has[1] {
				s.recovery[id] = r.recovery
			}
			if r.has[2] {
				s.settings[id] = r.settings
			}
			if r.has[3] {
				s.devices[id] = r.devices
			}
		}
	}
}
