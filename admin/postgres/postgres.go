// Package postgres is the PostgreSQL admin.Store and the admin user search
// (Searcher). Its tables (simpleuser_admin_audit, simpleuser_admin_keys)
// and the search index (simpleuser_users_created_idx) come with the kit's
// migration 0011: run user/postgres.Migrate first. Inside a transaction of
// the user store (user/postgres.TxFrom) every statement joins it, so an
// audit entry commits with the change it records.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// Store is the PostgreSQL admin.Store and admin.Searcher. Create it with
// New; it is safe for concurrent use.
type Store struct {
	// QueryTimeout bounds each call whose context has no deadline
	// (default 5 s; negative: none), as user/postgres.Store.QueryTimeout.
	QueryTimeout time.Duration

	pool *pgxpool.Pool
}

var (
	_ admin.Store    = (*Store)(nil)
	_ admin.Searcher = (*Store)(nil)
)

// New returns a Store on pool (the user store's pool).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

type querier = userpg.Querier

// q returns the transaction ctx carries, else the pool, and the bounded
// context the statement runs under.
func (s *Store) q(ctx context.Context) (querier, context.Context, context.CancelFunc) {
	return userpg.Statement(ctx, s.pool, s.QueryTimeout)
}

func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return admin.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05") {
		return fmt.Errorf("%w: %s", user.ErrInvalidText, pgErr.Message)
	}
	if w := userpg.Wrap(err); w != err {
		return w
	}
	return fmt.Errorf("admin/postgres: %s: %w", op, err)
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

func nz[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// Record implements admin.Store.
func (s *Store) Record(ctx context.Context, e *admin.Entry) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	err := q.QueryRow(ctx, `INSERT INTO simpleuser_admin_audit
		(at, actor_user_id, actor_key_id, action, target_user_id, target, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		ts(e.At), nz(e.ActorUserID), nz(e.ActorKeyID), e.Action, nz(e.TargetUserID), nz(e.Target), nz(e.IP), detail).Scan(&e.ID)
	return mapErr("record", err)
}

// Entries implements admin.Store.
func (s *Store) Entries(ctx context.Context, f admin.Filter) ([]admin.Entry, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `SELECT id, at, coalesce(actor_user_id, 0), coalesce(actor_key_id, ''), action,
			coalesce(target_user_id, 0), coalesce(target, ''), coalesce(ip, ''), detail
		FROM simpleuser_admin_audit
		WHERE ($1::bigint IS NULL OR id < $1)
		  AND ($2::bigint IS NULL OR actor_user_id = $2)
		  AND ($3::text IS NULL OR actor_key_id = $3)
		  AND ($4::text IS NULL OR action = $4)
		  AND ($5::bigint IS NULL OR target_user_id = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6)
		  AND ($7::timestamptz IS NULL OR at < $7)
		ORDER BY id DESC LIMIT $8`,
		nz(f.Before), nz(f.ActorUserID), nz(f.ActorKeyID), nz(f.Action), nz(f.TargetUserID), ts(f.From), ts(f.To), admin.ClampLimit(f.Limit))
	if err != nil {
		return nil, mapErr("entries", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (admin.Entry, error) {
		var e admin.Entry
		err := r.Scan(&e.ID, &e.At, &e.ActorUserID, &e.ActorKeyID, &e.Action, &e.TargetUserID, &e.Target, &e.IP, &e.Detail)
		e.At = e.At.UTC()
		if len(e.Detail) == 0 {
			e.Detail = nil
		}
		return e, err
	})
	return out, mapErr("entries", err)
}

// CreateKey implements admin.Store.
func (s *Store) CreateKey(ctx context.Context, k *admin.APIKey) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	_, err := q.Exec(ctx, `INSERT INTO simpleuser_admin_keys (id, name, hash, created_at, created_by, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.Name, k.Hash, ts(k.CreatedAt), k.CreatedBy, ts(k.RevokedAt))
	return mapErr("create key", err)
}

const keyCols = `id, name, hash, created_at, created_by, revoked_at`

func scanKey(r pgx.Row) (admin.APIKey, error) {
	var k admin.APIKey
	var revoked *time.Time
	err := r.Scan(&k.ID, &k.Name, &k.Hash, &k.CreatedAt, &k.CreatedBy, &revoked)
	k.CreatedAt = k.CreatedAt.UTC()
	if revoked != nil {
		k.RevokedAt = revoked.UTC()
	}
	return k, err
}

// KeyByHash implements admin.Store.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (*admin.APIKey, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	k, err := scanKey(q.QueryRow(ctx, `SELECT `+keyCols+` FROM simpleuser_admin_keys WHERE hash = $1`, hash))
	if err != nil {
		return nil, mapErr("key by hash", err)
	}
	return &k, nil
}

