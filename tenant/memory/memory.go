// Package memory is the in-memory tenant.Store, the kit's embedded
// default. It loses everything on restart: give a service whose users are
// in PostgreSQL the PostgreSQL store (tenant/postgres).
package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/simpleuser/simpleuser/tenant"
)

type key struct{ user, tenant int64 }

// Store is an in-memory tenant.Store; one mutex makes every method
// atomic. Create one with New. It cannot see whether a user exists: a
// membership of an unknown user is accepted; a user's memberships go with
// the user through DropUsers.
type Store struct {
	mu      sync.Mutex
	nextID  int64
	tenants map[int64]tenant.Tenant
	members map[key]tenant.Membership
	roles   map[string]tenant.Role
}

var _ tenant.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{tenants: map[int64]tenant.Tenant{}, members: map[key]tenant.Membership{}, roles: map[string]tenant.Role{}}
}

func cloneM(m tenant.Membership) tenant.Membership { m.Roles = slices.Clone(m.Roles); return m }

func (s *Store) slugTaken(slug string, except int64) bool {
	for id, t := range s.tenants {
		if t.Slug == slug && id != except {
			return true
		}
	}
	return false
}

// CreateTenant inserts t and sets t.ID.
func (s *Store) CreateTenant(_ context.Context, t *tenant.Tenant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slugTaken(t.Slug, 0) {
		return tenant.ErrExists
	}
	s.nextID++
	t.ID = s.nextID
	s.tenants[t.ID] = *t
	return nil
}

// GetTenant returns the tenant id.
func (s *Store) GetTenant(_ context.Context, id int64) (*tenant.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return nil, tenant.ErrNotFound
	}
	return &t, nil
}

// ListTenants returns up to limit tenants with ids above after.
func (s *Store) ListTenants(_ context.Context, after int64, limit int) ([]tenant.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Tenant
	for id, t := range s.tenants {
		if id > after {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b tenant.Tenant) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(limit, len(out))], nil
}

// UpdateTenant writes t's slug, name and UpdatedAt.
func (s *Store) UpdateTenant(_ context.Context, t *tenant.Tenant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.tenants[t.ID]
	if !ok {
		return tenant.ErrNotFound
	}
	if s.slugTaken(t.Slug, t.ID) {
		return tenant.ErrExists
	}
	old.Slug, old.Name, old.UpdatedAt = t.Slug, t.Name, t.UpdatedAt
	s.tenants[t.ID] = old
	return nil
}

// DeleteTenant deletes the tenant and its memberships.
func (s *Store) DeleteTenant(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[id]; !ok {
		return tenant.ErrNotFound
	}
	delete(s.tenants, id)
	for k := range s.members {
		if k.tenant == id {
			delete(s.members, k)
		}
	}
	return nil
}

// AddMembership inserts m.
func (s *Store) AddMembership(_ context.Context, m *tenant.Membership) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[m.TenantID]; !ok {
		return tenant.ErrNotFound
	}
	k := key{m.UserID, m.TenantID}
	if _, ok := s.members[k]; ok {
		return tenant.ErrExists
	}
	s.members[k] = cloneM(*m)
	return nil
}

// GetMembership returns the membership of userID in tenantID.
func (s *Store) GetMembership(_ context.Context, userID, tenantID int64) (*tenant.Membership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[key{userID, tenantID}]
	if !ok {
		return nil, tenant.ErrNotFound
	}
	m = cloneM(m)
	return &m, nil
}

// UpdateMembership writes m's status, roles and UpdatedAt.
func (s *Store) UpdateMembership(_ context.Context, m *tenant.Membership) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{m.UserID, m.TenantID}
	old, ok := s.members[k]
	if !ok {
		return tenant.ErrNotFound
	}
	old.Status, old.Roles, old.UpdatedAt = m.Status, slices.Clone(m.Roles), m.UpdatedAt
	s.members[k] = old
	return nil
}

// RemoveMembership deletes the membership.
func (s *Store) RemoveMembership(_ context.Context, userID, tenantID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{userID, tenantID}
	if _, ok := s.members[k]; !ok {
		return tenant.ErrNotFound
	}
	delete(s.members, k)
	return nil
}

// DropUsers deletes every membership of the users ids and returns a
// function putting them back (nil: none): what PostgreSQL does by ON
// DELETE CASCADE. It makes the store a user/memory Dependent: the user
// store calls it when it deletes users (usermemory.Store.CascadeTo, which
// simpleuser.New sets up).
func (s *Store) DropUsers(ids []int64) (restore func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []tenant.Membership
	for k, m := range s.members {
		if slices.Contains(ids, k.user) {
			gone = append(gone, m)
			delete(s.members, k)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, m := range gone {
			s.members[key{m.UserID, m.TenantID}] = m
		}
	}
}

// UserMemberships returns userID's memberships, oldest first.
func (s *Store) UserMemberships(_ context.Context, userID int64) ([]tenant.Membership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Membership
	for k, m := range s.members {
		if k.user == userID {
			out = append(out, cloneM(m))
		}
	}
	slices.SortFunc(out, func(a, b tenant.Membership) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.TenantID, b.TenantID))
	})
	return out, nil
}

// TenantMembers returns up to limit memberships of tenantID with user ids above after.
func (s *Store) TenantMembers(_ context.Context, tenantID, after int64, limit int) ([]tenant.Membership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Membership
	for k, m := range s.members {
		if k.tenant == tenantID && k.user > after {
			out = append(out, cloneM(m))
		}
	}
	slices.SortFunc(out, func(a, b tenant.Membership) int { return cmp.Compare(a.UserID, b.UserID) })
	return out[:min(limit, len(out))], nil
}

// RoleHolders returns the users holding role name, ascending.
func (s *Store) RoleHolders(_ context.Context, name string) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for k, m := range s.members {
		if slices.Contains(m.Roles, name) {
			out = append(out, k.user)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// PutRole inserts or replaces r.
func (s *Store) PutRole(_ context.Context, r *tenant.Role) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := *r
	n.Permissions = slices.Clone(r.Permissions)
	if old, ok := s.roles[r.Name]; ok {
		n.CreatedAt = old.CreatedAt
		r.CreatedAt = old.CreatedAt
	}
	s.roles[r.Name] = n
	return nil
}

// GetRole returns the role name.
func (s *Store) GetRole(_ context.Context, name string) (*tenant.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[name]
	if !ok {
		return nil, tenant.ErrNotFound
	}
	r.Permissions = slices.Clone(r.Permissions)
	return &r, nil
}

// GetRoles returns the roles among names that exist, by name.
func (s *Store) GetRoles(_ context.Context, names []string) ([]tenant.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Role
	for name, r := range s.roles {
		if slices.Contains(names, name) {
			r.Permissions = slices.Clone(r.Permissions)
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b tenant.Role) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// ListRoles returns every role, by name.
func (s *Store) ListRoles(_ context.Context) ([]tenant.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tenant.Role
	for _, r := range s.roles {
		r.Permissions = slices.Clone(r.Permissions)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b tenant.Role) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteRole deletes the role and removes it from every membership.
func (s *Store) DeleteRole(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.roles[name]; !ok {
		return tenant.ErrNotFound
	}
	delete(s.roles, name)
	for k, m := range s.members {
		if i := slices.Index(m.Roles, name); i >= 0 {
			m.Roles = slices.Delete(slices.Clone(m.Roles), i, i+1)
			s.members[k] = m
		}
	}
	return nil
}
