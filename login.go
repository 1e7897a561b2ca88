package simpleuser

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// LoginInput is the body of POST /login.
type LoginInput struct {
	Email       string
	Code        string // a Login code; takes precedence over Password
	Password    string
	SetPassword string // password to set when the login creates the account
	// Extra holds every other field of the request body (the open-ended
	// signup payload), for the hooks.
	Extra map[string]json.RawMessage
}

// LoginResult is what a successful login returns.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	UserID    int64
	User      *user.User
	Created   bool // the login registered the account
}

// Login logs a user in by code or password and issues a session.
//
// An existing account accepts a Login code (consumed) or its password
// (risk-controlled); a login within the unregister grace period recovers the
// account. An unknown email requires a code: the anonymous user of the
// client's ssaid is upgraded in place (same id), after purging accounts of
// that email whose grace period is over. A token the client presented is
// revoked (no fixation); a fresh one is issued.
func (s *Service) Login(ctx context.Context, c Client, in LoginInput) (*LoginResult, error) {
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	if in.Code == "" && in.Password == "" {
		return nil, ErrCodeOrPassword
	}
	email := user.NormalizeEmail(in.Email)
	ek := user.EmailKey(email)

	existing, err := s.users.GetByEmail(ctx, email)
	switch {
	case errors.Is(err, user.ErrNotFound):
		existing = nil
	case err != nil:
		return nil, err
	case s.expired(existing, s.now()):
		existing = nil // its grace period is over: the address is free
	}

	var u *user.User
	created := false
	if existing != nil {
		u, err = s.loginExisting(ctx, c, existing, ek, in)
	} else {
		u, err = s.register(ctx, c, email, ek, in)
		created = err == nil
	}
	if err != nil {
		return nil, err
	}
	res, err := s.issue(ctx, c, u)
	if err != nil {
		return nil, err
	}
	res.Created = created
	return res, nil
}

func (s *Service) loginExisting(ctx context.Context, c Client, u *user.User, ek string, in LoginInput) (*user.User, error) {
	rehash := false
	if in.Code != "" {
		if err := s.checkCode(ctx, ek, hooks.PurposeLogin, in.Code, true); err != nil {
			return nil, err
		}
	} else {
		var err error
		if rehash, err = s.checkPassword(ctx, c, u, in.Password, ErrInvalidPassword); err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	var newHash string
	if rehash {
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			newHash = h
		}
	}
	var out *user.User
	err := s.users.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		var err error
		out, err = s.update(ctx, u.ID, func(u *user.User) error {
			if u.Disabled {
				return ErrAccountDisabled
			}
			u.UnregisterTime = time.Time{} // recovery within the grace period
			u.LoginIP, u.LoginTime = c.IP.String(), now
			if newHash != "" {
				u.PasswordHash = newHash
			}
			return nil
		})
		if err != nil || s.hooks.OnMigrateUser == nil {
			return err
		}
		anon, err := s.users.GetAnonymous(ctx, c.SSAID)
		if errors.Is(err, user.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.hooks.OnMigrateUser(ctx, anon, out)
	})
	return out, err
}

func (s *Service) register(ctx context.Context, c Client, email, ek string, in LoginInput) (*user.User, error) {
	if in.Code == "" {
		return nil, ErrUserNotFound
	}
	if in.SetPassword != "" {
		if err := s.checkPasswordLength("setPassword", in.SetPassword); err != nil {
			return nil, err
		}
	}
	if err := s.checkCode(ctx, ek, hooks.PurposeLogin, in.Code, true); err != nil {
		return nil, err
	}
	var hash string
	if in.SetPassword != "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, in.SetPassword); err != nil {
			return nil, err
		}
	}
	var out *user.User
	err := s.users.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		cutoff := now
		if s.cfg.UnregisterGrace > 0 {
			cutoff = now.Add(-s.cfg.UnregisterGrace)
		}
		if _, err := s.users.PurgeUnregistered(ctx, email, cutoff); err != nil {
			return err
		}
		for i := 0; ; i++ {
			anon, err := s.users.GetOrCreateAnonymous(ctx, c.SSAID, now)
			if err != nil {
				return err
			}
			if anon.Disabled {
				return ErrAccountDisabled
			}
			anon.Email, anon.SSAID = email, ""
			anon.RegisterIP, anon.RegisterTime = c.IP.String(), now
			anon.LoginIP, anon.LoginTime = c.IP.String(), now
			anon.UnregisterTime = time.Time{}
			if hash != "" {
				anon.PasswordHash = hash
			}
			err = s.users.Update(ctx, anon)
			if errors.Is(err, user.ErrConflict) && i < maxRetries {
				continue // upgraded or changed concurrently: take the ssaid's current anonymous user
			}
			out = anon
			return err
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// issue creates a session for u and revokes the token the client presented.
func (s *Service) issue(ctx context.Context, c Client, u *user.User) (*LoginResult, error) {
	if c.Token != "" {
		if err := s.sessions.Revoke(ctx, c.Token); err != nil {
			return nil, err
		}
	}
	d := session.Data{UserID: u.ID, IP: c.IP.String(), UserAgent: c.UserAgent}
	tok, err := s.sessions.Create(ctx, d)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &LoginResult{Token: tok, ExpiresAt: now.Add(s.cfg.SessionLifetime).UTC(), UserID: u.ID, User: u}, nil
}

// UserExists reports whether a live account (registered, not past its
// unregister grace period) holds email.
func (s *Service) UserExists(ctx context.Context, email string) (bool, error) {
	if err := checkEmail(email); err != nil {
		return false, err
	}
	u, err := s.users.GetByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !s.expired(u, s.now()), nil
}
