package postgres

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/simpleuser/simpleuser/user"
)

// keyBatch is how many users the email-key backfill reads, keys and writes
// at a time: memory stays bounded whatever the table's size.
const keyBatch = 1000

// backfillEmailKeys is migration 0005: it gives every stored address its
// key (email_key, added by 0004). user.EmailKey needs Unicode NFC and UTS
// #46, which SQL lacks, so it runs in Go, in the Migrate transaction.
func backfillEmailKeys(ctx context.Context, tx pgx.Tx) error {
	_, err := keyEmails(ctx, tx)
	return err
}

// keyEmails gives their key to the users whose address lacks one, oldest
// (lowest id) first, keyBatch at a time, and keeps simpleuser_email_conflicts
// up to date: a user whose key another user holds ('duplicate': the older
// account keeps it) or whose address has no key ('invalid') is recorded
// there, and a user that has its key is removed from it. It returns how
// many users the table holds afterwards.
//
// Requests may run meanwhile (outside the backfill, whose table lock keeps
// them out): a row is only written when its address is still the one read
// and still has no key, and a key taken meanwhile by a registration makes
// that row a duplicate rather than failing the run.
func keyEmails(ctx context.Context, tx pgx.Tx) (int, error) {
	var last int64
	for {
		rows, err := tx.Query(ctx, sqlUnkeyed, last, keyBatch)
		if err != nil {
			return 0, mapErr("email keys: read users", err)
		}
		type unkeyed struct {
			id    int64
			email string
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (unkeyed, error) {
			var u unkeyed
			err := r.Scan(&u.id, &u.email)
			return u, err
		})
		if err != nil {
			return 0, mapErr("email keys: read users", err)
		}
		if len(batch) == 0 {
			break
		}
		last = batch[len(batch)-1].id

		// Keys, each offered to the first (oldest) user of the batch that
		// has it; the rest of the batch is reported.
		var ids, emails, keys []any
		var allIDs []int64
		var allKeys []*string
		seen := map[string]bool{}
		for _, u := range batch {
			k := user.EmailKey(u.email)
			allIDs = append(allIDs, u.id)
			if k == "" {
				allKeys = append(allKeys, nil)
				continue
			}
			allKeys = append(allKeys, &k)
			if !seen[k] {
				seen[k] = true
				ids, emails, keys = append(ids, u.id), append(emails, u.email), append(keys, k)
			}
		}
		if err := setKeys(ctx, tx, ids, emails, keys); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO simpleuser_email_conflicts (user_id, email, email_key, holder_id, reason)
			SELECT u.id, u.email, v.key, h.id, CASE WHEN v.key IS NULL THEN 'invalid' ELSE 'duplicate' END
			FROM unnest($1::bigint[], $2::text[]) AS v(id, key)
			JOIN simpleuser_users u ON u.id = v.id AND u.email IS NOT NULL AND u.email_key IS NULL
			LEFT JOIN simpleuser_users h ON h.email_key = v.key
			ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, email_key = EXCLUDED.email_key,
				holder_id = EXCLUDED.holder_id, reason = EXCLUDED.reason`, allIDs, allKeys); err != nil {
			return 0, mapErr("email keys: record conflicts", err)
		}
		if len(batch) < keyBatch {
			break
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM simpleuser_email_conflicts c USING simpleuser_users u
		WHERE u.id = c.user_id AND (u.email_key IS NOT NULL OR u.email IS NULL)`); err != nil {
		return 0, mapErr("email keys: clear resolved conflicts", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM simpleuser_email_conflicts`).Scan(&n); err != nil {
		return 0, mapErr("email keys: count conflicts", err)
	}
	return n, nil
}

// sqlUnkeyed reads the next batch of users without a key: $1 the last id
// of the previous batch, $2 the batch size. simpleuser_users_email_unkeyed_idx
// (migration 0006) once it exists; before, during the backfill, the
// primary key.
const sqlUnkeyed = `SELECT id, email FROM simpleuser_users
	WHERE email IS NOT NULL AND email_key IS NULL AND id > $1
	ORDER BY id LIMIT $2`

// sqlSetKeys writes keys to the users that still hold the address read and
// no key, when no user holds the key yet (simpleuser_users_email_key).
const sqlSetKeys = `UPDATE simpleuser_users u SET email_key = v.key
	FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, email, key)
	WHERE u.id = v.id AND u.email = v.email AND u.email_key IS NULL
		AND NOT EXISTS (SELECT 1 FROM simpleuser_users x WHERE x.email_key = v.key)`

// setKeys runs sqlSetKeys for the batch under a savepoint. If a
// registration took one of the keys between the check and the write (a
// unique violation), it retries one user at a time, each under its own
// savepoint, and the user whose key was taken stays unkeyed (a duplicate).
func setKeys(ctx context.Context, tx pgx.Tx, ids, emails, keys []any) error {
	if len(ids) == 0 {
		return nil
	}
	err := savepoint(ctx, tx, sqlSetKeys, ids, emails, keys)
	if !isEmailTaken(err) {
		return mapErr("email keys: write", err)
	}
	for i := range ids {
		err := savepoint(ctx, tx, sqlSetKeys, ids[i:i+1], emails[i:i+1], keys[i:i+1])
		if err != nil && !isEmailTaken(err) {
			return mapErr("email keys: write", err)
		}
	}
	return nil
}

// savepoint runs one statement under a savepoint, rolled back if it fails.
func savepoint(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := sp.Exec(ctx, sql, args...); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

func isEmailTaken(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == emailIndex
}

// logConflicts warns, through slog.Default (Migrate has no logger of its
// own), that n users wait for an operator in simpleuser_email_conflicts.
// Addresses are not logged.
func logConflicts(ctx context.Context, n int) {
	if n == 0 {
		return
	}
	slog.Default().WarnContext(ctx, "simpleuser: users whose address has no key of its own: they cannot sign in by email until resolved; see simpleuser_email_conflicts and docs/schema.md",
		slog.Int("users", n))
}
