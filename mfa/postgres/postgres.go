// Package postgres is the PostgreSQL mfa.Store. Its tables
// (simpleuser_mfa_totp, simpleuser_mfa_recovery, simpleuser_mfa_settings,
// simpleuser_mfa_devices) come with the kit's migrations: run
// user/postgres.Migrate first. Inside a transaction of the user store
// (user/postgres.Store.WithTx, or any context carrying one:
// user/postgres.TxFrom) every statement joins it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// Store is the PostgreSQL mfa.Store. Create it with New; it is safe for
// concurrent use.
type Store struct {
	// QueryTimeout bounds each call whose context has no deadline
	// (default 5 s; negative: none), as user/postgres.Store.QueryTimeout.
	QueryTimeout time.Duration

	pool *pgxpool.Pool
}

var _ mfa.Store = (*Store)(nil)

// New returns a Store on pool (the user store's pool: the tables reference
// simpleuser_users).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

type querier = userpg.Querier

// q returns the transaction ctx carries, else the pool, and the context
// the statement runs under: detached from ctx's cancellation (a statement
// is never cut in the middle), bounded by ctx's deadline or QueryTimeout.
func (s *Store) q(ctx context.Context) (querier, context.Context, context.CancelFunc) {
	return userpg.Statement(ctx, s.pool, s.QueryTimeout)
}

// mapErr turns a driver error into what mfa.Store promises.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // the name, or (never in practice) a random id
			return mfa.ErrNameTaken
		case pgErr.Code == "23503": // the user row is gone
			return user.ErrNotFound
		case pgErr.Code == "22021" || pgErr.Code == "22P05":
			return fmt.Errorf("%w: %s", user.ErrInvalidText, pgErr.Message)
		}
	}
	if w := userpg.Wrap(err); w != err {
		return w
	}
	return fmt.Errorf("mfa/postgres: %s: %w", op, err)
}

// ts is t as stored (UTC, microseconds); NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// AddAuthenticator inserts a.
func (s *Store) AddAuthenticator(ctx context.Context, a *mfa.Authenticator) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	_, err := q.Exec(ctx, `INSERT INTO simpleuser_mfa_totp (user_id, id, name, secret, last_step, created_at, confirmed_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.UserID, a.ID, a.Name, a.Secret, a.LastStep, ts(a.CreatedAt), ts(a.ConfirmedAt), ts(a.LastUsedAt))
	return mapErr("add authenticator", err)
}

const authCols = `user_id, id, name, secret, last_step, created_at, confirmed_at, last_used_at`

func scanAuth(r pgx.Row) (mfa.Authenticator, error) {
	var a mfa.Authenticator
	var created time.Time
	var confirmed, used *time.Time
	err := r.Scan(&a.UserID, &a.ID, &a.Name, &a.Secret, &a.LastStep, &created, &confirmed, &used)
	a.CreatedAt, a.ConfirmedAt, a.LastUsedAt = created.UTC(), fromTS(confirmed), fromTS(used)
	return a, err
}

// Authenticator returns one authenticator.
func (s *Store) Authenticator(ctx context.Context, userID int64, id string) (*mfa.Authenticator, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	a, err := scanAuth(q.QueryRow(ctx, `SELECT `+authCols+` FROM simpleuser_mfa_totp WHERE user_id = $1 AND id = $2`, userID, id))
	if err != nil {
		return nil, mapErr("get authenticator", err)
	}
	return &a, nil
}

// Authenticators lists the user's authenticators, oldest first.
func (s *Store) Authenticators(ctx context.Context, userID int64) ([]mfa.Authenticator, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `SELECT `+authCols+` FROM simpleuser_mfa_totp WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, mapErr("list authenticators", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mfa.Authenticator, error) { return scanAuth(r) })
	if err != nil {
		return nil, mapErr("list authenticators", err)
	}
	return out, nil
}

// AcceptStep is one UPDATE whose WHERE holds the comparison: PostgreSQL
// re-checks it on the latest row version after waiting for a concurrent
// writer (READ COMMITTED), so of two updates with one step only the first
// matches.
func (s *Store) AcceptStep(ctx context.Context, userID int64, id string, step int64, at time.Time) (bool, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `UPDATE simpleuser_mfa_totp
		SET last_step = $3, last_used_at = $4, confirmed_at = COALESCE(confirmed_at, $4)
		WHERE user_id = $1 AND id = $2 AND last_step < $3`, userID, id, step, ts(at))
	if err != nil {
		return false, mapErr("accept step", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetSecret replaces one authenticator's sealed secret.
func (s *Store) SetSecret(ctx context.Context, userID int64, id string, sealed []byte) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `UPDATE simpleuser_mfa_totp SET secret = $3 WHERE user_id = $1 AND id = $2`, userID, id, sealed)
	if err != nil {
		return mapErr("set secret", err)
	}
	if tag.RowsAffected() == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// RemoveAuthenticator deletes one authenticator.
func (s *Store) RemoveAuthenticator(ctx context.Context, userID int64, id string) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `DELETE FROM simpleuser_mfa_totp WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return mapErr("remove authenticator", err)
	}
	if tag.RowsAffected() == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// ReplaceRecoveryCodes locks the user's settings row (creating it), then
// deletes the old set and inserts the new one, in one transaction (the
// caller's, or its own): concurrent replacements of one user's codes take
// turns, so exactly one set survives.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error {
	return s.inTx(ctx, "replace recovery codes", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO simpleuser_mfa_settings AS s (user_id, updated_at) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET updated_at = s.updated_at`, userID, ts(at)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM simpleuser_mfa_recovery WHERE user_id = $1`, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO simpleuser_mfa_recovery (user_id, digest, created_at)
			SELECT $1, d, $3 FROM unnest($2::bytea[]) AS d`, userID, hashes, ts(at))
		return err
	})
}

