package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/user"
)

// Store is the PostgreSQL user.Store, keeping users in the table
// simpleuser_users (create it with Migrate). Create one with New; it is safe
// for concurrent use.
type Store struct {
	// Now is the clock Create and Update use for created_at and updated_at
	// (default time.Now). Every other time is taken as passed by the caller.
	Now func() time.Time
	// QueryTimeout bounds each call when its context has no deadline of its
	// own (default 5 s; negative: unbounded). A query on a connection whose
	// server went silent would otherwise wait forever: statement_timeout is
	// enforced by the server, which never got the query, and pgx has no read
	// timeout. A timeout surfaces as a *backend.Error ("postgres").
	//
	// A call ignores its context's cancellation (but keeps its deadline, or
	// QueryTimeout): a client that disconnects does not cut a statement in
	// the middle. pgx answers a cut statement by closing the connection,
	// which over TLS can take 15 s during which the server keeps the
	// session, its transaction and its row locks; finishing the statement
	// takes milliseconds. Statements an app runs itself through TxFrom use
	// the context it passes them.
	QueryTimeout time.Duration

	pool *pgxpool.Pool
}

// DefaultQueryTimeout is Store.QueryTimeout's default.
const DefaultQueryTimeout = 5 * time.Second

// bound returns the context a call runs under: ctx's values without its
// cancellation, limited by ctx's deadline if it has one, else by
// QueryTimeout (see there).
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return Bound(ctx, s.QueryTimeout)
}

var _ user.Store = (*Store)(nil)

// New returns a Store on pool. It does not touch the database: run Migrate
// once at start-up first.
func New(pool *pgxpool.Pool) *Store {
	return &Store{Now: time.Now, pool: pool}
}

// now returns the Store's clock reading as it will be stored: UTC, to the
// microsecond (PostgreSQL's precision).
func (s *Store) now() time.Time {
	if s.Now != nil {
		return dbTime(s.Now())
	}
	return dbTime(time.Now())
}

// Get returns the user with the id, or user.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*user.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getOne(ctx, "get user", sqlGet, id)
}

