package simpleuser

import (
	"context"
	"errors"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// The Go API: every method joins the transaction carried by ctx (see
// WithTx), so an app can create an auth user, its own rows, roles and a
// tenant binding as one unit.

// NewUser describes an account created through the Go API.
type NewUser struct {
	Email    string
	Password string         // optional; hashed with argon2id
	Metadata map[string]any // optional
	Settings map[string]any // optional; at most MaxSettingsBytes of JSON
	// Payload is handed to BeforeCreate, AfterCreate and the UserCreated event.
	Payload hooks.Payload
}

// CreateUser creates a registered account: BeforeCreate, the row,
// AfterCreate, all in one transaction; UserCreated after commit. 409 when a
// live account holds the email (an expired one is purged first); 400 for
// an invalid address, a password outside the length bounds, or metadata,
// settings or payload holding text no backend can store.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*user.User, error) {
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	if in.Settings != nil {
		if err := checkSettings(in.Settings); err != nil {
			return nil, err
		}
	}
	if err := checkStorable("metadata", in.Metadata); err != nil {
		return nil, err
	}
	if err := checkPayload(in.Payload); err != nil {
		return nil, err
	}
	var hash string
	if in.Password != "" {
		if err := s.checkPasswordLength("password", in.Password); err != nil {
			return nil, err
		}
		var err error
		if hash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	payload := in.Payload
	if payload == nil {
		payload = hooks.Payload{}
	}
	var out *user.User
	err := s.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		email := user.NormalizeEmail(in.Email)
		if err := s.purgeExpiredHolder(ctx, email, now); err != nil {
			return err
		}
		u := &user.User{Email: email, PasswordHash: hash, Metadata: in.Metadata, Settings: in.Settings, RegisterTime: now}
		if u.Metadata == nil {
			u.Metadata = map[string]any{}
		}
		if s.hooks.BeforeCreate != nil {
			if err := s.hooks.BeforeCreate(ctx, u, payload); err != nil {
				return err
			}
		}
		if err := s.users.Create(ctx, u); err != nil {
			if errors.Is(err, user.ErrEmailTaken) {
				return ErrEmailTaken
			}
			return err
		}
		if s.hooks.AfterCreate != nil {
			if err := s.hooks.AfterCreate(ctx, u, payload); err != nil {
				return err
			}
		}
		e := hooks.Event{Type: hooks.UserCreated, User: u, Payload: payload}
		s.emit(ctx, e)
		out = u
		return nil
	})
	return out, err
}

// GetUser returns the user with id (user.ErrNotFound when absent).
func (s *Service) GetUser(ctx context.Context, id int64) (*user.User, error) {
	return s.users.Get(ctx, id)
}

// GetUserByEmail returns the user holding email, case-insensitively.
func (s *Service) GetUserByEmail(ctx context.Context, email string) (*user.User, error) {
	return s.users.GetByEmail(ctx, email)
}

// SetPassword sets a user's password (admin) and revokes all their sessions.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) error {
	if err := s.checkPasswordLength("password", password); err != nil {
		return err
	}
	return s.setPassword(ctx, id, password, hooks.PasswordChanged, nil, "")
}

// SetEmail changes a registered user's email (admin; no code). 409 when taken.
func (s *Service) SetEmail(ctx context.Context, id int64, email string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	return s.setEmail(ctx, id, user.NormalizeEmail(email), nil)
}

// UpdateMetadata applies fn to a copy of the user's metadata and stores the
// result (retrying fn if the user changed concurrently). 400 when the
// result holds text no backend can store (nothing is written).
func (s *Service) UpdateMetadata(ctx context.Context, id int64, fn func(m map[string]any) error) (*user.User, error) {
	return s.update(ctx, id, func(u *user.User) error {
		if u.Metadata == nil {
			u.Metadata = map[string]any{}
		}
		if err := fn(u.Metadata); err != nil {
			return err
		}
		return checkStorable("metadata", u.Metadata)
	})
}