// inTx runs fn in the transaction ctx carries, or in one of its own.
func (s *Store) inTx(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	_, bctx, cancel := s.q(ctx)
	defer cancel()
	if tx, ok := userpg.TxFrom(ctx); ok {
		return mapErr(op, fn(bctx, tx))
	}
	tx, err := s.pool.Begin(bctx)
	if err != nil {
		return mapErr(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(bctx)) }()
	if err := fn(bctx, tx); err != nil {
		return mapErr(op, err)
	}
	return mapErr(op, tx.Commit(bctx))
}

// UseRecoveryCode deletes the matching code: one DELETE, which two
// concurrent uses cannot both perform.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, candidates [][]byte) (bool, error) {
	if len(candidates) == 0 {
		return false, nil
	}
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	tag, err := q.Exec(ctx, `DELETE FROM simpleuser_mfa_recovery WHERE user_id = $1 AND digest = ANY($2::bytea[])`, userID, candidates)
	if err != nil {
		return false, mapErr("use recovery code", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RecoveryCodesLeft counts the user's codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM simpleuser_mfa_recovery WHERE user_id = $1`, userID).Scan(&n)
	return n, mapErr("count recovery codes", err)
}

// Settings reads the user's settings.
func (s *Store) Settings(ctx context.Context, userID int64) (mfa.Settings, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	st := mfa.Settings{UserID: userID}
	err := q.QueryRow(ctx, `SELECT enabled, email_factor, updated_at FROM simpleuser_mfa_settings WHERE user_id = $1`, userID).
		Scan(&st.Enabled, &st.EmailFactor, &st.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.Settings{UserID: userID}, nil
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	return st, mapErr("get settings", err)
}

// UpdateSettings upserts the patch in one statement.
func (s *Store) UpdateSettings(ctx context.Context, userID int64, p mfa.SettingsPatch, at time.Time) (mfa.Settings, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	st := mfa.Settings{UserID: userID}
	err := q.QueryRow(ctx, `INSERT INTO simpleuser_mfa_settings AS s (user_id, enabled, email_factor, updated_at)
		VALUES ($1, COALESCE($2, false), COALESCE($3, false), $4)
		ON CONFLICT (user_id) DO UPDATE SET
			enabled = COALESCE($2, s.enabled), email_factor = COALESCE($3, s.email_factor), updated_at = $4
		RETURNING enabled, email_factor, updated_at`, userID, p.Enabled, p.EmailFactor, ts(at)).
		Scan(&st.Enabled, &st.EmailFactor, &st.UpdatedAt)
	st.UpdatedAt = st.UpdatedAt.UTC()
	return st, mapErr("update settings", err)
}

// AddTrustedDevice inserts d.
func (s *Store) AddTrustedDevice(ctx context.Context, d *mfa.TrustedDevice) error {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	_, err := q.Exec(ctx, `INSERT INTO simpleuser_mfa_devices (user_id, id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		d.UserID, d.ID, d.Label, ts(d.CreatedAt), ts(d.ExpiresAt))
	return mapErr("add trusted device", err)
}

const deviceCols = `user_id, id, label, created_at, expires_at`

func scanDevice(r pgx.Row) (mfa.TrustedDevice, error) {
	var d mfa.TrustedDevice
	err := r.Scan(&d.UserID, &d.ID, &d.Label, &d.CreatedAt, &d.ExpiresAt)
	d.CreatedAt, d.ExpiresAt = d.CreatedAt.UTC(), d.ExpiresAt.UTC()
	return d, err
}

// TrustedDevice returns one unexpired device.
func (s *Store) TrustedDevice(ctx context.Context, userID int64, id string, now time.Time) (*mfa.TrustedDevice, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	d, err := scanDevice(q.QueryRow(ctx, `SELECT `+deviceCols+` FROM simpleuser_mfa_devices WHERE user_id = $1 AND id = $2 AND expires_at > $3`, userID, id, ts(now)))
	if err != nil {
		return nil, mapErr("get trusted device", err)
	}
	return &d, nil
}

// TrustedDevices lists the unexpired devices, oldest first, and deletes the
// user's expired ones in the same statement.
func (s *Store) TrustedDevices(ctx context.Context, userID int64, now time.Time) ([]mfa.TrustedDevice, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	rows, err := q.Query(ctx, `WITH gone AS (DELETE FROM simpleuser_mfa_devices WHERE user_id = $1 AND expires_at <= $2)
		SELECT `+deviceCols+` FROM simpleuser_mfa_devices WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`, userID, ts(now))
	if err != nil {
		return nil, mapErr("list trusted devices", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mfa.TrustedDevice, error) { return scanDevice(r) })
	if err != nil {
		return nil, mapErr("list trusted devices", err)
	}
	return out, nil
}

// RemoveTrustedDevices deletes devices of the user (all when ids is empty).
func (s *Store) RemoveTrustedDevices(ctx context.Context, userID int64, ids ...string) (int, error) {
	q, ctx, cancel := s.q(ctx)
	defer cancel()
	var tag pgconn.CommandTag
	var err error
	if len(ids) == 0 {
		tag, err = q.Exec(ctx, `DELETE FROM simpleuser_mfa_devices WHERE user_id = $1`, userID)
	} else {
		tag, err = q.Exec(ctx, `DELETE FROM simpleuser_mfa_devices WHERE user_id = $1 AND id = ANY($2)`, userID, ids)
	}
	if err != nil {
		return 0, mapErr("remove trusted devices", err)
	}
	return int(tag.RowsAffected()), nil
}
