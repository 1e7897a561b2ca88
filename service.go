// Package simpleuser is a user system for Go web apps: anonymous users keyed
// by a client id, email one-time codes, code and password login, server-side
// sessions, risk control and account lifecycle, wire-compatible with the
// NestJS module nicot-simple-user.
//
// This package is the service: every flow is a plain Go method taking a
// context, with no HTTP in it. The middleware package resolves the request
// identity into the context; the handlers package mounts the JSON API.
package simpleuser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/code"
	codememory "github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	mfamemory "github.com/simpleuser/simpleuser/mfa/memory"
	"github.com/simpleuser/simpleuser/oauth/signin"
	"github.com/simpleuser/simpleuser/passkey"
	passkeymemory "github.com/simpleuser/simpleuser/passkey/memory"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/risk"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
	"github.com/simpleuser/simpleuser/tenant"
	tenantmemory "github.com/simpleuser/simpleuser/tenant/memory"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

// Service runs every flow. Create it with New; it is safe for concurrent use.
type Service struct {
	cfg      Config
	users    user.Store
	limits   *risk.Policy // the rate limits, on Config.Risk
	codeFlow *code.Flow
	sessions *session.Manager
	hasher   *password.Hasher
	pwCheck  *password.Checker // attempt limits and length bounds, over hasher and limits
	hooks    hooks.Hooks
	log      *slog.Logger
	now      func() time.Time
	signin   *signin.Service
	passkeys *passkey.RelyingParty // nil when passkeys are off
	mfa      *mfa.Service
	tenants  *tenant.Service
	backends *backend.Checker
	obs      metrics.Observer
	obsOn    bool // obs is not metrics.Nop
}

