package simpleuser

import (
	"context"
	"errors"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

// Identities returns the sign-in provider accounts linked to the user,
// oldest first (none: an empty slice).
func (s *Service) Identities(ctx context.Context, userID int64) ([]user.Identity, error) {
	return s.users.ListIdentities(ctx, userID)
}

// Unlink removes the provider account (provider, subject) from u. It is
// refused with 409 LAST_SIGN_IN_METHOD when it would leave u no way to sign
// in (no email address and no other provider account), and with 404
// IDENTITY_NOT_FOUND when u has no such account, 403 REAUTH_REQUIRED when
// the session did not authenticate recently (StepUp). It emits
// IdentityUnlinked and revokes nothing: sessions opened with that provider
// stay valid.
//
// The user's row is written first (its version bumped), which serialises
// concurrent unlinks of one user: two of them can never each remove one of
// the last two sign-in accounts.
func (s *Service) Unlink(ctx context.Context, u *user.User, provider, subject string) error {
	if err := s.StepUp(ctx); err != nil {
		return err
	}
	return s.UnlinkIdentity(ctx, u.ID, provider, subject)
}

// UnlinkIdentity is Unlink for an administrator (the Go API, the admin
// API): the same checks and event, without the step-up of the request's
// session.
func (s *Service) UnlinkIdentity(ctx context.Context, userID int64, provider, subject string) error {
	return s.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.update(ctx, userID, func(*user.User) error { return nil })
		if errors.Is(err, user.ErrNotFound) {
			return ErrIdentityNotFound
		}
		if err != nil {
			return err
		}
		ids, err := s.users.ListIdentities(ctx, userID)
		if err != nil {
			return err
		}
		var target *user.Identity
		for i := range ids {
			if ids[i].Provider == provider && ids[i].Subject == subject {
				target = &ids[i]
			}
		}
		if target == nil {
			return ErrIdentityNotFound
		}
		if cur.Email == "" && cur.Phone == "" && len(ids) == 1 {
			return ErrLastSignInMethod
		}
		if err := s.users.UnlinkIdentity(ctx, userID, provider, subject); err != nil {
			if errors.Is(err, user.ErrNotFound) {
				return ErrIdentityNotFound
			}
			return err
		}
		s.emit(ctx, identityEvent(hooks.Event{Type: hooks.IdentityUnlinked, User: cur}, target))
		return nil
	})
}

// linkIdentity links idn to u inside the current transaction and emits
// IdentityLinked. user.ErrIdentityTaken when another user has it.
func (s *Service) linkIdentity(ctx context.Context, c Client, u *user.User, idn *user.Identity) error {
	idn.UserID = u.ID
	if err := s.users.LinkIdentity(ctx, idn); err != nil {
		return err
	}
	s.emit(ctx, identityEvent(clientEvent(hooks.IdentityLinked, u, c), idn))
	return nil
}

// identityEvent returns e carrying a copy of idn (nil: e unchanged).
func identityEvent(e hooks.Event, idn *user.Identity) hooks.Event {
	if idn != nil {
		c := *idn
		e.Identity, e.Provider = &c, idn.Provider
	}
	return e
}
