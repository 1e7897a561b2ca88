package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/user"
)

// backendName names PostgreSQL in backend.Error.
const backendName = "postgres"

// Constraint names the error mapping recognises (see migrations/).
const (
	emailIndex    = "simpleuser_users_email_key"
	emailKeyCheck = "simpleuser_users_email_key_check" // raised by the guard trigger of migration 0004
	ssaidIndex    = "simpleuser_users_ssaid_anon_key"
	phoneIndex    = "simpleuser_users_phone_key"
	identityKey   = "simpleuser_identities_pkey"
	identityUser  = "simpleuser_identities_user_id_fkey"
	identityIndex = "simpleuser_identities_user_idx"
)

// mapErr turns a driver error of the operation op into what the Store
// promises: pgx.ErrNoRows → user.ErrNotFound; a unique violation of the email
// index → user.ErrEmailTaken, of the phone index → user.ErrPhoneTaken, of the anonymous ssaid index → user.ErrConflict,
// of the identity key → user.ErrIdentityTaken; a foreign-key violation of an
// identity's user → user.ErrNotFound; the email-key guard's check violation
// (an address written without its key) → user.ErrInvalidEmail;
// any sign that the server could not serve the request (connection, network,
// pool acquisition, timeout, shutdown) → *backend.Error for "postgres"; any
// other error is returned wrapped with op.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return user.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case emailIndex:
			return user.ErrEmailTaken
		case phoneIndex:
			return user.ErrPhoneTaken
		case ssaidIndex:
			return fmt.Errorf("%w: ssaid held by another anonymous user", user.ErrConflict)
		case identityKey:
			return user.ErrIdentityTaken
		}
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23503" && pgErr.ConstraintName == identityUser {
		return user.ErrNotFound
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23514" && pgErr.ConstraintName == emailKeyCheck {
		return user.ErrInvalidEmail
	}
	// A NUL or invalid UTF-8 in a text parameter (22021), a \u0000 in
	// jsonb (22P05): the input, not the server.
	if errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05") {
		return fmt.Errorf("%w: %s", user.ErrInvalidText, pgErr.Message)
	}
	if unavailable(err) {
		return backend.Unavailable(backendName, fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// Wrap classifies an error of the app's own pgx work, for code that runs
// outside the kit's transaction (a read in a MeFields or
// GetSessionUserData hook, say; inside WithTx the kit classifies fn's error
// itself). An error that says PostgreSQL could not serve the request — a
// connection refused, lost or timed out, a closed pool, the context's
// deadline, or a server refusal that is not about the request (SQLSTATE
// classes 08, 53, 58; 57P01-57P05 shutdown; 57014 statement_timeout; 55P03
// lock_timeout; 25006 read-only after failover) — is returned as a
// *backend.Error for "postgres", which the kit answers with 503
// BACKEND_UNAVAILABLE naming postgres (SPEC §7). Any other error (nil,
// pgx.ErrNoRows, a constraint violation, context.Canceled...) is returned
// unchanged. errors.Is and errors.As still reach the original error.
func Wrap(err error) error {
	if !unavailable(err) {
		return err
	}
	return backend.Unavailable(backendName, err)
}

// unavailable reports whether err means the server could not serve the
// request, as opposed to refusing it (a constraint, a syntax error...).
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up (e.g. the client went away); the server may be fine
	}
	return driverUnavailable(err) || lostConnection(err)
}

// driverUnavailable reports the signs of unavailability only PostgreSQL,
// pgconn or pgxpool give: a server error of an unavailable SQLSTATE, a
// failed connect, pgconn's own timeouts and "nothing was sent" errors, a
// closed connection or pool.
func driverUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr), // dial, TLS or start-up failed
		pgconn.SafeToRetry(err), // failed before anything was sent (e.g. conn lost)
		pgconn.Timeout(err),     // pgconn gave up waiting
		errors.Is(err, pgconn.ErrConnClosed):
		return true
	}
	// pgxpool reports a closed pool with a plain error.
	return strings.Contains(err.Error(), "closed pool")
}

// lostConnection reports network-level signs, which any network client may
// give: a net.Error (reset, refused, i/o timeout), an end of stream, a
// closed socket, a context deadline.
func lostConnection(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// unavailableState reports whether a SQLSTATE says the server is not
// serving: connection exceptions (class 08), insufficient resources (class
// 53: too many connections, out of memory or disk), operator intervention
// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
// 57014 canceled by statement_timeout), lock_timeout expiry (55P03), a
// read-only standby refusing a write after failover (25006) and system
// errors (class 58: I/O error...).
func unavailableState(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case "08", "53", "58":
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57P05", "57014", "55P03", "25006":
		return true
	}
	return false
}
