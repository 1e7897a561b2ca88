// Package user defines the kit's auth user and the Store that keeps users.
//
// The Store is implemented in memory (user/memory, the embedded default) and
// in PostgreSQL (user/postgres). Every implementation must pass the
// conformance suite in user/usertest.
package user

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by every Store.
var (
	// ErrNotFound means no user matched.
	ErrNotFound = errors.New("user: not found")
	// ErrEmailTaken means another user already holds the address: one with
	// the same EmailKey.
	ErrEmailTaken = errors.New("user: email taken")
	// ErrPhoneTaken means another user already holds the phone number (the
	// same E.164 string).
	ErrPhoneTaken = errors.New("user: phone taken")
	// ErrInvalidPhone means User.Phone is set but is not an E.164 string
	// ("+", then 2 to 15 digits, the first not 0: ITU-T E.164).
	ErrInvalidPhone = errors.New("user: phone not in E.164")
	// ErrConflict means the user changed since it was read (optimistic version check failed),
	// or an anonymous user was no longer anonymous when it was upgraded.
	ErrConflict = errors.New("user: concurrent update")
	// ErrIdentityTaken means the provider identity (provider, subject) is
	// already linked to another user.
	ErrIdentityTaken = errors.New("user: identity linked to another user")
	// ErrInvalidText means a string of the user or identity (a column, or
	// a member name or value of metadata or settings) is not text every
	// backend can store: invalid UTF-8 or a NUL character, which
	// PostgreSQL refuses (SQLSTATE 22021, 22P05). The service refuses such
	// input at its edge; every Store refuses it alike, writing nothing.
	ErrInvalidText = errors.New("user: text a backend cannot store")
)

// User is an auth user: the kit's own row, holding auth fields only. Apps keep
// their own data in their own table linked by the user's ID.
//
// Empty strings and zero times stand for SQL NULL.
type User struct {
	ID    int64
	Email string // as typed (trimmed); "" for anonymous users
	// Phone is the account's phone number in E.164 ("+14155550100", ITU-T
	// E.164: "+", country code, national number, at most 15 digits), unique
	// across users; "" for none. The service parses what a person typed
	// with the phone package before storing it.
	Phone string
	// EmailVerifiedAt is when Email was proved reachable (a code sent there
	// was used, or a sign-in provider asserted it verified); zero when it
	// was not, and cleared whenever Email changes.
	EmailVerifiedAt time.Time
	// PhoneVerifiedAt is when Phone was proved reachable (a code sent there
	// by SMS was used); zero when it was not, and cleared whenever Phone
	// changes.
	PhoneVerifiedAt time.Time
	SSAID           string // set only while the user is anonymous
	PasswordHash    string // PHC string; "" when no password is set
	Disabled        bool
	// MustChangePassword: an administrator requires a new password; every
	// session of the user carries it (session.Data.MustChangePassword) and
	// the guarded routes answer 403 MUST_CHANGE_PASSWORD until the user
	// sets one (NIST SP 800-63B §5.1.1.2 allows forcing a change on
	// evidence of compromise).
	MustChangePassword bool
	// Suspended tells a suspension from a plain disabling (Disabled is set
	// for both, and enforces both); StatusReason is the administrator's
	// reason, kept while disabled. See Status.
	Suspended    bool
	StatusReason string
	Metadata     map[string]any // app-writable JSON object; never nil when read from a Store
	// Settings is the user's own JSON object (preferences), writable by the
	// user (PATCH /user-center/settings) and by the app; never nil when read
	// from a Store.
	Settings       map[string]any
	RegisterIP     string
	RegisterTime   time.Time
	LoginIP        string
	LoginTime      time.Time
	LastActiveIP   string
	LastActiveTime time.Time
	UnregisterTime time.Time // zero unless unregistered (soft delete, recoverable within the grace period)
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Version is incremented by every Update; Update refuses a stale version
	// with ErrConflict, so read-modify-write needs no lock.
	Version int64
}

// Account statuses (User.Status), set by Service.SetStatus.
const (
	StatusActive    = "active"
	StatusDisabled  = "disabled"
	StatusSuspended = "suspended"
)

// Status is StatusActive, StatusDisabled or StatusSuspended.
func (u *User) Status() string {
	switch {
	case !u.Disabled:
		return StatusActive
	case u.Suspended:
		return StatusSuspended
	}
	return StatusDisabled
}

// Registered reports whether the user is an account rather than an
// anonymous placeholder. Anonymous rows always have an ssaid and no email;
// registering (by email code or by a sign-in provider) clears the ssaid, so
// an account that signed up through a provider without an email address is
// registered too.
func (u *User) Registered() bool { return u.Email != "" || u.SSAID == "" }

