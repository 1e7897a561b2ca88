package postgres

// The SQL the Store runs, one variable per statement so the EXPLAIN test
// (explain_test.go) plans exactly these strings. Each names the index it
// relies on; see migrations/ and docs/schema.md.

// userColumns is the column list every read returns, in scanUser's order.
const userColumns = `id, email, ssaid, password_hash, disabled, metadata,
	register_ip, register_time, login_ip, login_time, last_active_ip, last_active_time,
	unregister_time, created_at, updated_at, version, settings,
	phone, email_verified_at, phone_verified_at, must_change_password, suspended, status_reason`

var (
	// Get. Primary key.
	sqlGet = `SELECT ` + userColumns + ` FROM simpleuser_users WHERE id = $1`

	// GetByEmail: $1 is the address's key (user.EmailKey).
	// simpleuser_users_email_key.
	sqlGetByEmail = `SELECT ` + userColumns + ` FROM simpleuser_users
	WHERE email_key = $1`

	// GetByPhone: $1 is the E.164 number. simpleuser_users_phone_key.
	sqlGetByPhone = `SELECT ` + userColumns + ` FROM simpleuser_users
	WHERE phone = $1`

	// GetAnonymous. simpleuser_users_ssaid_anon_key.
	sqlGetAnonymous = `SELECT ` + userColumns + ` FROM simpleuser_users
	WHERE ssaid = $1 AND email IS NULL`

	// GetOrCreateAnonymous: $1 ssaid, $2 creation time. One statement: the
	// CTE "found" reads the anonymous user; only when there is none does
	// "created" insert one. The insert's ON CONFLICT arbiter is
	// simpleuser_users_ssaid_anon_key, so when concurrent statements of one
	// ssaid all miss in "found", one inserts and the others wait for it and
	// then take the DO UPDATE branch, which returns the winner's row. The
	// no-op DO UPDATE (rather than DO NOTHING) is what makes RETURNING yield
	// the existing row; the read-first CTE keeps the common case (the user
	// exists) from writing a new row version on every request.
	sqlGetOrCreateAnonymous = `WITH found AS (
		SELECT ` + userColumns + ` FROM simpleuser_users WHERE ssaid = $1 AND email IS NULL
	), created AS (
		INSERT INTO simpleuser_users (ssaid, metadata, created_at, updated_at, version)
		SELECT $1::text, '{}', $2::timestamptz, $2::timestamptz, 1
		WHERE NOT EXISTS (SELECT 1 FROM found)
		ON CONFLICT (ssaid) WHERE email IS NULL DO UPDATE SET ssaid = EXCLUDED.ssaid
		RETURNING ` + userColumns + `
	)
	SELECT * FROM found UNION ALL SELECT * FROM created`

	// Create: $1.. see Store.Create; $15 is the address's key, $16..$18
	// the phone and the two verification times, $19..$21 the operational
	// flags (must change password, suspended, status reason).
	sqlCreate = `INSERT INTO simpleuser_users (email, ssaid, password_hash, disabled, metadata,
		register_ip, register_time, login_ip, login_time, last_active_ip, last_active_time,
		unregister_time, created_at, updated_at, version, settings, email_key,
		phone, email_verified_at, phone_verified_at, must_change_password, suspended, status_reason)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, 1, $14, $15, $16, $17, $18, $19, $20, $21)
	RETURNING id`

	// Update: optimistic version check on the primary key. $1 id, $2 the
	// version read, $3 the new updated_at, then the mutable columns; $15 is
	// the key of $4. An unchanged address keeps its stored key, so a user
	// stored without one (simpleuser_email_conflicts) stays writable; a
	// changed address takes $15, and the guard trigger of migration 0004
	// refuses a NULL one (user.ErrInvalidEmail).
	sqlUpdate = `UPDATE simpleuser_users SET
		email = $4, ssaid = $5, password_hash = $6, disabled = $7, metadata = $8,
		register_ip = $9, register_time = $10, login_ip = $11, login_time = $12,
		unregister_time = $13, settings = $14,
		email_key = CASE WHEN email IS NOT DISTINCT FROM $4 THEN email_key ELSE $15 END,
		phone = $16, email_verified_at = $17, phone_verified_at = $18,
		must_change_password = $19, suspended = $20, status_reason = $21,
		version = version + 1, updated_at = $3
	WHERE id = $1 AND version = $2
	RETURNING version, updated_at`

	// After an Update matched no row: does the user exist (stale version)
	// or not? Primary key.
	sqlExists = `SELECT EXISTS (SELECT 1 FROM simpleuser_users WHERE id = $1)`

	// Delete. Primary key.
	sqlDelete = `DELETE FROM simpleuser_users WHERE id = $1`

	// TouchActive: bookkeeping, so neither version nor updated_at changes.
	// Primary key. A HOT update unless the UTC hour of last activity
	// changes (migration 0003): no index entry is written.
	sqlTouchActive = `UPDATE simpleuser_users SET last_active_ip = $2, last_active_time = $3 WHERE id = $1`

	// TouchActive outside a caller's transaction: the same update, committed
	// asynchronously. The statement is its own transaction, and the CTE
	// turns synchronous_commit off for that transaction only (set_config's
	// is_local), so the commit does not wait for the WAL to reach the
	// disk, and the request does not hold a pool connection meanwhile. A
	// crash may lose the last fraction of a second of last-active times,
	// which is bookkeeping; nothing else is at risk (asynchronous commit
	// never corrupts, it only forgets the newest commits). The CTE is
	// volatile, so it runs exactly once.
	sqlTouchActiveAsync = `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
	UPDATE simpleuser_users SET last_active_ip = $2, last_active_time = $3
	FROM async WHERE id = $1`

	// ListUnregistered: $1 cutoff, $2 limit. simpleuser_users_unregister_time_idx,
	// in order; disabled users (rare among the unregistered) are filtered
	// out on the way.
	sqlListUnregistered = `SELECT ` + userColumns + ` FROM simpleuser_users
	WHERE unregister_time IS NOT NULL AND unregister_time <= $1 AND NOT disabled
	ORDER BY unregister_time LIMIT $2`

	// PurgeAnonymous: $1 cutoff, $2 batch size. The inner query walks
	// simpleuser_users_anon_idle_idx oldest first (by the hour of last
	// activity, which lets touches be HOT updates: see migration 0003),
	// keeps the rows whose exact last activity is before the cutoff and
	// stops after $2 of them; the outer delete finds them by primary key.
	// The ids go through an array (= ANY (ARRAY(...)) rather than IN
	// (...)) so the planner cannot turn the delete into a hash join over a
	// sequential scan of the whole table, which it prefers for IN once the
	// batch is a few hundred rows. SKIP LOCKED leaves alone a user that a
	// concurrent transaction holds (e.g. one being upgraded by a login) and
	// lets two purgers run at once without waiting for each other; the row
	// lock also re-checks the conditions against the latest row version, so
	// a user registered meanwhile is not deleted.
	sqlPurgeAnonymous = `DELETE FROM simpleuser_users WHERE id = ANY (ARRAY(
		SELECT id FROM simpleuser_users
		WHERE email IS NULL AND ssaid IS NOT NULL
			AND coalesce(last_active_hour, created_at) < $1
			AND coalesce(last_active_time, created_at) < $1
		ORDER BY coalesce(last_active_hour, created_at)
		LIMIT $2
		FOR UPDATE SKIP LOCKED
	))`
)

