package tenant

import (
	"context"
	"slices"
	"sync"
)

// Memo keeps the login claims resolved for one request, so that a sign-in
// that needs them twice (in its transaction, for the OnLogin hook and the
// LoggedIn event, then for the new session) reads the user's memberships
// and roles once. The zero Memo is empty and ready. A change of the
// user's memberships or roles made through the Service with the same
// context forgets it (Refresh), so the session still gets the claims as
// they are after, say, an OnLogin hook that adds a membership.
type Memo struct {
	mu     sync.Mutex
	userID int64
	claims Claims
	ok     bool
}

func (m *Memo) get(userID int64) (Claims, bool) {
	if m == nil {
		return Claims{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.claims // copies: the caller may hand the lists on (events) and change them
	c.Roles, c.Permissions = slices.Clone(c.Roles), slices.Clone(c.Permissions)
	return c, m.ok && m.userID == userID
}

func (m *Memo) put(userID int64, c Claims) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.userID, m.claims, m.ok = userID, c, true
}

func (m *Memo) forget(userID int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.userID == userID {
		m.ok = false
	}
}

func (s *Service) memo(ctx context.Context) *Memo {
	if s.MemoFrom == nil {
		return nil
	}
	return s.MemoFrom(ctx)
}
