package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/simpleuser/simpleuser/tenant"
)

func roles(r []string) []string {
	if r == nil {
		return []string{}
	}
	return r
}

// AddMembership inserts m, with its user's creation time (the admin search
// by tenant's keyset, migration 0012): ErrNotFound when the user or the
// tenant does not exist.
func (s *Store) AddMembership(ctx context.Context, m *tenant.Membership) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `INSERT INTO simpleuser_tenant_memberships (user_id, tenant_id, status, roles, created_at, updated_at, user_created_at)
		SELECT $1, $2, $3, $4, $5, $6, u.created_at FROM simpleuser_users u WHERE u.id = $1`,
		m.UserID, m.TenantID, m.Status, roles(m.Roles), ts(m.CreatedAt), ts(m.UpdatedAt))
	return affected("add membership", tag, err)
}

const memberCols = `user_id, tenant_id, status, roles, created_at, updated_at`

func scanMember(row pgx.Row) (tenant.Membership, error) {
	var m tenant.Membership
	err := row.Scan(&m.UserID, &m.TenantID, &m.Status, &m.Roles, &m.CreatedAt, &m.UpdatedAt)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if len(m.Roles) == 0 {
		m.Roles = nil
	}
	return m, err
}

func (s *Store) members(ctx context.Context, op, sql string, args ...any) ([]tenant.Membership, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Membership, error) { return scanMember(r) })
	return out, mapErr(op, err)
}

// GetMembership returns the membership of userID in tenantID.
func (s *Store) GetMembership(ctx context.Context, userID, tenantID int64) (*tenant.Membership, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	m, err := scanMember(q.QueryRow(ctx, `SELECT `+memberCols+` FROM simpleuser_tenant_memberships WHERE user_id = $1 AND tenant_id = $2`, userID, tenantID))
	if err != nil {
		return nil, mapErr("get membership", err)
	}
	return &m, nil
}

// UpdateMembership writes m's status, roles and UpdatedAt.
func (s *Store) UpdateMembership(ctx context.Context, m *tenant.Membership) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `UPDATE simpleuser_tenant_memberships SET status = $3, roles = $4, updated_at = $5 WHERE user_id = $1 AND tenant_id = $2`,
		m.UserID, m.TenantID, m.Status, roles(m.Roles), ts(m.UpdatedAt))
	return affected("update membership", tag, err)
}

// RemoveMembership deletes the membership.
func (s *Store) RemoveMembership(ctx context.Context, userID, tenantID int64) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `DELETE FROM simpleuser_tenant_memberships WHERE user_id = $1 AND tenant_id = $2`, userID, tenantID)
	return affected("remove membership", tag, err)
}

// UserMemberships returns userID's memberships, oldest first.
func (s *Store) UserMemberships(ctx context.Context, userID int64) ([]tenant.Membership, error) {
	return s.members(ctx, "user memberships", `SELECT `+memberCols+` FROM simpleuser_tenant_memberships
		WHERE user_id = $1 ORDER BY created_at, tenant_id`, userID)
}

// TenantMembers returns up to limit memberships of tenantID with user ids above after.
func (s *Store) TenantMembers(ctx context.Context, tenantID, after int64, limit int) ([]tenant.Membership, error) {
	return s.members(ctx, "tenant members", `SELECT `+memberCols+` FROM simpleuser_tenant_memberships
		WHERE tenant_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`, tenantID, after, limit)
}

// RoleHolders returns the users holding role name, ascending.
func (s *Store) RoleHolders(ctx context.Context, name string) ([]int64, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `SELECT DISTINCT user_id FROM simpleuser_tenant_memberships WHERE roles @> ARRAY[$1::text] ORDER BY user_id`, name)
	if err != nil {
		return nil, mapErr("role holders", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return out, mapErr("role holders", err)
}
