package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/simpleuser/simpleuser/backend"
)

// querier is what the Store's statements run on: the pool outside a
// transaction, the transaction's pgx.Tx inside one.
// Querier is what a statement runs on: a pgx.Tx or a *pgxpool.Pool.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type querier = Querier

// txKey is the context key of the transaction WithTx carries.
type txKey struct{}

// TxFrom returns the transaction ctx carries, if any: the one begun by the
// outermost Store.WithTx (or attached with ContextWithTx). An app runs its
// own statements through it so they commit or roll back together with the
// kit's, e.g. in the hook that creates the app's row for a new user:
//
//	h.AfterCreate = func(ctx context.Context, u *user.User, _ hooks.Payload) error {
//		tx, ok := postgres.TxFrom(ctx)
//		if !ok {
//			return errors.New("app: AfterCreate outside a transaction")
//		}
//		_, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id) VALUES ($1)`, u.ID)
//		return err
//	}
//
// The transaction belongs to the WithTx call that began it: do not commit or
// roll it back, and do not use it from several goroutines at once (a pgx.Tx
// is one connection). A failed statement aborts the whole transaction
// (PostgreSQL refuses every later statement), so return its error rather
// than carrying on.
func TxFrom(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(pgx.Tx)
	return tx, ok && tx != nil
}

// ContextWithTx returns a copy of ctx carrying tx, a transaction the caller
// began and will commit or roll back itself. Store methods called with that
// ctx run inside tx, and Store.WithTx joins it instead of beginning its own.
// Use it when the app's code owns the transaction and calls the kit within it.
func ContextWithTx(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// q returns what a statement of ctx runs on: its transaction or the pool.
func (s *Store) q(ctx context.Context) querier {
	if tx, ok := TxFrom(ctx); ok {
		return tx
	}
	return s.pool
}

// rollbackTimeout bounds a rollback, which runs even when ctx is done.
const rollbackTimeout = 5 * time.Second

// WithTx runs fn in a transaction carried by the ctx passed to fn; every
// Store method, and the app's statements run through TxFrom, called with that
// ctx run inside it. It commits when fn returns nil and rolls back when fn
// returns an error or panics (the panic continues after the rollback).
//
// fn's error is returned as is, except that one saying PostgreSQL could not
// serve becomes a *backend.Error for "postgres" (answered 503
// BACKEND_UNAVAILABLE, SPEC §7), so an app hook's own failed statement counts
// like the kit's: a server error of an unavailable SQLSTATE (lock_timeout
// 55P03, statement_timeout 57014, shutdown...; see Wrap), a pgconn timeout or
// connect failure, and any error at all once the transaction's connection
// is lost (not context.Canceled: the client left). errors.Is and errors.As
// still reach fn's error, and the kit's answer for an error the app typed
// (a hooks.Reject, say) is unchanged.
//
// When ctx already carries a transaction (a WithTx further out, or
// ContextWithTx), fn joins it: no savepoint is made, and fn's error is
// returned to the outer fn, which should return it so that everything rolls
// back. Only the outermost call commits.
//
// A Create or Update refused by a unique index (user.ErrEmailTaken, or
// user.ErrConflict for an anonymous ssaid) runs under a savepoint and leaves
// the transaction usable, so fn may handle that error and carry on. Any other
// failed statement aborts the transaction: return its error.
//
// Any transaction carried by ctx is joined, whichever Store or pool began
// it, so use one pool per database.
func (s *Store) WithTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if tx, ok := TxFrom(ctx); ok {
		return txErr(tx, fn(ctx))
	}
	bctx, cancel := s.bound(ctx)
	tx, err := s.pool.Begin(bctx)
	cancel()
	if err != nil {
		return mapErr("begin", err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		// fn failed or panicked: roll back even if ctx is done by now.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		_ = tx.Rollback(rctx) // on failure pgx closes the connection, which rolls back too
		cancel()
	}()
	if err := fn(ContextWithTx(ctx, tx)); err != nil {
		return txErr(tx, err)
	}
	done = true
	cctx, cancel := s.bound(ctx)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		return mapErr("commit", err)
	}
	return nil
}

// txErr is fn's error as WithTx returns it on tx (see WithTx). Network-level
// errors count only when tx's connection is gone: with the connection still
// up they may come from anything else fn called (an HTTP API, say), and are
// the app's to classify.
func txErr(tx pgx.Tx, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if driverUnavailable(err) {
		return backend.Unavailable(backendName, err)
	}
	if c := tx.Conn(); c != nil && c.IsClosed() {
		return backend.Unavailable(backendName, err)
	}
	return err
}
