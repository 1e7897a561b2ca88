// Package postgres is the PostgreSQL passkey.Store, built on pgx/v5.
//
// Its tables, simpleuser_passkeys and simpleuser_passkey_handles, are made
// by the kit's migration 0008: run user/postgres.Migrate first. Both link to
// simpleuser_users with ON DELETE CASCADE, so deleting a user deletes their
// passkeys. A Store method called with a context that carries a
// transaction (user/postgres.Store.WithTx, or ContextWithTx) runs inside
// it, so passkey changes commit or roll back with the kit's own.
//
//	pool, _ := userpg.Open(ctx, os.Getenv("DATABASE_URL"))
//	_ = userpg.Migrate(ctx, pool)
//	passkeys := passkeypg.New(pool)
//
// Every failure that means the server could not serve the request is a
// *backend.Error naming "postgres" (answered 503).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/passkey"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// DefaultQueryTimeout is Store.QueryTimeout's default.
const DefaultQueryTimeout = userpg.DefaultQueryTimeout

// Store is the PostgreSQL passkey.Store. Create one with New; it is safe
// for concurrent use.
type Store struct {
	// QueryTimeout bounds each call when its context has no deadline (default
	// DefaultQueryTimeout, 5 s; negative: unbounded), as
	// user/postgres.Store.QueryTimeout does: a call keeps its context's
	// deadline but not its cancellation, so a client that disconnects never
	// cuts a statement in the middle.
	QueryTimeout time.Duration

	pool *pgxpool.Pool
}

var _ passkey.Store = (*Store)(nil)

// New returns a Store on pool. It does not touch the database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

type querier = userpg.Querier

// q returns what a statement of ctx runs on: its transaction or the pool.
func (s *Store) q(ctx context.Context) querier {
	if tx, ok := userpg.TxFrom(ctx); ok {
		return tx
	}
	return s.pool
}

// bound returns the context a call runs under (see QueryTimeout).
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return userpg.Bound(ctx, s.QueryTimeout)
}

const (
	handlesFKey  = "simpleuser_passkey_handles_user_id_fkey"
	passkeysFKey = "simpleuser_passkeys_user_id_fkey"
)

// mapErr turns a driver error of op into the Store's errors: no rows →
// passkey.ErrNotFound; a missing user (foreign key) → passkey.ErrNotFound;
// unavailability → *backend.Error; anything else wrapped with op.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return passkey.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" &&
		(pgErr.ConstraintName == handlesFKey || pgErr.ConstraintName == passkeysFKey) {
		return passkey.ErrNotFound
	}
	if w := userpg.Wrap(err); backend.Name(w) != "" {
		return backend.Unavailable("postgres", fmt.Errorf("passkey %s: %w", op, err))
	}
	return fmt.Errorf("passkey/postgres: %s: %w", op, err)
}

func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

const (
	sqlGetHandle    = `SELECT handle FROM simpleuser_passkey_handles WHERE user_id = $1`
	sqlInsertHandle = `INSERT INTO simpleuser_passkey_handles (user_id, handle, created_at)
		VALUES ($1, $2, now()) ON CONFLICT (user_id) DO NOTHING RETURNING handle`
	sqlUserByHandle = `SELECT user_id FROM simpleuser_passkey_handles WHERE handle = $1`

	// sqlAdd inserts only when $12 is the user's handle; ON CONFLICT keeps
	// a duplicate id from aborting the caller's transaction.
	sqlAdd = `INSERT INTO simpleuser_passkeys (credential_id, user_id, name, public_key, sign_count, aaguid,
			transports, backup_eligible, backup_state, user_verified, created_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
		FROM simpleuser_passkey_handles WHERE user_id = $2 AND handle = $12
		ON CONFLICT (credential_id) DO NOTHING RETURNING 1`
	sqlExists = `SELECT EXISTS (SELECT 1 FROM simpleuser_passkeys WHERE credential_id = $1)`

	credColumns = `p.credential_id, p.user_id, h.handle, p.name, p.public_key, p.sign_count, p.aaguid,
		p.transports, p.backup_eligible, p.backup_state, p.user_verified, p.created_at, p.last_used_at`
	sqlList = `SELECT ` + credColumns + ` FROM simpleuser_passkeys p
		JOIN simpleuser_passkey_handles h ON h.user_id = p.user_id
		WHERE p.user_id = $1 ORDER BY p.created_at, p.credential_id`
	sqlGet = `SELECT ` + credColumns + ` FROM simpleuser_passkeys p
		JOIN simpleuser_passkey_handles h ON h.user_id = p.user_id
		WHERE p.credential_id = $1`
	sqlRename = `UPDATE simpleuser_passkeys SET name = $3 WHERE user_id = $1 AND credential_id = $2`
	sqlRemove = `DELETE FROM simpleuser_passkeys WHERE user_id = $1 AND credential_id = $2`
	// sqlRecordUse is the counter check and the update in one statement
	// (WebAuthn L3 §6.1.1): the row lock it takes orders concurrent uses.
	sqlRecordUse = `UPDATE simpleuser_passkeys SET sign_count = $2, backup_state = $3, last_used_at = $4
		WHERE credential_id = $1 AND ($2 > sign_count OR ($2 = 0 AND sign_count = 0))`
)

