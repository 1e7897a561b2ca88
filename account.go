package simpleuser

import (
	"context"
	"errors"
	"log/slog"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

// ResetPassword sets a new password with a ResetPassword code and revokes
// every session of the account. It answers success when no account holds the
// email (no enumeration); the code is consumed either way.
func (s *Service) ResetPassword(ctx context.Context, email, codeValue, newPassword string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	if err := s.checkPasswordLength("newPassword", newPassword); err != nil {
		return err
	}
	ek := user.EmailKey(email)
	if err := s.checkCode(ctx, ek, hooks.PurposeResetPassword, codeValue, true); err != nil {
		return err
	}
	u, err := s.users.GetByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.expired(u, s.now()) {
		return nil
	}
	return s.setPassword(ctx, u.ID, newPassword)
}

// setPassword hashes pw, stores it and revokes every session of the user.
func (s *Service) setPassword(ctx context.Context, id int64, pw string) error {
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if _, err := s.update(ctx, id, func(u *user.User) error { u.PasswordHash = hash; return nil }); err != nil {
		return err
	}
	_, err = s.sessions.RevokeUser(ctx, id)
	return err
}

// ChangePassword sets u's password. When u has a password, currentPassword
// must match it (a wrong one counts as a password failure). Every session of
// u is revoked, the caller's included. 402 for an anonymous user.
func (s *Service) ChangePassword(ctx context.Context, c Client, u *user.User, newPassword, currentPassword string) error {
	if !u.Registered() {
		return ErrAnonymousPassword
	}
	if err := s.checkPasswordLength("newPassword", newPassword); err != nil {
		return err
	}
	if u.PasswordSet() {
		if _, err := s.checkPassword(ctx, c, u, currentPassword, ErrWrongCurrentPassword); err != nil {
			return err
		}
	}
	return s.setPassword(ctx, u.ID, newPassword)
}

// ChangeEmail moves u to newEmail, proven by a ChangeEmail code sent to the
// new address. 402 for an anonymous user; 409 when another account holds
// the address (checked before the code is consumed, and again atomically by
// the store's unique index). Sessions are indexed by user id, so they follow.
func (s *Service) ChangeEmail(ctx context.Context, u *user.User, newEmail, codeValue string) error {
	if !u.Registered() {
		return ErrAnonymousEmail
	}
	if err := checkEmail(newEmail); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	newEmail = user.NormalizeEmail(newEmail)
	ek := user.EmailKey(newEmail)
	if err := s.emailFree(ctx, ek, u.ID); err != nil {
		return err
	}
	if err := s.checkCode(ctx, ek, hooks.PurposeChangeEmail, codeValue, true); err != nil {
		return err
	}
	return s.users.WithTx(ctx, func(ctx context.Context) error {
		cutoff := s.now()
		if s.cfg.UnregisterGrace > 0 {
			cutoff = cutoff.Add(-s.cfg.UnregisterGrace)
		}
		if _, err := s.users.PurgeUnregistered(ctx, newEmail, cutoff); err != nil {
			return err
		}
		_, err := s.update(ctx, u.ID, func(u *user.User) error { u.Email = newEmail; return nil })
		if errors.Is(err, user.ErrEmailTaken) {
			return ErrEmailTaken
		}
		return err
	})
}

// emailFree returns ErrEmailTaken when a live account other than selfID holds the address.
func (s *Service) emailFree(ctx context.Context, ek string, selfID int64) error {
	other, err := s.users.GetByEmail(ctx, ek)
	if errors.Is(err, user.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if other.ID != selfID && !s.expired(other, s.now()) {
		return ErrEmailTaken
	}
	return nil
}

// Unregister unregisters u: a registered account gets an unregister time
// (recoverable by logging in within the grace period) and loses every
// session; an anonymous user, which no login can recover, is deleted at once.
// The OnUnregister hook runs inside the transaction.
func (s *Service) Unregister(ctx context.Context, u *user.User) error {
	err := s.users.WithTx(ctx, func(ctx context.Context) error {
		if !u.Registered() {
			if err := s.runUnregisterHook(ctx, u); err != nil {
				return err
			}
			err := s.users.Delete(ctx, u.ID)
			if errors.Is(err, user.ErrNotFound) {
				return nil
			}
			return err
		}
		now := s.now()
		out, err := s.update(ctx, u.ID, func(u *user.User) error {
			if !u.Unregistered() {
				u.UnregisterTime = now
			}
			return nil
		})
		if err != nil {
			return err
		}
		return s.runUnregisterHook(ctx, out)
	})
	if err != nil {
		return err
	}
	_, err = s.sessions.RevokeUser(ctx, u.ID)
	return err
}

func (s *Service) runUnregisterHook(ctx context.Context, u *user.User) error {
	if s.hooks.OnUnregister == nil {
		return nil
	}
	return s.hooks.OnUnregister(ctx, u)
}

// UnregisterWithCode unregisters the account of email, proven by an
// Unregister code. Success also when no live account holds the address.
func (s *Service) UnregisterWithCode(ctx context.Context, email, codeValue string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	if err := s.checkCode(ctx, user.EmailKey(email), hooks.PurposeUnregister, codeValue, true); err != nil {
		return err
	}
	u, err := s.users.GetByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Unregistered() {
		return nil
	}
	return s.Unregister(ctx, u)
}

// Logout revokes the session of token. ErrInvalidToken when the token does
// not name a live session.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return ErrInvalidToken
	}
	if _, err := s.session(ctx, token); err != nil {
		return err
	}
	return s.sessions.Revoke(ctx, token)
}

// RevokeSessions ends every session of the user and returns how many there were.
func (s *Service) RevokeSessions(ctx context.Context, userID int64) (int, error) {
	return s.sessions.RevokeUser(ctx, userID)
}

func (s *Service) logTouchError(ctx context.Context, err error) {
	s.log.DebugContext(ctx, "simpleuser: last-active write failed", slog.Any("error", err))
}

