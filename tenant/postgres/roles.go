package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/simpleuser/simpleuser/tenant"
)

// PutRole inserts or replaces r (its CreatedAt is kept on replace, and
// r.CreatedAt set to it).
func (s *Store) PutRole(ctx context.Context, r *tenant.Role) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	err := q.QueryRow(ctx, `INSERT INTO simpleuser_roles (name, description, permissions, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, permissions = EXCLUDED.permissions, updated_at = EXCLUDED.updated_at
		RETURNING created_at`, r.Name, r.Description, roles(r.Permissions), ts(r.CreatedAt), ts(r.UpdatedAt)).Scan(&r.CreatedAt)
	r.CreatedAt = r.CreatedAt.UTC()
	return mapErr("put role", err)
}

const roleCols = `name, description, permissions, created_at, updated_at`

func scanRole(row pgx.Row) (tenant.Role, error) {
	var r tenant.Role
	err := row.Scan(&r.Name, &r.Description, &r.Permissions, &r.CreatedAt, &r.UpdatedAt)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if len(r.Permissions) == 0 {
		r.Permissions = nil
	}
	return r, err
}

func (s *Store) roles(ctx context.Context, sql string, args ...any) ([]tenant.Role, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr("roles", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Role, error) { return scanRole(r) })
	return out, mapErr("roles", err)
}

// GetRole returns the role name.
func (s *Store) GetRole(ctx context.Context, name string) (*tenant.Role, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	r, err := scanRole(q.QueryRow(ctx, `SELECT `+roleCols+` FROM simpleuser_roles WHERE name = $1`, name))
	if err != nil {
		return nil, mapErr("get role", err)
	}
	return &r, nil
}

// GetRoles returns the roles among names that exist, by name.
func (s *Store) GetRoles(ctx context.Context, names []string) ([]tenant.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM simpleuser_roles WHERE name = ANY($1) ORDER BY name`, roles(names))
}

// ListRoles returns every role, by name.
func (s *Store) ListRoles(ctx context.Context) ([]tenant.Role, error) {
	return s.roles(ctx, `SELECT `+roleCols+` FROM simpleuser_roles ORDER BY name`)
}

// DeleteRole deletes the role and removes it from every membership, in
// one statement.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	var n int
	err := q.QueryRow(ctx, `WITH gone AS (DELETE FROM simpleuser_roles WHERE name = $1 RETURNING name),
		m AS (UPDATE simpleuser_tenant_memberships SET roles = array_remove(roles, $1)
			WHERE roles @> ARRAY[$1::text] AND EXISTS (SELECT 1 FROM gone))
		SELECT count(*) FROM gone`, name).Scan(&n)
	if err != nil {
		return mapErr("delete role", err)
	}
	if n == 0 {
		return tenant.ErrNotFound
	}
	return nil
}
