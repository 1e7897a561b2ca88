package memory

import (
	"context"
	"slices"
)

// Dependent is a memory store keeping rows that hang off users (tenant
// memberships, second factors and trusted devices, passkeys, an app's own
// table): what PostgreSQL deletes by ON DELETE CASCADE from
// simpleuser_users. DropUsers deletes every row of the users ids and
// returns a function that puts them back (nil when it dropped nothing).
type Dependent interface {
	DropUsers(ids []int64) (restore func())
}

// CascadeTo makes every deletion of users by the store (Delete,
// PurgeAnonymous) drop their rows in the stores among deps that implement
// Dependent (the others, a PostgreSQL store for instance, are skipped;
// registering a store twice has no more effect than once). Inside a
// transaction the rows come back if it rolls back, as the user does. The
// root service (simpleuser.New) registers the memory stores it uses;
// register an app's own memory table here too.
func (s *Store) CascadeTo(deps ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range deps {
		if dep, ok := d.(Dependent); ok && !slices.Contains(s.deps, dep) {
			s.deps = append(s.deps, dep)
		}
	}
}

// cascade drops the rows of the deleted users ids in the dependents,
// outside the store's lock, registering the restores in t (nil: no
// transaction, the deletion is final).
func (s *Store) cascade(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	s.mu.Lock()
	deps := slices.Clone(s.deps)
	s.mu.Unlock()
	for _, d := range deps {
		if restore := d.DropUsers(ids); restore != nil {
			s.OnRollback(ctx, restore)
		}
	}
}