// New validates cfg, applies defaults (in-memory stores where none are
// given) and returns the service.
func New(cfg Config) (*Service, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if c.Users == nil {
		m := usermemory.New()
		m.Now = c.Now
		c.Users = m
	} else if _, mem := c.Users.(*usermemory.Store); !mem && c.MFA.Store == nil {
		c.Logger.Warn("simpleuser: Config.MFA.Store is not set: second factors are kept in memory and lost on restart (use mfa/postgres)")
	}
	if c.MFA.Store == nil {
		c.MFA.Store = mfamemory.New()
	}
	if c.Codes == nil {
		m := codememory.New()
		m.Now = c.Now
		c.Codes = m
	}
	if c.Risk == nil {
		c.Risk = riskmemory.New()
	}
	if c.SessionStore == nil {
		c.SessionStore, c.SessionIndex = sessionmemory.New()
	}
	_, nop := c.Metrics.(metrics.Nop)
	var hashOpts []password.Option
	if !nop {
		hashOpts = append(hashOpts, password.WithObserver(c.Metrics))
	}
	s := &Service{
		cfg:   c,
		users: c.Users,
		limits: &risk.Policy{Store: c.Risk, SendCooldown: c.SendCooldown,
			SendAddressLimit: c.SendAddressLimit, SendAddressWindow: c.SendAddressWindow,
			VerifyMaxAttempts: c.VerifyMaxAttempts, VerifyWindow: c.VerifyWindow,
			PasswordMaxAttempts: c.PasswordMaxAttempts, PasswordWindow: c.PasswordWindow,
			PasswordAddressMaxAttempts: c.PasswordAddressMaxAttempts, PasswordAddressWindow: c.PasswordAddressWindow,
			AnonymousAddressLimit: c.AnonymousAddressLimit, AnonymousAddressWindow: c.AnonymousAddressWindow,
			Log: c.Logger, Now: c.Now},
		sessions: &session.Manager{
			Store: c.SessionStore, Index: c.SessionIndex,
			Lifetime: c.SessionLifetime, IdleTimeout: c.SessionIdleTimeout, Now: c.Now,
			TouchInterval: c.ActiveTouchInterval, MaxPerUser: c.MaxSessionsPerUser, IDKey: c.Secret,
		},
		hasher:   password.New(c.Argon2, c.HashConcurrency, c.HashMaxWait, hashOpts...),
		hooks:    c.Hooks,
		log:      c.Logger,
		now:      c.Now,
		backends: backend.NewChecker(c.Users, c.Codes, c.Risk, c.SessionStore, c.SessionIndex),
		obs:      c.Metrics, obsOn: !nop,
	}
	s.limits.Failed = s.observeError
	s.pwCheck = &password.Checker{Hasher: s.hasher, Limits: s.limits, MinLength: c.PasswordMinLength, MaxLength: c.PasswordMaxLength}
	s.codeFlow = &code.Flow{Store: c.Codes, Secret: c.Secret, TTL: c.CodeTTL, Limits: s.limits,
		OnRollback: s.onRollback, Log: c.Logger, Now: c.Now, Failed: s.observeError}
	if !nop {
		s.limits.Refused = c.Metrics.Refusal
		s.sessions.Evicted = func(n int) { s.sessionsEnded(metrics.EndedMaxSessions, n) }
	}
	if c.Passkeys.Enabled && c.MFA.ExtraFactors == nil {
		c.MFA.ExtraFactors = s.passkeyFactor // passkeys are second factors too
	}
	if s.mfa, err = mfa.New(c.MFA, s.mfaDeps()); err != nil {
		return nil, err
	}
	s.cfg.MFA = s.mfa.Config()
	if s.cfg.Tenants.Store == nil {
		s.cfg.Tenants.Store = tenantmemory.New()
	}
	s.tenants = &tenant.Service{Store: s.cfg.Tenants.Store, Manager: s.sessions, Default: c.Tenants.Default, Now: c.Now, Emit: s.emit, MemoFrom: requestMemo}
	if s.signin, err = signin.New(c.OAuth, c.Codes, signin.Deps{
		Users: s.users, WithTx: s.WithTx, Expired: s.expired, PurgeExpiredHolder: s.purgeExpiredHolder,
		Delete: func(ctx context.Context, u *user.User) error {
			if _, err := s.revokeUser(ctx, u.ID, metrics.EndedDeleted); err != nil {
				return err
			}
			return s.deleteInTx(ctx, u)
		},
		Now: c.Now, Log: c.Logger,
	}); err != nil {
		return nil, fmt.Errorf("simpleuser: Config.OAuth: %w", err)
	}
	newStore := func() passkey.Store { return passkeymemory.New() }
	if s.passkeys, err = c.Passkeys.RelyingParty(c.Codes, c.Now, newStore); err != nil {
		return nil, fmt.Errorf("simpleuser: Config.Passkeys: %w", err)
	} else if s.passkeys != nil {
		s.passkeys.OnChange = s.passkeyChanged
	}
	if m, ok := c.Users.(*usermemory.Store); ok { // what ON DELETE CASCADE does on PostgreSQL
		m.CascadeTo(c.MFA.Store, s.cfg.Tenants.Store, s.passkeys.Store())
	}
	if len(c.InitialUsers) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.EnsureInitialUsers(ctx); err != nil {
			return nil, fmt.Errorf("simpleuser: Config.InitialUsers: %w", err)
		}
	}
	return s, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// MFA returns the second-factor flows (package mfa).
func (s *Service) MFA() *mfa.Service { return s.mfa }

// Tenants returns the tenant, membership and role API (package tenant).
func (s *Service) Tenants() *tenant.Service { return s.tenants }

// Hooks returns the configured hooks.
func (s *Service) Hooks() hooks.Hooks { return s.hooks }

// Users returns the user store, for the app's own queries.
func (s *Service) Users() user.Store { return s.users }

// Sessions returns the session manager.
func (s *Service) Sessions() *session.Manager { return s.sessions }

// Hasher returns the password hasher (for its concurrency figures).
func (s *Service) Hasher() *password.Hasher { return s.hasher }

// expired reports whether u unregistered longer ago than the grace period.
// A disabled account never expires: it stays, holding its address, so that
// unregistering cannot turn a disabled account into a fresh one.
func (s *Service) expired(u *user.User, now time.Time) bool {
	if !u.Unregistered() || u.Disabled {
		return false
	}
	if s.cfg.UnregisterGrace < 0 {
		return true
	}
	return !now.Before(u.UnregisterTime.Add(s.cfg.UnregisterGrace))
}

// maxRetries bounds optimistic-update retries.
const maxRetries = 8

// update loads the user id, applies fn and writes it, retrying when a
// concurrent writer bumped the version first.
func (s *Service) update(ctx context.Context, id int64, fn func(u *user.User) error) (*user.User, error) {
	for i := 0; ; i++ {
		u, err := s.users.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(u); err != nil {
			return nil, err
		}
		err = s.users.Update(ctx, u)
		if errors.Is(err, user.ErrConflict) && i < maxRetries {
			continue
		}
		return u, err
	}
}