// ValidE164 reports whether p has the shape of an E.164 number as stored:
// "+", then 2 to 15 ASCII digits, the first not 0. It checks the shape
// only; the phone package parses and validates what a person typed.
func ValidE164(p string) bool {
	if len(p) < 3 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// EmailVerified reports whether the account's address is set and verified.
func (u *User) EmailVerified() bool { return u.Email != "" && !u.EmailVerifiedAt.IsZero() }

// PasswordSet reports whether the user has a password.
func (u *User) PasswordSet() bool { return u.PasswordHash != "" }

// Unregistered reports whether the user has unregistered (whatever the grace period).
func (u *User) Unregistered() bool { return !u.UnregisterTime.IsZero() }

// Clone returns a deep copy of u (metadata and settings included).
func (u *User) Clone() *User {
	c := *u
	c.Metadata = cloneMap(u.Metadata)
	c.Settings = cloneMap(u.Settings)
	return &c
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		c := make([]any, len(t))
		for i := range t {
			c[i] = cloneValue(t[i])
		}
		return c
	default:
		return v
	}
}

// Store keeps auth users. Methods join the transaction carried by ctx when
// there is one (see WithTx), so several calls and the app's own statements can
// commit or roll back together. Implementations wrap server failures with
// backend.Unavailable.
type Store interface {
	// WithTx runs fn in a transaction carried by the ctx it passes to fn. If
	// ctx already carries a transaction of this store, fn joins it and the
	// outermost WithTx commits. fn's error (or a panic) rolls everything back.
	WithTx(ctx context.Context, fn func(ctx context.Context) error) error

	// Get returns the user with the id, or ErrNotFound.
	Get(ctx context.Context, id int64) (*User, error)
	// GetByEmail returns the user whose address has the same EmailKey as
	// email, or ErrNotFound (also for an address without a key).
	GetByEmail(ctx context.Context, email string) (*User, error)
	// GetByPhone returns the user whose Phone is phone (E.164, compared
	// exactly), or ErrNotFound (also for "").
	GetByPhone(ctx context.Context, phone string) (*User, error)
	// GetAnonymous returns the anonymous user of ssaid, or ErrNotFound. It never creates one.
	GetAnonymous(ctx context.Context, ssaid string) (*User, error)
	// GetOrCreateAnonymous returns the anonymous user of ssaid, creating it
	// atomically: concurrent calls for one ssaid yield one user.
	GetOrCreateAnonymous(ctx context.Context, ssaid string, now time.Time) (*User, error)

	// Create inserts u (its ID is ignored) and sets u.ID, u.CreatedAt,
	// u.UpdatedAt and u.Version. u.Email is stored trimmed (NormalizeEmail)
	// and identified by its EmailKey. ErrEmailTaken when the key is held;
	// ErrPhoneTaken when u.Phone is held by another user; ErrInvalidPhone
	// when u.Phone is set but not E.164 (ValidE164); ErrInvalidEmail
	// when u.Email is set but has no key.
	Create(ctx context.Context, u *User) error
	// Update writes every mutable field of u (all but ID, CreatedAt and the
	// last-active pair, which only TouchActive writes) when u.Version matches
	// the stored version, then bumps u.Version and u.UpdatedAt. Errors: ErrNotFound,
	// ErrConflict (stale version), ErrEmailTaken, ErrPhoneTaken,
	// ErrInvalidPhone, ErrInvalidEmail (the
	// address changed to one without a key; an unchanged address is kept
	// as it is, so a row stored under older rules stays writable).
	Update(ctx context.Context, u *User) error
	// Delete removes the user. ErrNotFound when absent.
	Delete(ctx context.Context, id int64) error

	// TouchActive records the last-active address and time without bumping
	// the version (it is bookkeeping, not a change of the account).
	TouchActive(ctx context.Context, id int64, ip string, at time.Time) error
	// ListUnregistered returns at most limit users whose unregister time is
	// at or before cutoff, oldest first (the hard-deletion purge walks it).
	// Disabled users are left out: an administrator disabled them, so the
	// purge never frees their address for someone else.
	ListUnregistered(ctx context.Context, cutoff time.Time, limit int) ([]*User, error)
	// PurgeAnonymous deletes at most limit anonymous users whose last activity
	// (or creation, when never active) is before cutoff; it returns how many.
	PurgeAnonymous(ctx context.Context, cutoff time.Time, limit int) (int, error)

	IdentityStore
}
