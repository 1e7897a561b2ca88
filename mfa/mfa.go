// Package mfa keeps second factors: TOTP authenticators (RFC 6238),
// recovery codes, the per-user MFA settings and trusted devices.
//
// A Store holds the records; this package makes and checks them. TOTP
// secrets are sealed with AES-256-GCM under a Keyring derived from the
// app's secret (HKDF-SHA-256, RFC 5869), each ciphertext naming its key so
// keys rotate; recovery codes are kept as HMAC-SHA-256 digests under a key
// from the same keyring. Every check-and-act is one atomic store step: a
// TOTP code is accepted only for a time step later than the last one the
// authenticator accepted (compare-and-set), so a code cannot be replayed
// within its window (RFC 6238 §5.2); a recovery code is deleted by the
// statement that checks it, so of two concurrent uses one wins.
//
// Implementations: mfa/memory (default) and mfa/postgres (tables of the
// kit's migration 0007); conformance suite: mfa/mfatest.
package mfa

import (
	"context"
	"errors"
	"time"
)

// Factor kinds, as listed in a session (session.Data.Factors), in the login
// answer and in /me.
const (
	FactorTOTP     = "totp"     // an authenticator app (RFC 6238)
	FactorRecovery = "recovery" // a single-use recovery code
	FactorEmail    = "email"    // a one-time code sent by email (purpose SecondFactor)
	FactorPasskey  = "passkey"  // a WebAuthn credential (package passkey)
	FactorPassword = "password" // the account's password (re-authentication only)
)

// Authentication method references (RFC 8176 §2), as recorded in a
// session's AMR.
const (
	AMRPassword = "pwd"   // a password
	AMROTP      = "otp"   // a one-time password (TOTP, recovery code)
	AMREmail    = "email" // RFC 8176 has no value for an emailed code; "email" is the kit's
	AMRMFA      = "mfa"   // more than one factor was used
	AMRHardware = "hwk"   // proof of possession of a hardware key
	AMRSoftware = "swk"   // proof of possession of a software key
	AMRFederate = "fed"   // a federated (provider) sign-in (OpenID Connect's non-RFC value "fed")
	AMRSMS      = "sms"   // a code sent by SMS (RFC 8176 §2)
)

// Errors of the stores and the checks.
var (
	// ErrNotFound: no such authenticator or trusted device of that user.
	ErrNotFound = errors.New("mfa: not found")
	// ErrNameTaken: the user already has an authenticator of that name.
	ErrNameTaken = errors.New("mfa: authenticator name taken")
	// ErrBadCiphertext: a sealed secret is malformed, was altered, or is
	// bound to another record.
	ErrBadCiphertext = errors.New("mfa: sealed secret altered or malformed")
	// ErrUnknownKey: a sealed secret names a key the keyring does not hold
	// (it was sealed under a secret since dropped from Config).
	ErrUnknownKey = errors.New("mfa: sealed under an unknown key")
)

// Authenticator is one TOTP authenticator of a user.
type Authenticator struct {
	UserID int64
	// ID is the authenticator's random handle (16 characters of base32).
	ID string
	// Name is the user's label for it ("Phone"), unique per user; 1 to
	// MaxNameLength characters.
	Name string
	// Secret is the TOTP secret sealed by Keyring.Seal (never the plain
	// secret): a version byte, the key id, the nonce and the AES-GCM
	// ciphertext.
	Secret []byte
	// LastStep is the last RFC 6238 time step (Unix seconds / period) the
	// authenticator accepted; 0 when it accepted none. A code is accepted
	// only for a later step.
	LastStep int64
	// CreatedAt is the enrolment time; ConfirmedAt is when a first code
	// proved it (zero: unconfirmed, not usable to sign in); LastUsedAt is
	// when it last accepted a code (zero: never).
	CreatedAt, ConfirmedAt, LastUsedAt time.Time
}

// Confirmed reports whether a first code proved the authenticator.
func (a *Authenticator) Confirmed() bool { return !a.ConfirmedAt.IsZero() }

