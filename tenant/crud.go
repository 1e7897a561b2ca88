package tenant

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/simpleuser/simpleuser/hooks"
)

func validSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func validRoleName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-", r)) {
			return false
		}
	}
	return true
}

func validPermission(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func checkTenant(t *Tenant) error {
	if !validSlug(t.Slug) {
		return invalid("slug", "must be 1 to 64 characters of a-z, 0-9 and -")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(t.Name)); n == 0 || n > 200 || !utf8.ValidString(t.Name) {
		return invalid("name", "must be 1 to 200 characters")
	}
	return nil
}

func checkStatus(st string) error {
	switch st {
	case StatusActive, StatusSuspended, StatusInvited:
		return nil
	}
	return invalid("status", "must be active, suspended or invited")
}

// normRoles checks role names and returns them sorted, each once.
func normRoles(roles []string) ([]string, error) {
	for _, r := range roles {
		if !validRoleName(r) {
			return nil, invalid("roles", "must be role names (1 to 64 characters of a-z, 0-9 and _.:-)")
		}
	}
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CreateTenant validates and inserts a tenant. Errors: ErrInvalid, ErrExists.
func (s *Service) CreateTenant(ctx context.Context, slug, name string) (*Tenant, error) {
	t := &Tenant{Slug: slug, Name: strings.TrimSpace(name)}
	if err := checkTenant(t); err != nil {
		return nil, err
	}
	t.CreatedAt = s.now()
	t.UpdatedAt = t.CreatedAt
	if err := s.Store.CreateTenant(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// GetTenant returns a tenant; ErrNotFound.
func (s *Service) GetTenant(ctx context.Context, id int64) (*Tenant, error) {
	return s.Store.GetTenant(ctx, id)
}

// ListTenants returns up to limit (1..1000, default 100) tenants with ids
// above after (cursor pagination: pass the last id seen).
func (s *Service) ListTenants(ctx context.Context, after int64, limit int) ([]Tenant, error) {
	return s.Store.ListTenants(ctx, after, clampLimit(limit))
}

func clampLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 1000)
}

// UpdateTenant changes a tenant's slug and name. Errors: ErrInvalid,
// ErrNotFound, ErrExists.
func (s *Service) UpdateTenant(ctx context.Context, id int64, slug, name string) (*Tenant, error) {
	t, err := s.Store.GetTenant(ctx, id)
	if err != nil {
		return nil, err
	}
	t.Slug, t.Name = slug, strings.TrimSpace(name)
	if err := checkTenant(t); err != nil {
		return nil, err
	}
	t.UpdatedAt = s.now()
	return t, s.Store.UpdateTenant(ctx, t)
}

// DeleteTenant deletes a tenant and its memberships; the members'
// sessions in it leave it at once. ErrNotFound.
func (s *Service) DeleteTenant(ctx context.Context, id int64) error {
	var users []int64
	for after := int64(0); ; {
		ms, err := s.Store.TenantMembers(ctx, id, after, 1000)
		if err != nil {
			return err
		}
		for _, m := range ms {
			users = append(users, m.UserID)
		}
		if len(ms) < 1000 {
			break
		}
		after = ms[len(ms)-1].UserID
	}
	if err := s.Store.DeleteTenant(ctx, id); err != nil {
		return err
	}
	return s.refreshAll(ctx, users)
}

// AddMembership makes userID a member of tenantID with a status (""
// means StatusActive) and roles (role names; they need not exist yet: a
// missing role grants nothing). The user's live sessions in the tenant
// pick it up at once. Errors: ErrInvalid, ErrExists, ErrNotFound.
func (s *Service) AddMembership(ctx context.Context, userID, tenantID int64, status string, roles []string) (*Membership, error) {
	if status == "" {
		status = StatusActive
	}
	if err := checkStatus(status); err != nil {
		return nil, err
	}
	rs, err := normRoles(roles)
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := &Membership{UserID: userID, TenantID: tenantID, Status: status, Roles: rs, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.AddMembership(ctx, m); err != nil {
		return nil, err
	}
	s.emit(ctx, hooks.Event{Type: hooks.MembershipAdded, UserID: userID, TenantID: tenantID, Roles: rs})
	_, err = s.Refresh(ctx, userID)
	return m, err
}

// GetMembership returns the membership of userID in tenantID; ErrNotFound.
func (s *Service) GetMembership(ctx context.Context, userID, tenantID int64) (*Membership, error) {
	return s.Store.GetMembership(ctx, userID, tenantID)
}

// UserMemberships lists userID's memberships, oldest first.
func (s *Service) UserMemberships(ctx context.Context, userID int64) ([]Membership, error) {
	return s.Store.UserMemberships(ctx, userID)
}

// TenantMembers lists up to limit (1..1000, default 100) memberships of
// tenantID with user ids above after.
func (s *Service) TenantMembers(ctx context.Context, tenantID, after int64, limit int) ([]Membership, error) {
	return s.Store.TenantMembers(ctx, tenantID, after, clampLimit(limit))
}

// UpdateMembership sets a membership's status and roles; the user's live
// sessions in the tenant take them at once (a session whose membership is
// no longer active leaves the tenant). Errors: ErrInvalid, ErrNotFound.
func (s *Service) UpdateMembership(ctx context.Context, userID, tenantID int64, status string, roles []string) (*Membership, error) {
	if err := checkStatus(status); err != nil {
		return nil, err
	}
	rs, err := normRoles(roles)
	if err != nil {
		return nil, err
	}
	m, err := s.Store.GetMembership(ctx, userID, tenantID)
	if err != nil {
		return nil, err
	}
	m.Status, m.Roles, m.UpdatedAt = status, rs, s.now()
	if err := s.Store.UpdateMembership(ctx, m); err != nil {
		return nil, err
	}
	s.emit(ctx, hooks.Event{Type: hooks.MembershipUpdated, UserID: userID, TenantID: tenantID, Roles: rs})
	_, err = s.Refresh(ctx, userID)
	return m, err
}

// RemoveMembership ends userID's membership of tenantID; their sessions
// in the tenant leave it at once. ErrNotFound.
func (s *Service) RemoveMembership(ctx context.Context, userID, tenantID int64) error {
	if err := s.Store.RemoveMembership(ctx, userID, tenantID); err != nil {
		return err
	}
	s.emit(ctx, hooks.Event{Type: hooks.MembershipRemoved, UserID: userID, TenantID: tenantID})
	_, err := s.Refresh(ctx, userID)
	return err
}

// PutRole creates or replaces a role; the sessions of every user holding
// it take the new permissions at once. ErrInvalid.
func (s *Service) PutRole(ctx context.Context, name, description string, permissions []string) (*Role, error) {
	if !validRoleName(name) {
		return nil, invalid("name", "must be 1 to 64 characters of a-z, 0-9 and _.:-")
	}
	if len(description) > 500 || !utf8.ValidString(description) {
		return nil, invalid("description", "must be at most 500 bytes of UTF-8")
	}
	for _, p := range permissions {
		if !validPermission(p) {
			return nil, invalid("permissions", "must be 1 to 128 printable ASCII characters without spaces")
		}
	}
	perms := slices.Clone(permissions)
	slices.Sort(perms)
	now := s.now()
	r := &Role{Name: name, Description: description, Permissions: slices.Compact(perms), CreatedAt: now, UpdatedAt: now}
	if err := s.Store.PutRole(ctx, r); err != nil {
		return nil, err
	}
	return r, s.refreshHolders(ctx, name)
}

// GetRole returns a role; ErrNotFound.
func (s *Service) GetRole(ctx context.Context, name string) (*Role, error) {
	return s.Store.GetRole(ctx, name)
}

// ListRoles returns every role, by name.
func (s *Service) ListRoles(ctx context.Context) ([]Role, error) { return s.Store.ListRoles(ctx) }

// DeleteRole deletes a role and takes it from every membership; the
// holders' sessions lose it at once. ErrNotFound.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	users, err := s.Store.RoleHolders(ctx, name)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteRole(ctx, name); err != nil {
		return err
	}
	return s.refreshAll(ctx, users)
}

func (s *Service) refreshHolders(ctx context.Context, name string) error {
	if s.Manager == nil {
		return nil
	}
	users, err := s.Store.RoleHolders(ctx, name)
	if err != nil {
		return err
	}
	return s.refreshAll(ctx, users)
}
