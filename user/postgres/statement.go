package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Bound returns the context a store's statement runs under: ctx's values
// without its cancellation (a statement is never cut in the middle; see
// Store.QueryTimeout), limited by ctx's deadline when it has one, else by
// timeout (0: DefaultQueryTimeout; negative: no limit). The PostgreSQL
// stores of the other blocks (mfa, passkey, tenant, admin) use it so that
// every kit statement is bounded alike.
func Bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(detached, dl)
	}
	if timeout < 0 {
		return detached, func() {}
	}
	if timeout == 0 {
		timeout = DefaultQueryTimeout
	}
	return context.WithTimeout(detached, timeout)
}

// Statement returns what a store's statement of ctx runs on (the
// transaction ctx carries, TxFrom, else pool) and the context it runs
// under (Bound with timeout). Call the CancelFunc when the statement is
// done.
func Statement(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration) (Querier, context.Context, context.CancelFunc) {
	var q Querier = pool
	if tx, ok := TxFrom(ctx); ok {
		q = tx
	}
	c, cancel := Bound(ctx, timeout)
	return q, c, cancel
}