// MaxNameLength is the longest authenticator name, in characters (a
// device name, from its user agent, is cut to as many bytes).
const MaxNameLength = 64

// Settings are a user's MFA choices. The zero value (no row) is MFA off.
type Settings struct {
	UserID int64
	// Enabled: a sign-in needs a second factor.
	Enabled bool
	// EmailFactor: the user chose a code sent to their address as a factor.
	EmailFactor bool
	UpdatedAt   time.Time
}

// SettingsPatch changes some of a user's settings; nil fields stay.
type SettingsPatch struct {
	Enabled     *bool
	EmailFactor *bool
}

// TrustedDevice is a device on which the user chose to skip the second
// factor for a while ("trust this device"). Its token (DeviceToken) is
// signed; the record makes it revocable.
type TrustedDevice struct {
	UserID int64
	// ID is random (16 characters of base32); the token carries it.
	ID string
	// Label describes the device ("Firefox on Linux"); at most
	// MaxNameLength bytes.
	Label     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps second factors. Implementations wrap server failures with
// backend.Unavailable, and on PostgreSQL join the transaction the context
// carries (user/postgres.TxFrom). Every method is atomic on its own.
type Store interface {
	// AddAuthenticator stores a (normally unconfirmed) authenticator.
	// ErrNameTaken when the user has one of that name.
	AddAuthenticator(ctx context.Context, a *Authenticator) error
	// Authenticator returns one authenticator of the user, or ErrNotFound.
	Authenticator(ctx context.Context, userID int64, id string) (*Authenticator, error)
	// Authenticators returns the user's authenticators, oldest first.
	Authenticators(ctx context.Context, userID int64) ([]Authenticator, error)
	// AcceptStep records that the authenticator accepted time step at time
	// at, and confirms it if it was not: atomically, and only if step is
	// later than its LastStep. It reports whether it did; false (no error)
	// for an earlier or equal step, or no such authenticator. Of
	// concurrent calls with one step, exactly one gets true.
	AcceptStep(ctx context.Context, userID int64, id string, step int64, at time.Time) (bool, error)
	// SetSecret replaces the sealed secret of one authenticator (a secret
	// sealed again under the current key); ErrNotFound when the user has
	// none of that id.
	SetSecret(ctx context.Context, userID int64, id string, sealed []byte) error
	// RemoveAuthenticator deletes one authenticator; ErrNotFound when the
	// user has none of that id.
	RemoveAuthenticator(ctx context.Context, userID int64, id string) error

	// ReplaceRecoveryCodes replaces the user's recovery codes with hashes
	// (RecoveryKey digests), atomically: the old set is void at once.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error
	// UseRecoveryCode deletes the user's recovery code whose digest is one
	// of candidates (one digest per keyring key) and reports whether there
	// was one. Atomic: of concurrent uses of one code, one gets true.
	UseRecoveryCode(ctx context.Context, userID int64, candidates [][]byte) (bool, error)
	// RecoveryCodesLeft returns how many unused recovery codes the user has.
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)

	// Settings returns the user's settings (the zero Settings, with UserID
	// set, when none were saved).
	Settings(ctx context.Context, userID int64) (Settings, error)
	// UpdateSettings applies p to the user's settings, creating them as
	// needed, and returns the result.
	UpdateSettings(ctx context.Context, userID int64, p SettingsPatch, at time.Time) (Settings, error)

	// AddTrustedDevice stores a trusted device.
	AddTrustedDevice(ctx context.Context, d *TrustedDevice) error
	// TrustedDevice returns a trusted device of the user that has not
	// expired at now, or ErrNotFound.
	TrustedDevice(ctx context.Context, userID int64, id string, now time.Time) (*TrustedDevice, error)
	// TrustedDevices returns the user's devices unexpired at now, oldest first.
	TrustedDevices(ctx context.Context, userID int64, now time.Time) ([]TrustedDevice, error)
	// RemoveTrustedDevices deletes the user's devices of ids (none given:
	// all of them, expired included) and returns how many it deleted.
	RemoveTrustedDevices(ctx context.Context, userID int64, ids ...string) (int, error)
}
