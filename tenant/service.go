package tenant

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/session"
)

// DefaultRule chooses the tenant a new session starts in.
type DefaultRule int

const (
	// DefaultOnly: the user's only active membership; none when they have
	// zero or several (the client then calls switch-tenant).
	DefaultOnly DefaultRule = iota
	// DefaultFirst: the user's oldest active membership.
	DefaultFirst
	// DefaultNone: sessions start in no tenant.
	DefaultNone
)

// Claims are what a session carries about its tenant: the tenant, the
// member's roles there and the permissions those roles grant (sorted,
// each once). The zero Claims is "no tenant".
type Claims struct {
	TenantID    int64
	Roles       []string
	Permissions []string
}

// Apply writes c into a session body.
func (c Claims) Apply(d *session.Data) {
	d.TenantID, d.Roles, d.Permissions = c.TenantID, c.Roles, c.Permissions
}

// Service is the Go API over a Store: CRUD with validation, claims, and
// the application of membership and role changes to live sessions.
//
// The sessions are rewritten right after the store write. Called inside a
// user-store transaction (simpleuser.Service.WithTx), that is before the
// commit: if the transaction then rolls back, call Refresh (or
// simpleuser.Service.RefreshSessionUserData) for the users concerned.
type Service struct {
	Store Store
	// Manager is the session manager: membership and role changes rewrite
	// the users' live sessions through its per-user index (UpdateUser),
	// Switch issues and ends sessions. nil: sessions are not updated (and
	// Switch cannot be used).
	Manager *session.Manager
	Default DefaultRule
	Now     func() time.Time // default time.Now
	// Emit receives the tenant events (hooks.MembershipAdded...; the root
	// service delivers them after commit). nil: none.
	Emit func(ctx context.Context, e hooks.Event)
	// MemoFrom returns the request's Memo carried by ctx (nil: none), which
	// LoginClaims answers from after its first lookup for the user. The
	// root service gives the memo of its per-request state (WithClient).
	MemoFrom func(ctx context.Context) *Memo
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Claims resolves the claims of userID in tenantID: ErrNotMember unless
// the user has an active membership there.
func (s *Service) Claims(ctx context.Context, userID, tenantID int64) (Claims, error) {
	m, err := s.Store.GetMembership(ctx, userID, tenantID)
	if err == ErrNotFound {
		return Claims{}, ErrNotMember
	}
	if err != nil {
		return Claims{}, err
	}
	if m.Status != StatusActive {
		return Claims{}, ErrNotMember
	}
	return s.claimsOf(ctx, m)
}

func (s *Service) claimsOf(ctx context.Context, m *Membership) (Claims, error) {
	c := Claims{TenantID: m.TenantID, Roles: slices.Clone(m.Roles)}
	if len(m.Roles) == 0 {
		return c, nil
	}
	roles, err := s.Store.GetRoles(ctx, m.Roles)
	if err != nil {
		return Claims{}, err
	}
	for _, r := range roles {
		c.Permissions = append(c.Permissions, r.Permissions...)
	}
	slices.Sort(c.Permissions)
	c.Permissions = slices.Compact(c.Permissions)
	return c, nil
}

// LoginClaims are the claims a new session of userID starts with, by the
// Default rule (the zero Claims when it picks no tenant). Within one
// request (MemoFrom) the store is read once per user.
func (s *Service) LoginClaims(ctx context.Context, userID int64) (Claims, error) {
	if s.Default == DefaultNone {
		return Claims{}, nil
	}
	m := s.memo(ctx)
	if c, ok := m.get(userID); ok {
		return c, nil
	}
	c, err := s.loginClaims(ctx, userID)
	if err == nil {
		m.put(userID, c)
	}
	return c, err
}

func (s *Service) loginClaims(ctx context.Context, userID int64) (Claims, error) {
	ms, err := s.Store.UserMemberships(ctx, userID)
	if err != nil {
		return Claims{}, err
	}
	var active []Membership
	for _, m := range ms {
		if m.Status == StatusActive {
			active = append(active, m)
		}
	}
	if len(active) == 0 || (s.Default == DefaultOnly && len(active) > 1) {
		return Claims{}, nil
	}
	return s.claimsOf(ctx, &active[0])
}

// Refresh recomputes the claims of every live session of userID that is
// in a tenant: a session whose membership is gone or no longer active
// leaves the tenant (no roles, no permissions). It returns how many
// sessions were rewritten.
func (s *Service) Refresh(ctx context.Context, userID int64) (int, error) {
	s.memo(ctx).forget(userID)
	if s.Manager == nil {
		return 0, nil
	}
	cache := map[int64]Claims{}
	var ferr error
	n, err := s.Manager.UpdateUser(ctx, userID, func(d *session.Data) {
		if d.TenantID == 0 || ferr != nil {
			return
		}
		c, ok := cache[d.TenantID]
		if !ok {
			var err error
			c, err = s.Claims(ctx, userID, d.TenantID)
			if err == ErrNotMember {
				c, err = Claims{}, nil
			}
			if err != nil {
				ferr = err
				return
			}
			cache[d.TenantID] = c
		}
		c.Apply(d)
	})
	if ferr != nil {
		return n, ferr
	}
	return n, err
}

func (s *Service) refreshAll(ctx context.Context, users []int64) error {
	for _, id := range users {
		if _, err := s.Refresh(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func invalid(field, msg string) error { return fmt.Errorf("%w: %s %s", ErrInvalid, field, msg) }

// Config is the service configuration's tenant part (simpleuser.Config.Tenants).
type Config struct {
	// Store keeps tenants, memberships and roles. Default: in-memory
	// (tenant/memory); with PostgreSQL users use tenant/postgres.
	Store Store
	// Default chooses the tenant a new session starts in (default
	// DefaultOnly: the user's only active membership).
	Default DefaultRule
}