// identityColumns is the column list every identity read returns, in
// scanIdentity's order.
const identityColumns = `user_id, provider, subject, email, email_verified, created_at, last_used_at`

var (
	// LinkIdentity: $1 user id, $2 provider, $3 subject, $4 email, $5
	// email_verified, $6 now. simpleuser_identities_pkey is the arbiter: a
	// row already there (this user's or another's) makes it insert nothing,
	// and the Store then reads that row with sqlGetIdentity to tell "already
	// linked" from "taken". A missing user fails the foreign key.
	sqlLinkIdentity = `INSERT INTO simpleuser_identities (user_id, provider, subject, email, email_verified, created_at, last_used_at)
	VALUES ($1, $2, $3, $4, $5, $6, $6)
	ON CONFLICT (provider, subject) DO NOTHING
	RETURNING ` + identityColumns

	// GetIdentity: $1 provider, $2 subject. simpleuser_identities_pkey.
	sqlGetIdentity = `SELECT ` + identityColumns + ` FROM simpleuser_identities
	WHERE provider = $1 AND subject = $2`

	// ListIdentities: $1 user id. simpleuser_identities_user_idx; a user has
	// a handful of rows, sorted after the index scan.
	sqlListIdentities = `SELECT ` + identityColumns + ` FROM simpleuser_identities
	WHERE user_id = $1
	ORDER BY created_at, provider, subject`

	// UnlinkIdentity: $1 user id, $2 provider, $3 subject.
	// simpleuser_identities_pkey; the user id makes it delete only the
	// user's own identity.
	sqlUnlinkIdentity = `DELETE FROM simpleuser_identities
	WHERE provider = $2 AND subject = $3 AND user_id = $1`

	// TouchIdentity: $1 provider, $2 subject, $3 email, $4 email_verified,
	// $5 time. simpleuser_identities_pkey.
	sqlTouchIdentity = `UPDATE simpleuser_identities SET email = $3, email_verified = $4, last_used_at = $5
	WHERE provider = $1 AND subject = $2`
)