// UserHandle returns the user's handle, inserting a fresh one on the first
// call (concurrent first calls agree: the loser of the insert reads the
// winner's). passkey.ErrNotFound when no such user exists.
func (s *Store) UserHandle(ctx context.Context, userID int64) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.q(ctx)
	for range 3 {
		var h []byte
		err := q.QueryRow(ctx, sqlGetHandle, userID).Scan(&h)
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, mapErr("user handle", err)
		}
		err = q.QueryRow(ctx, sqlInsertHandle, userID, passkey.NewUserHandle()).Scan(&h)
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, mapErr("user handle", err)
		}
		// A concurrent call inserted first: its row is committed now.
	}
	return nil, errors.New("passkey/postgres: user handle: concurrent inserts kept winning")
}

// UserByHandle returns the user id of handle, or passkey.ErrNotFound.
func (s *Store) UserByHandle(ctx context.Context, handle []byte) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var id int64
	if err := s.q(ctx).QueryRow(ctx, sqlUserByHandle, handle).Scan(&id); err != nil {
		return 0, mapErr("user by handle", err)
	}
	return id, nil
}

// Add inserts c; see passkey.Store.
func (s *Store) Add(ctx context.Context, c *passkey.Credential, at time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	at = dbTime(at)
	transports := c.Transports
	if transports == nil {
		transports = []string{}
	}
	var aaguid []byte
	if len(c.AAGUID) > 0 {
		aaguid = c.AAGUID
	}
	q := s.q(ctx)
	rows, err := q.Query(ctx, sqlAdd, c.ID, c.UserID, c.Name, c.PublicKey, int64(c.SignCount), aaguid,
		transports, c.BackupEligible, c.BackupState, c.UserVerified, at, c.UserHandle)
	if err != nil {
		return mapErr("add", err)
	}
	n, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return mapErr("add", err)
	}
	if len(n) == 0 {
		var exists bool
		if err := q.QueryRow(ctx, sqlExists, c.ID).Scan(&exists); err != nil {
			return mapErr("add", err)
		}
		if exists {
			return passkey.ErrExists
		}
		return passkey.ErrNotFound // not the user's handle, or no such user
	}
	c.CreatedAt, c.LastUsedAt = at, time.Time{}
	return nil
}

// scanCred reads one row of credColumns.
func scanCred(row pgx.CollectableRow) (passkey.Credential, error) {
	var (
		c        passkey.Credential
		count    int64
		lastUsed pgtype.Timestamptz
	)
	err := row.Scan(&c.ID, &c.UserID, &c.UserHandle, &c.Name, &c.PublicKey, &count, &c.AAGUID,
		&c.Transports, &c.BackupEligible, &c.BackupState, &c.UserVerified, &c.CreatedAt, &lastUsed)
	if err != nil {
		return c, err
	}
	c.SignCount = uint32(count) // the column's CHECK keeps it in range
	c.CreatedAt = c.CreatedAt.UTC()
	if lastUsed.Valid {
		c.LastUsedAt = lastUsed.Time.UTC()
	}
	if c.Transports == nil {
		c.Transports = []string{}
	}
	return c, nil
}

// List returns the user's credentials, oldest first.
func (s *Store) List(ctx context.Context, userID int64) ([]passkey.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.q(ctx).Query(ctx, sqlList, userID)
	if err != nil {
		return nil, mapErr("list", err)
	}
	out, err := pgx.CollectRows(rows, scanCred)
	if err != nil {
		return nil, mapErr("list", err)
	}
	if out == nil {
		out = []passkey.Credential{}
	}
	return out, nil
}

// Get returns the credential of that id, or passkey.ErrNotFound.
func (s *Store) Get(ctx context.Context, id []byte) (*passkey.Credential, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.q(ctx).Query(ctx, sqlGet, id)
	if err != nil {
		return nil, mapErr("get", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCred)
	if err != nil {
		return nil, mapErr("get", err)
	}
	return &c, nil
}

// Rename sets the name of the user's credential id.
func (s *Store) Rename(ctx context.Context, userID int64, id []byte, name string) error {
	return s.exec(ctx, "rename", sqlRename, userID, id, name)
}

// Remove deletes the user's credential id.
func (s *Store) Remove(ctx context.Context, userID int64, id []byte) error {
	return s.exec(ctx, "remove", sqlRemove, userID, id)
}

// exec runs a statement that must touch one row, else passkey.ErrNotFound.
func (s *Store) exec(ctx context.Context, op, sql string, args ...any) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.q(ctx).Exec(ctx, sql, args...)
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// RecordUse applies the counter rule and records the use in one statement;
// see passkey.Store.
func (s *Store) RecordUse(ctx context.Context, id []byte, u passkey.Use) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.q(ctx)
	tag, err := q.Exec(ctx, sqlRecordUse, id, int64(u.SignCount), u.BackupState, dbTime(u.At))
	if err != nil {
		return mapErr("record use", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := q.QueryRow(ctx, sqlExists, id).Scan(&exists); err != nil {
		return mapErr("record use", err)
	}
	if exists {
		return passkey.ErrCounter
	}
	return passkey.ErrNotFound
}
