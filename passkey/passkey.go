// Package passkey keeps WebAuthn credentials (passkeys) and runs their
// ceremonies: registration, usernameless sign-in and sign-in of a known
// user (a passkey as a second factor).
//
// A Store holds the credential records (WebAuthn Level 3 §4, "credential
// record") and each user's user handle; implementations: passkey/memory
// (the embedded default) and passkey/postgres (tables made by the kit's
// migration 0008); conformance suite: passkey/passkeytest. A RelyingParty
// runs the ceremonies on github.com/go-webauthn/webauthn, keeping each
// ceremony's challenge in the kit's code.Store (memory or Redis),
// single-use and short-lived, under a random challenge id the client sends
// back.
//
// The sign counter (§6.1.1) is checked atomically by the Store: an
// assertion whose counter does not exceed the stored one, when either is
// non-zero, is refused with ErrCounter (a possibly cloned authenticator)
// and changes nothing.
package passkey

import (
	"context"
	"crypto/rand"
	"errors"
	"time"
)

// Errors of a Store. Implementations wrap server failures with
// backend.Unavailable instead.
var (
	// ErrNotFound: no such credential (of that user), or no user has that
	// user handle.
	ErrNotFound = errors.New("passkey: not found")
	// ErrExists: a credential of that id is registered already (to any
	// user); WebAuthn L3 §7.1 (registering a new credential) says to refuse it.
	ErrExists = errors.New("passkey: credential already registered")
	// ErrCounter: the signature counter of an assertion did not increase
	// (WebAuthn L3 §6.1.1, §7.2): the authenticator may have been
	// cloned. Nothing was updated.
	ErrCounter = errors.New("passkey: signature counter did not increase (possible cloned authenticator)")
)

// UserHandleLen is the length of the user handles NewUserHandle makes, in
// bytes: the 64 random bytes WebAuthn L3 §14.6.1 recommends (64 is also the
// most §5.4.3 allows).
const UserHandleLen = 64

// MaxCredentialIDLen is the longest credential id accepted, in bytes
// (WebAuthn L3 §4, "Credential ID": at most 1023).
const MaxCredentialIDLen = 1023

// MaxNameLen is the longest passkey name, in characters.
const MaxNameLen = 64

// Credential is one registered passkey: a credential record (WebAuthn L3
// §4) with the owner, a name for the user, and its times.
type Credential struct {
	// ID is the credential id the authenticator chose (1 to 1023 bytes),
	// unique over all users.
	ID []byte
	// UserID is the owner's user id (simpleuser_users.id).
	UserID int64
	// UserHandle is the owner's WebAuthn user handle (user.id, §5.4.3):
	// random bytes, the same for all of a user's passkeys, never PII.
	UserHandle []byte
	// Name is the user's label for it ("MacBook", "YubiKey"), at most
	// MaxNameLen characters.
	Name string
	// PublicKey is the credential public key, a COSE_Key (RFC 9053) as the
	// authenticator sent it at registration.
	PublicKey []byte
	// SignCount is the last signature counter seen (§6.1.1); 0 for
	// authenticators that keep none (most synced passkeys).
	SignCount uint32
	// AAGUID identifies the authenticator model (16 bytes; all zero or nil
	// when the authenticator gives none).
	AAGUID []byte
	// Transports are the authenticator's transport hints ("internal",
	// "hybrid", "usb", "nfc", "ble"; §5.8.4), as the client reported them.
	Transports []string
	// BackupEligible is the BE flag (§6.1): the credential may be synced
	// to other devices. It never changes for a credential.
	BackupEligible bool
	// BackupState is the BS flag at the last use: the credential is
	// synced (backed up) now.
	BackupState bool
	// UserVerified records that the authenticator verified the user (PIN,
	// biometrics; the UV flag) at registration.
	UserVerified bool
	// CreatedAt is the registration time; LastUsedAt the last sign-in with
	// it (zero until the first).
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Clone returns a deep copy of c.
func (c *Credential) Clone() *Credential {
	out := *c
	out.ID = clone(c.ID)
	out.UserHandle = clone(c.UserHandle)
	out.PublicKey = clone(c.PublicKey)
	out.AAGUID = clone(c.AAGUID)
	if c.Transports != nil {
		out.Transports = append([]string{}, c.Transports...)
	}
	return &out
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Use is what a successful assertion changes on its credential (WebAuthn
// L3 §7.2, the signature counter and backup state).
type Use struct {
	SignCount   uint32    // the assertion's signature counter
	BackupState bool      // the assertion's BS flag
	At          time.Time // when: the new LastUsedAt
}

// Store keeps credentials and user handles. Every method is safe for
// concurrent use; implementations wrap server failures with
// backend.Unavailable.
type Store interface {
	// UserHandle returns the user handle of userID, creating a random one
	// (NewUserHandle) on the first call; concurrent first calls agree on
	// one. It does not check that the user exists (the PostgreSQL store
	// returns ErrNotFound for a missing user).
	UserHandle(ctx context.Context, userID int64) ([]byte, error)
	// UserByHandle returns the user id whose user handle is handle, or
	// ErrNotFound.
	UserByHandle(ctx context.Context, handle []byte) (int64, error)
	// Add stores c, a new credential of c.UserID. c.UserHandle must be
	// that user's handle (from UserHandle), else ErrNotFound. A
	// credential id already registered, to anyone, is ErrExists. Add sets
	// c.CreatedAt to at and LastUsedAt to zero.
	Add(ctx context.Context, c *Credential, at time.Time) error
	// List returns the user's credentials, oldest first (an empty slice
	// for none).
	List(ctx context.Context, userID int64) ([]Credential, error)
	// Get returns the credential of that id, whoever owns it, or
	// ErrNotFound.
	Get(ctx context.Context, id []byte) (*Credential, error)
	// Rename sets the name of the user's credential id, or returns
	// ErrNotFound when the user has no credential of that id.
	Rename(ctx context.Context, userID int64, id []byte, name string) error
	// Remove deletes the user's credential id, or returns ErrNotFound
	// when the user has no credential of that id.
	Remove(ctx context.Context, userID int64, id []byte) error
	// RecordUse records a successful assertion with credential id, in one
	// atomic step: when u.SignCount is greater than the stored counter, or
	// both are 0 (an authenticator without a counter), it sets the
	// counter to u.SignCount, BackupState and LastUsedAt, and returns nil;
	// otherwise it changes nothing and returns ErrCounter (WebAuthn L3
	// §6.1.1). Of concurrent calls with one non-zero counter, one wins.
	// ErrNotFound when there is no such credential.
	RecordUse(ctx context.Context, id []byte, u Use) error
}

// NewUserHandle returns UserHandleLen random bytes: a fresh user handle.
func NewUserHandle() []byte {
	b := make([]byte, UserHandleLen)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// CounterOK reports whether an assertion's counter next may follow the
// stored counter cur under WebAuthn L3 §6.1.1: next > cur, or both zero.
// It is the rule every Store's RecordUse applies.
func CounterOK(cur, next uint32) bool {
	return next > cur || (next == 0 && cur == 0)
}
