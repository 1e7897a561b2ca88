// Package tenant keeps tenants (shared mode: one user table, many
// tenants), memberships (user × tenant, with a status and roles) and roles
// (named sets of permissions), and resolves what a session carries: its
// tenant, the member's roles and the permissions they grant (Claims).
//
// Store implementations: tenant/memory (the embedded default) and
// tenant/postgres (migration 0010, ON DELETE CASCADE from the user and the
// tenant); conformance suite: tenant/tenanttest. Service is the Go API the
// root service and an admin API call: CRUD of tenants, memberships and
// roles, each membership or role change applied to the live sessions of
// the users concerned at once.
package tenant

import (
	"context"
	"errors"
	"time"
)

// Errors a Store and the Service return.
var (
	// ErrNotFound: no such tenant, membership or role.
	ErrNotFound = errors.New("tenant: not found")
	// ErrExists: the tenant slug, the membership (user, tenant) or the role
	// name is taken.
	ErrExists = errors.New("tenant: already exists")
	// ErrNotMember: the user has no active membership of the tenant.
	ErrNotMember = errors.New("tenant: not an active member")
	// ErrInvalid: a field is malformed (message wraps it with the field).
	ErrInvalid = errors.New("tenant: invalid")
)

// Membership statuses.
const (
	// StatusActive: the membership counts: the user may act in the tenant.
	StatusActive = "active"
	// StatusSuspended: kept but not usable; a session of the tenant loses it.
	StatusSuspended = "suspended"
	// StatusInvited: added, not yet accepted; not usable.
	StatusInvited = "invited"
)

// Tenant is an organisation or workspace that users belong to.
type Tenant struct {
	ID int64
	// Slug is the tenant's unique handle (1..64 characters of [a-z0-9-]).
	Slug string
	// Name is its display name (1..200 characters).
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Membership says that a user belongs to a tenant, how (Status), and with
// which roles (role names, each a Role of the store).
type Membership struct {
	UserID    int64
	TenantID  int64
	Status    string // StatusActive, StatusSuspended or StatusInvited
	Roles     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Role is a named set of permissions ("editor": "post.write",
// "post.publish"). Roles are global: a membership names the roles its
// user holds in that tenant.
type Role struct {
	Name        string // 1..64 characters of [a-z0-9_.:-]
	Description string
	Permissions []string // each 1..128 printable ASCII characters, no spaces
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Store keeps tenants, memberships and roles. Every method is atomic. A
// PostgreSQL store joins the user store's transaction that ctx carries.
type Store interface {
	// CreateTenant inserts t and sets t.ID; ErrExists when the slug is taken.
	CreateTenant(ctx context.Context, t *Tenant) error
	// GetTenant returns the tenant id; ErrNotFound.
	GetTenant(ctx context.Context, id int64) (*Tenant, error)
	// ListTenants returns up to limit tenants with ids above after, by id.
	ListTenants(ctx context.Context, after int64, limit int) ([]Tenant, error)
	// UpdateTenant writes t's slug, name and UpdatedAt; ErrNotFound, ErrExists.
	UpdateTenant(ctx context.Context, t *Tenant) error
	// DeleteTenant deletes the tenant and its memberships; ErrNotFound.
	DeleteTenant(ctx context.Context, id int64) error

	// AddMembership inserts m; ErrExists when the user already belongs to
	// the tenant; ErrNotFound when the tenant or the user does not exist.
	AddMembership(ctx context.Context, m *Membership) error
	// GetMembership returns the membership of userID in tenantID; ErrNotFound.
	GetMembership(ctx context.Context, userID, tenantID int64) (*Membership, error)
	// UpdateMembership writes m's status, roles and UpdatedAt; ErrNotFound.
	UpdateMembership(ctx context.Context, m *Membership) error
	// RemoveMembership deletes it; ErrNotFound.
	RemoveMembership(ctx context.Context, userID, tenantID int64) error
	// UserMemberships returns the memberships of userID, oldest first
	// (ties: smaller tenant id).
	UserMemberships(ctx context.Context, userID int64) ([]Membership, error)
	// TenantMembers returns up to limit memberships of tenantID whose user
	// id is above after, by user id.
	TenantMembers(ctx context.Context, tenantID, after int64, limit int) ([]Membership, error)
	// RoleHolders returns the ids of the users holding role name in some
	// membership, ascending, each once.
	RoleHolders(ctx context.Context, name string) ([]int64, error)

	// PutRole inserts or replaces the role r.Name (CreatedAt is kept on replace).
	PutRole(ctx context.Context, r *Role) error
	// GetRole returns the role name; ErrNotFound.
	GetRole(ctx context.Context, name string) (*Role, error)
	// GetRoles returns the roles among names that exist, in name order.
	GetRoles(ctx context.Context, names []string) ([]Role, error)
	// ListRoles returns every role, by name.
	ListRoles(ctx context.Context) ([]Role, error)
	// DeleteRole deletes the role and removes its name from every
	// membership; ErrNotFound.
	DeleteRole(ctx context.Context, name string) error
}
