package user

import (
	"context"
	"time"
)

// Identity is a sign-in provider account linked to a user: the user signs
// in as (Provider, Subject). A user may have any number of identities, one
// per provider account; a provider account belongs to at most one user.
// The user's Email stays the identity of code and password login.
type Identity struct {
	UserID int64
	// Provider is the provider's name ("google", "github", ...).
	Provider string
	// Subject is the provider's stable id of the account, exactly as the
	// provider sends it (case-sensitive, never trimmed).
	Subject string
	// Email is the address the provider gave at the last sign-in ("" for none).
	Email string
	// EmailVerified is whether the provider vouched for Email.
	EmailVerified bool
	// CreatedAt is when the identity was linked.
	CreatedAt time.Time
	// LastUsedAt is when the user last signed in with it (CreatedAt at first).
	LastUsedAt time.Time
}

// IdentityStore keeps the identities of users. It is part of Store, so its
// methods join the same transactions as user changes; deleting a user
// deletes its identities.
type IdentityStore interface {
	// LinkIdentity links id.Provider/id.Subject to id.UserID, setting
	// id.CreatedAt and id.LastUsedAt from the store's clock. Linking an
	// identity the same user already has changes nothing and succeeds,
	// filling id from the stored identity. Errors: ErrIdentityTaken when
	// another user has it, ErrNotFound when the user does not exist.
	LinkIdentity(ctx context.Context, id *Identity) error
	// GetIdentity returns the identity (provider, subject), or ErrNotFound.
	GetIdentity(ctx context.Context, provider, subject string) (*Identity, error)
	// ListIdentities returns the user's identities, oldest link first
	// (none: an empty slice).
	ListIdentities(ctx context.Context, userID int64) ([]Identity, error)
	// UnlinkIdentity removes the identity (provider, subject) of the user.
	// ErrNotFound when the user has no such identity.
	UnlinkIdentity(ctx context.Context, userID int64, provider, subject string) error
	// TouchIdentity records a sign-in with the identity (provider, subject):
	// LastUsedAt = at, and the email the provider gave this time. It does
	// not change the user's version. ErrNotFound when there is no such identity.
	TouchIdentity(ctx context.Context, provider, subject, email string, emailVerified bool, at time.Time) error
}
