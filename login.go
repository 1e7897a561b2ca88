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
	// Extra holds every other field of the request body: the open-ended
	// signup payload handed to BeforeCreate, AfterCreate and UserRegistered.
	Extra hooks.Payload
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
// client's ssaid is upgraded in place (same id), after purging an account of
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
	if existing != nil {
		u, err = s.loginExisting(ctx, c, existing, in)
	} else {
		u, err = s.register(ctx, c, email, in)
	}
	if err != nil {
		s.loginFailed(ctx, c, email, existing, err)
		return nil, err
	}
	res, err := s.issue(ctx, c, u)
	if err != nil {
		return nil, err
	}
	res.Created = existing == nil
	return res, nil
}

func (s *Service) loginFailed(ctx context.Context, c Client, email string, u *user.User, err error) {
	reason := ""
	switch {
	case errors.Is(err, ErrInvalidCode):
		reason = "code"
	case errors.Is(err, ErrInvalidPassword):
		reason = "password"
	case errors.Is(err, ErrUserNotFound):
		reason = "unknown"
	case errors.Is(err, ErrAccountDisabled):
		reason = "disabled"
	default:
		if e := AsError(err); e.Status == 429 {
			reason = "blocked"
		}
	}
	if reason == "" {
		return
	}
	e := clientEvent(hooks.LoginFailed, u, c)
	e.Email, e.Reason = email, reason
	s.emit(ctx, e)
}

func (s *Service) loginExisting(ctx context.Context, c Client, u *user.User, in LoginInput) (*user.User, error) {
	rehash := false
	method := "code"
	if in.Code != "" {
		if err := s.checkCode(ctx, user.EmailKey(u.Email), hooks.PurposeLogin, in.Code, true); err != nil {
			return nil, err
		}
	} else {
		method = "password"
		var err error
		if rehash, err = s.checkPassword(ctx, c, u, in.Password, ErrInvalidPassword); err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	var newHash string
	if rehash { // parameters changed (or a legacy bcrypt hash): upgrade transparently
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			newHash = h
		}
	}
	var out *user.User
	err := s.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		var err error
		out, err = s.update(ctx, u.ID, func(u *user.User) error {
			if u.Disabled {
				return ErrAccountDisabled
			}
			u.UnregisterTime = time.Time{} // recovery within the grace period
			u.LoginIP, u.LoginTime = ipString(c), now
			if newHash != "" {
				u.PasswordHash = newHash
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.hooks.OnMigrateUser != nil {
			anon, err := s.users.GetAnonymous(ctx, c.SSAID)
			switch {
			case errors.Is(err, user.ErrNotFound):
			case err != nil:
				return err
			default:
				if err := s.hooks.OnMigrateUser(ctx, anon, out); err != nil {
					return err
				}
			}
		}
		if s.hooks.OnLogin != nil {
			if err := s.hooks.OnLogin(ctx, out, hooks.LoginInfo{Method: method, SSAID: c.SSAID, IP: ipString(c)}); err != nil {
				return err
			}
		}
		s.emit(ctx, clientEvent(hooks.LoggedIn, out, c))
		return nil
	})
	return out, err
}

func (s *Service) register(ctx context.Context, c Client, email string, in LoginInput) (*user.User, error) {
	if in.Code == "" {
		return nil, ErrUserNotFound
	}
	if in.SetPassword != "" {
		if err := s.checkPasswordLength("setPassword", in.SetPassword); err != nil {
			return nil, err
		}
	}
	if err := s.checkCode(ctx, user.EmailKey(email), hooks.PurposeLogin, in.Code, true); err != nil {
		return nil, err
	}
	var hash string
	if in.SetPassword != "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, in.SetPassword); err != nil {
			return nil, err
		}
	}
	payload := in.Extra
	if payload == nil {
		payload = hooks.Payload{}
	}
	var out *user.User
	err := s.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if err := s.purgeExpiredHolder(ctx, email, now); err != nil {
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
			anon.RegisterIP, anon.RegisterTime = ipString(c), now
			anon.LoginIP, anon.LoginTime = ipString(c), now
			anon.UnregisterTime = time.Time{}
			if hash != "" {
				anon.PasswordHash = hash
			}
			if s.hooks.BeforeCreate != nil {
				if err := s.hooks.BeforeCreate(ctx, anon, payload); err != nil {
					return err
				}
			}
			err = s.users.Update(ctx, anon)
			if errors.Is(err, user.ErrConflict) && i < maxRetries {
				continue // upgraded or changed concurrently: take the ssaid's current anonymous user
			}
			if err != nil {
				return err
			}
			out = anon
			break
		}
		if s.hooks.AfterCreate != nil {
			if err := s.hooks.AfterCreate(ctx, out, payload); err != nil {
				return err
			}
		}
		if s.hooks.OnLogin != nil {
			if err := s.hooks.OnLogin(ctx, out, hooks.LoginInfo{Method: "code", SSAID: c.SSAID, IP: ipString(c), Created: true}); err != nil {
				return err
			}
		}
		reg := clientEvent(hooks.UserRegistered, out, c)
		reg.Payload = payload
		s.emit(ctx, reg)
		s.emit(ctx, clientEvent(hooks.LoggedIn, out, c))
		return nil
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
	d := session.Data{UserID: u.ID, IP: ipString(c), UserAgent: c.UserAgent}
	if s.hooks.GetSessionUserData != nil {
		raw, err := s.sessionUserData(ctx, u)
		if err != nil {
			return nil, err
		}
		d.UserData = raw
	}
	tok, err := s.sessions.Create(ctx, d)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok, ExpiresAt: s.now().Add(s.cfg.SessionLifetime).UTC(), UserID: u.ID, User: u}, nil
}

func (s *Service) sessionUserData(ctx context.Context, u *user.User) (json.RawMessage, error) {
	m, err := s.hooks.GetSessionUserData(ctx, u.Clone())
	if err != nil || m == nil {
		return nil, err
	}
	return json.Marshal(m)
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
