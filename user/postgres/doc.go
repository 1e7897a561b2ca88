// Package postgres is the PostgreSQL user.Store, built on pgx/v5.
//
// Users live in the table simpleuser_users, created and upgraded by Migrate
// from the SQL files embedded in migrations/ and one Go migration (the
// email-key backfill). Migrate also runs an app's own migrations (Source)
// under the same lock. The schema, every index and the query it serves are
// described in docs/schema.md.
//
//	pool, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	defer pool.Close()
//	if err := postgres.Migrate(ctx, pool); err != nil { ... }
//	users := postgres.New(pool)
//
// Transactions: Store.WithTx begins a pgx.Tx and carries it in the context;
// every Store method called with that context runs in it, and so does the
// app's own SQL when it takes the transaction with TxFrom. An app table
// links to the kit's with auth_user_id bigint REFERENCES simpleuser_users(id)
// ON DELETE CASCADE, so its row is created in the same transaction as the
// user and removed with it.
//
// Errors: user.ErrNotFound, user.ErrEmailTaken and user.ErrConflict as the
// user.Store contract says; every failure that means the server could not
// serve the request (connection refused or lost, pool acquisition, timeouts,
// shutdown) is a *backend.Error naming "postgres", which the HTTP layer
// answers with 503.
package postgres