// Keys implements admin.Store.
func (s *Store) Keys(ctx context.Context) ([]admin.APIKey, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `SELECT `+keyCols+` FROM simpleuser_admin_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, mapErr("keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (admin.APIKey, error) { return scanKey(r) })
	return out, mapErr("keys", err)
}

// RevokeKey implements admin.Store.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `UPDATE simpleuser_admin_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, ts(at))
	if err != nil {
		return mapErr("revoke key", err)
	}
	if tag.RowsAffected() == 0 {
		return admin.ErrNotFound
	}
	return nil
}

// SearchUsers implements admin.Searcher. The statement is built for the
// filters given, so every page is a range scan of
// simpleuser_users_created_idx (or of the email index) and never a
// sequential scan of the table (TestSearchExplain).
func (s *Store) SearchUsers(ctx context.Context, uq admin.UserQuery) ([]admin.UserSummary, error) {
	sql, args := searchSQL(uq)
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr("search", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (admin.UserSummary, error) {
		var u admin.UserSummary
		var login *time.Time
		err := r.Scan(&u.ID, &u.Email, &u.Phone, &u.Disabled, &u.Anonymous, &u.CreatedAt, &login)
		u.CreatedAt = u.CreatedAt.UTC()
		if login != nil {
			u.LoginTime = login.UTC()
		}
		return u, err
	})
	return out, mapErr("search", err)
}

// searchSQL builds the search statement for q. With a tenant it walks the
// tenant's memberships by simpleuser_tenant_memberships_search_idx, whose
// copy of the user's creation time (migration 0012) keeps the search
// order, and reads each member's row by primary key: a page costs its
// length, not the tenant's size.
func searchSQL(q admin.UserQuery) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	from, created, id := "simpleuser_users u", "u.created_at", "u.id" // the keyset columns
	if q.TenantID != 0 {
		from = "simpleuser_tenant_memberships m JOIN simpleuser_users u ON u.id = m.user_id"
		created, id = "m.user_created_at", "m.user_id"
		where = append(where, "m.tenant_id = "+arg(q.TenantID))
	}
	if q.Email != "" {
		// The canonical key (user.EmailKey, SPEC §3) and its unique index;
		// an address without a key matches nobody.
		where = append(where, "u.email_key = "+arg(nz(user.EmailKey(q.Email)))+"::text")
	}
	if q.Phone != "" { // simpleuser_users_phone_key
		where = append(where, "u.phone = "+arg(q.Phone))
	}
	switch q.Status {
	case admin.StatusActive:
		where = append(where, "NOT u.disabled")
	case admin.StatusDisabled:
		where = append(where, "u.disabled")
	case admin.StatusSuspended:
		where = append(where, "u.disabled AND u.suspended")
	}
	if !q.Anonymous {
		where = append(where, "(u.email IS NOT NULL OR u.ssaid IS NULL)")
	}
	if !q.CreatedFrom.IsZero() {
		where = append(where, created+" >= "+arg(ts(q.CreatedFrom)))
	}
	if !q.CreatedTo.IsZero() {
		where = append(where, created+" < "+arg(ts(q.CreatedTo)))
	}
	if q.After != nil {
		where = append(where, "("+created+", "+id+") < ("+arg(ts(q.After.CreatedAt))+"::timestamptz, "+arg(q.After.ID)+"::bigint)")
	}
	sql := `SELECT u.id, coalesce(u.email, ''), coalesce(u.phone, ''), u.disabled, (u.email IS NULL AND u.ssaid IS NOT NULL), u.created_at, u.login_time
		FROM ` + from
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY " + created + " DESC, " + id + " DESC LIMIT " + arg(admin.ClampLimit(q.Limit))
	return sql, args
}
