package simpleuser

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// ResetPassword sets a new password with a ResetPassword code and revokes
// every session of the account. It answers success when no live account
// holds the email (no enumeration); the code is spent either way, but only
// once the change has committed: a failure (503 from a backend, hasher
// busy) leaves it usable.
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
	u, err := s.liveUser(ctx, email)
	if err != nil {
		return err
	}
	claim, err := s.claimCode(ctx, user.EmailKey(email), hooks.PurposeResetPassword, codeValue)
	if err != nil {
		return err
	}
	if u == nil {
		return s.consume(ctx, claim) // same answer as for an account: no enumeration
	}
	return s.setPassword(ctx, u.ID, newPassword, hooks.PasswordReset, claim, "")
}

// liveUser returns the account holding email, or nil when none does or its
// unregister grace period is over (a disabled account never expires: see
// expired).
func (s *Service) liveUser(ctx context.Context, email string) (*user.User, error) {
	u, err := s.users.GetByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s.expired(u, s.now()) {
		return nil, nil
	}
	return u, nil
}

// setPassword hashes pw, stores it and revokes every session of the user
// but the one of keepToken ("": all), all inside one transaction: if
// revocation fails, the change rolls back. A non-nil claim is spent after
// hashing, before the transaction, and restored if the transaction fails.
func (s *Service) setPassword(ctx context.Context, id int64, pw, event string, claim *codeClaim, keepToken string) error {
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			var forced bool
			u, err := s.update(ctx, id, func(u *user.User) error {
				u.PasswordHash, forced, u.MustChangePassword = hash, u.MustChangePassword, false
				return nil
			})
			if err != nil {
				return err
			}
			reason, n := metrics.EndedPasswordChange, 0
			if event == hooks.PasswordReset {
				reason = metrics.EndedPasswordReset
			}
			if keepToken == "" {
				n, err = s.sessions.RevokeUser(ctx, id)
			} else if n, err = s.sessions.RevokeUserExcept(ctx, id, keepToken); err == nil && forced {
				_, err = s.sessions.Update(ctx, keepToken, func(d *session.Data) { d.MustChangePassword = false })
			}
			s.sessionsEnded(reason, n)
			if err != nil {
				return err
			}
			s.emit(ctx, hooks.Event{Type: event, User: u})
			return nil
		})
	})
}

// ChangePassword sets u's password. When u has a password, currentPassword
// must match it (a wrong one counts as a password failure). Every other
// session of u is revoked; the caller's (c.Token's) stays, so the person
// changing the password stays signed in on that device while a thief's
// sessions end (SPEC §4; OWASP ASVS 3.3.3). 400 for a password over
// PasswordMaxLength (before any hashing); 402 for an anonymous user; 400
// EMAIL_REQUIRED for an account without an email address (one that signed
// up through a provider), since password login is by email: it adds an
// address with ChangeEmail first. Without a current password (none set),
// the session needs a recent authentication (StepUp: 403 REAUTH_REQUIRED).
func (s *Service) ChangePassword(ctx context.Context, c Client, u *user.User, newPassword, currentPassword string) error {
	if !u.Registered() {
		return ErrAnonymousPassword
	}
	if u.Email == "" {
		return ErrEmailRequired
	}
	if err := s.checkPasswordLength("newPassword", newPassword); err != nil {
		return err
	}
	if err := s.checkPasswordMax("currentPassword", currentPassword); err != nil {
		return err
	}
	if u.PasswordSet() { // the current password is a fresh authentication: no step-up
		if _, err := s.checkPassword(ctx, c, u, "currentPassword", currentPassword, ErrWrongCurrentPassword); err != nil {
			return err
		}
	} else if err := s.StepUp(ctx); err != nil {
		return err
	}
	return s.setPassword(ctx, u.ID, newPassword, hooks.PasswordChanged, nil, c.Token)
}

// ChangeEmail moves u to newEmail, proven by a ChangeEmail code sent to the
// new address; for an account that signed up through a provider without an
// address, it sets the first one (adding code and password login). 402 for
// an anonymous user; 403 ACCOUNT_DISABLED when the account was disabled
// since u was read; 409 when another live account
// holds the address (checked before the code is consumed, and again
// atomically by the store's unique index); 403 REAUTH_REQUIRED when the
// session did not authenticate recently (StepUp). Sessions are indexed by
// user id, so they follow the account.
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
	if err := s.StepUp(ctx); err != nil {
		return err
	}
	newEmail = user.NormalizeEmail(newEmail)
	ek := user.EmailKey(newEmail)
	if err := s.emailFree(ctx, ek, u.ID); err != nil {
		return err
	}
	claim, err := s.claimCode(ctx, ek, hooks.PurposeChangeEmail, codeValue)
	if err != nil {
		return err
	}
	return s.setEmail(ctx, u.ID, newEmail, claim)
}