// GetByEmail returns the user whose address has email's user.EmailKey (the
// column email_key), or user.ErrNotFound, also when email has no key.
func (s *Store) GetByEmail(ctx context.Context, email string) (*user.User, error) {
	key := user.EmailKey(email)
	if key == "" {
		return nil, user.ErrNotFound
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getOne(ctx, "get user by email", sqlGetByEmail, key)
}

// GetByPhone returns the user whose phone column is phone (E.164), or
// user.ErrNotFound, also for "".
func (s *Store) GetByPhone(ctx context.Context, phone string) (*user.User, error) {
	if phone == "" {
		return nil, user.ErrNotFound
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.getOne(ctx, "get user by phone", sqlGetByPhone, phone)
}

// GetAnonymous returns the anonymous user (no email) of ssaid, or
// user.ErrNotFound.
func (s *Store) GetAnonymous(ctx context.Context, ssaid string) (*user.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if ssaid == "" {
		return nil, user.ErrNotFound
	}
	return s.getOne(ctx, "get anonymous user", sqlGetAnonymous, ssaid)
}

// GetOrCreateAnonymous returns the anonymous user of ssaid, creating it
// (CreatedAt = UpdatedAt = now, Version 1) when there is none. The common
// case, a known ssaid, is one plain SELECT; a miss runs one INSERT ... ON
// CONFLICT statement (see sqlGetOrCreateAnonymous), so any number of
// concurrent calls for one ssaid, on any number of instances, yield one
// user. (The data-modifying statement alone would answer both cases, but
// PostgreSQL serves the plain SELECT with about a third less work, and
// every anonymous request asks.)
func (s *Store) GetOrCreateAnonymous(ctx context.Context, ssaid string, now time.Time) (*user.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if ssaid == "" {
		return nil, errors.New("user/postgres: empty ssaid")
	}
	u, err := s.getOne(ctx, "get anonymous user", sqlGetAnonymous, ssaid)
	if !errors.Is(err, user.ErrNotFound) {
		return u, err
	}
	if now.IsZero() {
		now = s.now()
	}
	return s.getOne(ctx, "get or create anonymous user", sqlGetOrCreateAnonymous, ssaid, dbTime(now))
}

func (s *Store) getOne(ctx context.Context, op, sql string, args ...any) (*user.User, error) {
	rows, err := s.q(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return nil, mapErr(op, err)
	}
	return u, nil
}

// Create inserts u and sets its ID, CreatedAt, UpdatedAt (from Now) and
// Version (1). u.Email is stored trimmed (and so written back) with its
// user.EmailKey, and u's other times are stored in UTC to the microsecond.
// user.ErrEmailTaken when another user holds the key; user.ErrInvalidEmail
// when the address has none; user.ErrConflict when u is anonymous and
// ssaid already has an anonymous user.
func (s *Store) Create(ctx context.Context, u *user.User) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u.Email = user.NormalizeEmail(u.Email)
	key := user.EmailKey(u.Email)
	if u.Email != "" && key == "" {
		return user.ErrInvalidEmail
	}
	if u.Phone != "" && !user.ValidE164(u.Phone) {
		return user.ErrInvalidPhone
	}
	if !storable(u) {
		return user.ErrInvalidText
	}
	now := s.now()
	var id int64
	err := s.guarded(ctx, func(q querier) error {
		return q.QueryRow(ctx, sqlCreate,
			nullString(u.Email), nullString(u.SSAID), nullString(u.PasswordHash), u.Disabled, metadata(u.Metadata),
			nullString(u.RegisterIP), nullTime(u.RegisterTime), nullString(u.LoginIP), nullTime(u.LoginTime),
			nullString(u.LastActiveIP), nullTime(u.LastActiveTime), nullTime(u.UnregisterTime), now,
			metadata(u.Settings), nullString(key),
			nullString(u.Phone), nullTime(u.EmailVerifiedAt), nullTime(u.PhoneVerifiedAt),
			u.MustChangePassword, u.Suspended, nullString(u.StatusReason),
		).Scan(&id)
	})
	if err != nil {
		return mapErr("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt, u.Version = id, now, now, 1
	return nil
}

// Update writes every mutable field of u when u.Version is the stored
// version, then sets u.Version to the bumped version and u.UpdatedAt from
// Now. CreatedAt is kept as stored. u.Email is stored trimmed, with its
// user.EmailKey when it changed. Errors: user.ErrNotFound, user.ErrConflict
// (stale version, or an anonymous ssaid already taken), user.ErrEmailTaken,
// user.ErrInvalidEmail (changed to an address without a key).
func (s *Store) Update(ctx context.Context, u *user.User) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u.Email = user.NormalizeEmail(u.Email)
	if u.Phone != "" && !user.ValidE164(u.Phone) {
		return user.ErrInvalidPhone
	}
	if !storable(u) {
		return user.ErrInvalidText
	}
	var version int64
	var updated time.Time
	err := s.guarded(ctx, func(q querier) error {
		return q.QueryRow(ctx, sqlUpdate, u.ID, u.Version, s.now(),
			nullString(u.Email), nullString(u.SSAID), nullString(u.PasswordHash), u.Disabled, metadata(u.Metadata),
			nullString(u.RegisterIP), nullTime(u.RegisterTime), nullString(u.LoginIP), nullTime(u.LoginTime),
			nullTime(u.UnregisterTime), metadata(u.Settings), nullString(user.EmailKey(u.Email)),
			nullString(u.Phone), nullTime(u.EmailVerifiedAt), nullTime(u.PhoneVerifiedAt),
			u.MustChangePassword, u.Suspended, nullString(u.StatusReason),
		).Scan(&version, &updated)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := s.q(ctx).QueryRow(ctx, sqlExists, u.ID).Scan(&exists); err != nil {
			return mapErr("update user", err)
		}
		if exists {
			return user.ErrConflict
		}
		return user.ErrNotFound
	}
	if err != nil {
		return mapErr("update user", err)
	}
	u.Version, u.UpdatedAt = version, updated.UTC()
	return nil
}

// storable reports whether u's text columns (but the email, which has its
// key check), metadata and settings are text PostgreSQL stores as given:
// valid UTF-8 without NUL. Checked in Go, before the statement, so that a
// refusal (user.ErrInvalidText) leaves a transaction usable and matches the
// memory store's, where encoding/json would otherwise turn invalid UTF-8
// into U+FFFD.
func storable(u *user.User) bool {
	for _, f := range []string{u.Phone, u.SSAID, u.PasswordHash, u.RegisterIP, u.LoginIP, u.LastActiveIP} {
		if !textcheck.String(f) {
			return false
		}
	}
	return textcheck.Value(u.Metadata) && textcheck.Value(u.Settings)
}

// guarded runs fn, a write that a unique index may refuse. Inside a
// transaction it runs under a savepoint, so that the refusal
// (user.ErrEmailTaken, or user.ErrConflict for an anonymous ssaid) leaves the
// transaction usable, as the memory store does, instead of aborting it: the
// caller may handle the error and carry on. Outside one it runs on the pool.
func (s *Store) guarded(ctx context.Context, fn func(q querier) error) error {
	tx, ok := TxFrom(ctx)
	if !ok {
		return fn(s.pool)
	}
	sp, err := tx.Begin(ctx) // SAVEPOINT
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		_ = sp.Rollback(ctx) // ROLLBACK TO SAVEPOINT; if the connection is gone, so is the transaction
		return err
	}
	return sp.Commit(ctx) // RELEASE SAVEPOINT
}

// Delete removes the user, or returns user.ErrNotFound. Its identities,
// and rows of the app's tables that reference it with ON DELETE CASCADE, go
// with it.
func (s *Store) Delete(ctx context.Context, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.q(ctx).Exec(ctx, sqlDelete, id)
	if err != nil {
		return mapErr("delete user", err)
	}
	if tag.RowsAffected() == 0 {
		return user.ErrNotFound
	}
	return nil
}

// TouchActive sets LastActiveIP and LastActiveTime without changing the
// version or UpdatedAt. user.ErrNotFound when the user is absent.
//
// Outside a transaction of the caller's, the write is committed
// asynchronously (synchronous_commit off for it alone): a database crash
// may lose the newest fraction of a second of last-active times, and the
// request does not wait for a disk flush. Inside one, it is an ordinary
// statement of that transaction.
func (s *Store) TouchActive(ctx context.Context, id int64, ip string, at time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sql := sqlTouchActiveAsync
	if _, inTx := TxFrom(ctx); inTx {
		sql = sqlTouchActive
	}
	tag, err := s.q(ctx).Exec(ctx, sql, id, nullString(ip), nullTime(at))
	if err != nil {
		return mapErr("touch user", err)
	}
	if tag.RowsAffected() == 0 {
		return user.ErrNotFound
	}
	return nil
}

// ListUnregistered returns at most limit users unregistered at or before
// cutoff, oldest first, leaving disabled users out.
func (s *Store) ListUnregistered(ctx context.Context, cutoff time.Time, limit int) ([]*user.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, sqlListUnregistered, cutoff, limit)
	if err != nil {
		return nil, mapErr("list unregistered users", err)
	}
	us, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, mapErr("list unregistered users", err)
	}
	return us, nil
}

// PurgeAnonymous deletes at most limit anonymous users last active (or
// created, when never active) before cutoff, least recently active first,
// in one bounded statement; it returns how many. Call it repeatedly to purge
// a large backlog in batches. Users locked by a running transaction are
// skipped, so it never waits for a request.
func (s *Store) PurgeAnonymous(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.q(ctx).Exec(ctx, sqlPurgeAnonymous, cutoff, limit)
	if err != nil {
		return 0, mapErr("purge anonymous users", err)
	}
	return int(tag.RowsAffected()), nil
}

// Pool returns the pool the store runs on, for the app's own statements
// outside the kit's transactions.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