// SetDisabled disables or re-enables a user. Disabling revokes every session
// at once (in the same transaction); a disabled user gets 403
// ACCOUNT_DISABLED everywhere: every login method (code, password, every
// sign-in provider), the current-user resolution of every request (token or
// anonymous ssaid) and the linking of providers. Emits UserDisabled or
// UserEnabled (nothing when the flag does not change).
func (s *Service) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	st := user.StatusActive
	if disabled {
		st = user.StatusDisabled
	}
	return s.SetStatus(ctx, id, st, "")
}

// SetStatus sets the account status (user.StatusActive, StatusDisabled or
// StatusSuspended: disabled told apart, every rule of SetDisabled) with a
// reason (≤ 500 bytes, kept on the user while disabled) that the
// UserDisabled event's user carries. 400 for another status or reason.
func (s *Service) SetStatus(ctx context.Context, id int64, status, reason string) error {
	if len(reason) > 500 || !textcheck.String(reason) || (status != user.StatusActive && status != user.StatusDisabled && status != user.StatusSuspended) {
		return InvalidInput("status must be active, disabled or suspended; reason valid UTF-8 text of at most 500 bytes without NUL")
	}
	disabled := status != user.StatusActive
	return s.WithTx(ctx, func(ctx context.Context) error {
		changed := false
		u, err := s.update(ctx, id, func(u *user.User) error {
			changed = u.Disabled != disabled
			u.Disabled, u.Suspended, u.StatusReason = disabled, status == user.StatusSuspended, reason
			if !disabled {
				u.StatusReason = "" // enabling clears the reason
			}
			return nil
		})
		if err != nil || !changed {
			return err
		}
		typ := hooks.UserEnabled
		if disabled {
			typ = hooks.UserDisabled
			if _, err := s.revokeUser(ctx, id, metrics.EndedDisabled); err != nil {
				return err
			}
		}
		s.emit(ctx, hooks.Event{Type: typ, User: u})
		return nil
	})
}

// DeleteUser hard-deletes a user: BeforeDelete and the row in one
// transaction (with the app's cascading rows), every session revoked,
// UserDeleted with the snapshot after commit.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	return s.WithTx(ctx, func(ctx context.Context) error {
		u, err := s.users.Get(ctx, id)
		if err != nil {
			return err
		}
		if _, err := s.revokeUser(ctx, id, metrics.EndedDeleted); err != nil {
			return err
		}
		return s.deleteInTx(ctx, u)
	})
}

// RefreshSessionUserData recomputes GetSessionUserData for the user and
// stores it in every live session of theirs (after the app changed, say, a
// nickname), and recomputes each session's tenant claims (roles,
// permissions; tenant.Service.Refresh). It returns how many sessions were
// updated.
func (s *Service) RefreshSessionUserData(ctx context.Context, id int64) (int, error) {
	if n, err := s.tenants.Refresh(ctx, id); err != nil || s.hooks.GetSessionUserData == nil {
		return n, err
	}
	u, err := s.users.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	raw, err := s.sessionUserData(ctx, u)
	if err != nil {
		return 0, err
	}
	return s.sessions.SetUserData(ctx, id, raw)
}

// SetMustChangePassword sets or clears the user's must-change-password
// flag (admin) and, at once, in every live session of theirs: the routes
// middleware.Require* guards answer 403 MUST_CHANGE_PASSWORD, with no store
// read, until the user sets a password (which clears it). 400
// EMAIL_REQUIRED when setting it on a user without an address (who could
// not change a password); user.ErrNotFound when absent.
func (s *Service) SetMustChangePassword(ctx context.Context, id int64, on bool) error {
	return s.WithTx(ctx, func(ctx context.Context) error {
		_, err := s.update(ctx, id, func(u *user.User) error {
			if on && u.Email == "" {
				return ErrEmailRequired
			}
			u.MustChangePassword = on
			return nil
		})
		if err == nil {
			_, err = s.sessions.UpdateUser(ctx, id, func(d *session.Data) { d.MustChangePassword = on })
		}
		return err
	})
}

// RevokeSessions ends every session of the user and returns how many there were.
func (s *Service) RevokeSessions(ctx context.Context, userID int64) (int, error) {
	return s.revokeUser(ctx, userID, metrics.EndedRevoked)
}