// setEmail moves the user id to email in one transaction; a non-nil claim
// (the user's own change, ChangeEmail) is spent first and restored if the
// transaction fails, and refuses an account disabled meanwhile (403
// ACCOUNT_DISABLED: moving it would free its address). The administrator's
// SetEmail (nil claim) may move a disabled account.
func (s *Service) setEmail(ctx context.Context, id int64, email string, claim *codeClaim) error {
	err := s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			if err := s.purgeExpiredHolder(ctx, email, s.now()); err != nil {
				return err
			}
			old := ""
			u, err := s.update(ctx, id, func(u *user.User) error {
				if !u.Registered() {
					return ErrAnonymousEmail
				}
				if claim != nil && u.Disabled { // disabled since the request read it
					return blocked(u)
				}
				old, u.Email = u.Email, email
				u.EmailVerifiedAt = time.Time{} // the administrator's SetEmail proves nothing
				if claim != nil {
					u.EmailVerifiedAt = s.now() // the code sent there was used
				}
				return nil
			})
			if errors.Is(err, user.ErrEmailTaken) {
				return ErrEmailTaken
			}
			if err != nil {
				return err
			}
			s.emit(ctx, hooks.Event{Type: hooks.EmailChanged, User: u, Email: old})
			return nil
		})
	})
	if err == nil { // the sessions' flag follows the address (a failure is logged: the next sign-in fixes it)
		if _, uerr := s.sessions.UpdateUser(ctx, id, func(d *session.Data) { d.EmailVerified = claim != nil }); uerr != nil {
			s.log.WarnContext(ctx, "simpleuser: updating sessions' email flag failed", slog.Any("error", uerr))
		}
	}
	return err
}

// emailFree returns ErrEmailTaken when a live account other than selfID holds the address.
func (s *Service) emailFree(ctx context.Context, ek string, selfID int64) error {
	other, err := s.liveUser(ctx, ek)
	if err != nil {
		return err
	}
	if other != nil && other.ID != selfID {
		return ErrEmailTaken
	}
	return nil
}

// Unregister unregisters u: a registered account gets an unregister time
// (recoverable by logging in within the grace period) and loses every
// session; an anonymous user, which no login could recover, is deleted at
// once. OnUnregister runs inside the transaction; sessions are revoked
// inside it too, so a failure leaves the account as it was. A disabled
// account cannot unregister itself: 403 ACCOUNT_DISABLED (unregistering
// would let its address be reused once the grace period is over). 403
// REAUTH_REQUIRED when the session did not authenticate recently (StepUp).
func (s *Service) Unregister(ctx context.Context, u *user.User) error {
	if err := s.StepUp(ctx); err != nil {
		return err
	}
	return s.unregister(ctx, u, nil)
}

// unregister is Unregister; a non-nil claim is spent first and restored
// if the transaction fails.
func (s *Service) unregister(ctx context.Context, u *user.User, claim *codeClaim) error {
	return s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			cur, err := s.users.Get(ctx, u.ID)
			if errors.Is(err, user.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if cur.Disabled {
				return blocked(cur)
			}
			if !cur.Registered() {
				if err := s.runHook(ctx, s.hooks.OnUnregister, cur); err != nil {
					return err
				}
				if _, err := s.revokeUser(ctx, cur.ID, metrics.EndedUnregister); err != nil {
					return err
				}
				s.emit(ctx, hooks.Event{Type: hooks.UserUnregistered, User: cur})
				return s.deleteInTx(ctx, cur)
			}
			now := s.now()
			out, err := s.update(ctx, u.ID, func(u *user.User) error {
				if u.Disabled {
					return blocked(u)
				}
				if !u.Unregistered() {
					u.UnregisterTime = now
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := s.runHook(ctx, s.hooks.OnUnregister, out); err != nil {
				return err
			}
			if _, err := s.revokeUser(ctx, u.ID, metrics.EndedUnregister); err != nil {
				return err
			}
			s.emit(ctx, hooks.Event{Type: hooks.UserUnregistered, User: out})
			return nil
		})
	})
}

func (s *Service) runHook(ctx context.Context, h func(context.Context, *user.User) error, u *user.User) error {
	if h == nil {
		return nil
	}
	return h(ctx, u)
}

// UnregisterWithCode unregisters the account of email, proven by an
// Unregister code. Success also when no live account holds the address (the
// code is spent all the same). 403 ACCOUNT_DISABLED for a disabled account,
// its code left unspent; any failure leaves the code usable.
func (s *Service) UnregisterWithCode(ctx context.Context, email, codeValue string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	u, err := s.liveUser(ctx, email) // before the code: an outage must not burn it
	if err != nil {
		return err
	}
	claim, err := s.claimCode(ctx, user.EmailKey(email), hooks.PurposeUnregister, codeValue)
	if err != nil {
		return err
	}
	if u != nil && u.Disabled {
		return blocked(u)
	}
	if u == nil || u.Unregistered() {
		return s.consume(ctx, claim)
	}
	return s.unregister(ctx, u, claim)
}

// Logout revokes the session of token. ErrInvalidToken when the token does
// not name a live session.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return ErrInvalidToken
	}
	d, err := s.sessions.End(ctx, token)
	if err != nil {
		return err
	}
	if d == nil {
		return ErrInvalidToken
	}
	s.sessionsEnded(metrics.EndedLogout, 1)
	s.emit(ctx, hooks.Event{Type: hooks.LoggedOut, UserID: d.UserID, IP: d.IP})
	return nil
}

func (s *Service) logTouchError(ctx context.Context, err error) {
	s.observeError(err)
	s.log.DebugContext(ctx, "simpleuser: last-active write failed", slog.Any("error", err))
}
