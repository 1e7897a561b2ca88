// Package postgres is the PostgreSQL tenant.Store. Its tables
// (simpleuser_tenants, simpleuser_tenant_memberships, simpleuser_roles)
// come with the kit's migration 0010: run user/postgres.Migrate first.
// Inside a transaction of the user store (user/postgres.Store.WithTx, or
// any context carrying one: user/postgres.TxFrom) every statement joins it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// Store is the PostgreSQL tenant.Store. Create it with New; it is safe
// for concurrent use.
type Store struct {
	// QueryTimeout bounds each call whose context has no deadline
	// (default 5 s; negative: none), as user/postgres.Store.QueryTimeout.
	QueryTimeout time.Duration

	pool *pgxpool.Pool
}

var _ tenant.Store = (*Store)(nil)

// New returns a Store on pool (the user store's pool: memberships
// reference simpleuser_users).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

type querier = userpg.Querier

// q returns the transaction ctx carries, else the pool, and the context
// the statement runs under (detached from cancellation, bounded by ctx's
// deadline or QueryTimeout).
func (s *Store) q(ctx context.Context) (querier, context.Context, context.CancelFunc) {
	return userpg.Statement(ctx, s.pool, s.QueryTimeout)
}

// mapErr turns a driver error into what tenant.Store promises.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return tenant.ErrExists
		case "23503": // the user or the tenant row is gone
			return tenant.ErrNotFound
		case "23514":
			return fmt.Errorf("%w: %s", tenant.ErrInvalid, pgErr.ConstraintName)
		case "22021", "22P05":
			return fmt.Errorf("%w: %s", user.ErrInvalidText, pgErr.Message)
		}
	}
	if w := userpg.Wrap(err); w != err {
		return w
	}
	return fmt.Errorf("tenant/postgres: %s: %w", op, err)
}

func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func affected(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return tenant.ErrNotFound
	}
	return nil
}

// CreateTenant inserts t and sets t.ID.
func (s *Store) CreateTenant(ctx context.Context, t *tenant.Tenant) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	err := q.QueryRow(ctx, `INSERT INTO simpleuser_tenants (slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		t.Slug, t.Name, ts(t.CreatedAt), ts(t.UpdatedAt)).Scan(&t.ID)
	return mapErr("create tenant", err)
}

const tenantCols = `id, slug, name, created_at, updated_at`

func scanTenant(row pgx.Row) (tenant.Tenant, error) {
	var t tenant.Tenant
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

// GetTenant returns the tenant id.
func (s *Store) GetTenant(ctx context.Context, id int64) (*tenant.Tenant, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	t, err := scanTenant(q.QueryRow(ctx, `SELECT `+tenantCols+` FROM simpleuser_tenants WHERE id = $1`, id))
	if err != nil {
		return nil, mapErr("get tenant", err)
	}
	return &t, nil
}

// ListTenants returns up to limit tenants with ids above after.
func (s *Store) ListTenants(ctx context.Context, after int64, limit int) ([]tenant.Tenant, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `SELECT `+tenantCols+` FROM simpleuser_tenants WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapErr("list tenants", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Tenant, error) { return scanTenant(r) })
	return out, mapErr("list tenants", err)
}

// UpdateTenant writes t's slug, name and UpdatedAt.
func (s *Store) UpdateTenant(ctx context.Context, t *tenant.Tenant) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `UPDATE simpleuser_tenants SET slug = $2, name = $3, updated_at = $4 WHERE id = $1`,
		t.ID, t.Slug, t.Name, ts(t.UpdatedAt))
	return affected("update tenant", tag, err)
}

// DeleteTenant deletes the tenant; its memberships go by ON DELETE CASCADE.
func (s *Store) DeleteTenant(ctx context.Context, id int64) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `DELETE FROM simpleuser_tenants WHERE id = $1`, id)
	return affected("delete tenant", tag, err)
}
