package simpleuser

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// LoginInput is the body of POST /login.
type LoginInput struct {
	Email       string
	Phone       string // for LoginByPhone: the number as typed
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
	// MFARequired: the account has MFA on, so Token names a challenge-stage
	// session (short-lived; it opens only the factor endpoints and logout)
	// until a second factor completes it (mfa.Service.Complete); Factors
	// are the kinds that can (mfa.ChallengeFactors).
	MFARequired bool
	Factors     []string
	// TenantID is the tenant the session acts in (0: none; Config.Tenants).
	TenantID int64
}

// Login logs a user in by code or password and issues a session.
//
// An existing account accepts a Login code (consumed) or its password
// (risk-controlled); a login within the unregister grace period recovers the
// account. An unknown email requires a code: the anonymous user of the
// client's ssaid is upgraded in place (same id), after purging an account of
// that email whose grace period is over. A token the client presented is
// revoked (no fixation); a fresh one is issued.
//
// The code is spent only once everything that can fail before the login's
// transaction has passed, and given back if that transaction fails, so a
// login that fails for another reason (503 from a backend, 503 BUSY from the
// hasher, a hook's refusal) leaves it usable; if the session cannot be
// written after the account was committed, the code is given back too, so
// the retry signs in to that account. Errors: 400 invalid input (an
// over-long password before any hashing), 403 wrong code or password or
// ACCOUNT_DISABLED, 404 unknown email with a password only, 429 blocked,
// 503 backend unavailable or hasher busy.
func (s *Service) Login(ctx context.Context, c Client, in LoginInput) (*LoginResult, error) {
	res, err := s.login(ctx, c, in)
	method := metrics.MethodPassword
	if in.Code != "" {
		method = metrics.MethodCode
	}
	s.observeLogin(method, "", res, err)
	return res, err
}

func (s *Service) login(ctx context.Context, c Client, in LoginInput) (*LoginResult, error) {
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	if in.Code == "" && in.Password == "" {
		return nil, ErrCodeOrPassword
	}
	if err := s.checkPasswordMax("password", in.Password); err != nil {
		return nil, err
	}
	if err := checkPayload(in.Extra); err != nil {
		return nil, err
	}
	email := user.NormalizeEmail(in.Email)

	var (
		existing *user.User
		u        *user.User
		claim    *codeClaim
		err      error
	)
	for attempt := 0; ; attempt++ {
		existing, err = s.liveUser(ctx, email) // nil: unknown, or its grace period is over
		if err != nil {
			return nil, err
		}
		if existing != nil {
			u, claim, err = s.loginExisting(ctx, c, existing, in)
		} else {
			u, claim, err = s.register(ctx, c, email, in)
		}
		// Another registration of the address (a provider sign-up, the Go
		// API) committed first: run again, as a login into that account;
		// the failed registration gave the code back, and it proves the
		// address.
		if existing == nil && attempt == 0 && (errors.Is(err, user.ErrEmailTaken) || errors.Is(err, ErrEmailTaken)) {
			continue
		}
		break
	}
	if err != nil {
		s.loginFailed(ctx, c, email, existing, err)
		return nil, err
	}
	amr := mfa.AMRPassword
	if in.Code != "" {
		amr = mfa.AMREmail
	}
	res, err := s.issue(ctx, c, u, amr, "")
	if err != nil {
		s.restore(ctx, claim) // committed, but no session: the retry must succeed
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
	case errors.Is(err, ErrAccountSuspended):
		reason = "suspended"
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

func (s *Service) loginExisting(ctx context.Context, c Client, u *user.User, in LoginInput) (*user.User, *codeClaim, error) {
	var claim *codeClaim
	rehash := false
	method := "code"
	if in.Code != "" {
		var err error
		if claim, err = s.claimCode(ctx, user.EmailKey(u.Email), hooks.PurposeLogin, in.Code); err != nil {
			return nil, nil, err
		}
	} else {
		method = "password"
		var err error
		if rehash, err = s.checkPassword(ctx, c, u, "password", in.Password, ErrInvalidPassword); err != nil {
			return nil, nil, err
		}
	}
	if u.Disabled {
		return nil, nil, blocked(u)
	}
	en := entry{method: method}
	if claim != nil {
		en.verified = "email"
	}
	if rehash { // parameters changed (or a legacy bcrypt hash): upgrade transparently
		if h, err := s.hasher.Hash(ctx, in.Password); err == nil {
			en.newHash = h
		}
	}
	var out *user.User
	err := s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			var err error
			out, err = s.enter(ctx, c, u.ID, en)
			return err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, claim, nil
}

// entry describes a login into an existing account whose credentials were checked.
type entry struct {
	method   string // hooks.LoginInfo.Method
	provider string // for method "oauth"
	newHash  string // a rehashed password to store, if any
	// identity is the provider account signed in with: touched, or linked
	// first when link is set.
	identity *user.Identity
	link     bool
	verified string // "email" or "phone": the code used was sent there
}

// enter logs the account id in, inside the current transaction: it refuses
// a disabled account, recovers one unregistered within the grace period,
// records the login, links or touches the provider identity, then runs
// OnMigrateUser and OnLogin and emits the events. Every login into an
// existing account (code, password, provider) ends here; a registration
// goes through upgradeAnonymous instead.
func (s *Service) enter(ctx context.Context, c Client, id int64, en entry) (*user.User, error) {
	now := s.now()
	out, err := s.update(ctx, id, func(u *user.User) error {
		if u.Disabled {
			return blocked(u)
		}
		u.UnregisterTime = time.Time{} // recovery within the grace period
		u.LoginIP, u.LoginTime = ipString(c), now
		if en.newHash != "" {
			u.PasswordHash = en.newHash
		}
		if en.verified == "email" && u.EmailVerifiedAt.IsZero() {
			u.EmailVerifiedAt = now
		} else if en.verified == "phone" && u.PhoneVerifiedAt.IsZero() {
			u.PhoneVerifiedAt = now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if idn := en.identity; idn != nil {
		idn.UserID, idn.LastUsedAt = out.ID, now
		if en.link {
			if err := s.linkIdentity(ctx, c, out, idn); err != nil {
				return nil, err
			}
		} else if err := s.users.TouchIdentity(ctx, idn.Provider, idn.Subject, idn.Email, idn.EmailVerified, now); err != nil {
			return nil, err
		}
	}
	if s.hooks.OnMigrateUser != nil {
		anon, err := s.users.GetAnonymous(ctx, c.SSAID)
		switch {
		case errors.Is(err, user.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			if err := s.hooks.OnMigrateUser(ctx, anon, out); err != nil {
				return nil, err
			}
		}
	}
	cl, err := s.tenants.LoginClaims(ctx, out.ID)
	if err != nil {
		return nil, err
	}
	if s.hooks.OnLogin != nil {
		info := hooks.LoginInfo{Method: en.method, Provider: en.provider, SSAID: c.SSAID, IP: ipString(c), TenantID: cl.TenantID}
		if err := s.hooks.OnLogin(ctx, out, info); err != nil {
			return nil, err
		}
	}
	s.emit(ctx, tenantEvent(identityEvent(clientEvent(hooks.LoggedIn, out, c), en.identity), cl))
	return out, nil
}

func (s *Service) register(ctx context.Context, c Client, email string, in LoginInput) (*user.User, *codeClaim, error) {
	if in.Code == "" {
		return nil, nil, ErrUserNotFound
	}
	if in.SetPassword != "" {
		if err := s.checkPasswordLength("setPassword", in.SetPassword); err != nil {
			return nil, nil, err
		}
	}
	claim, err := s.claimCode(ctx, user.EmailKey(email), hooks.PurposeLogin, in.Code)
	if err != nil {
		return nil, nil, err
	}
	var hash string
	if in.SetPassword != "" {
		if hash, err = s.hasher.Hash(ctx, in.SetPassword); err != nil {
			return nil, nil, err // the code is not spent: the client retries with it
		}
	}
	var out *user.User
	err = s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			if err := s.purgeExpiredHolder(ctx, email, s.now()); err != nil {
				return err
			}
			var err error
			out, err = s.upgradeAnonymous(ctx, c, signup{email: email, hash: hash, payload: in.Extra, method: "code"})
			return err
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, claim, nil
}

// signup describes an account coming into being.
type signup struct {
	email    string // the account's address, verified ("" for none: a provider sign-up without a usable one)
	phone    string // the account's number (E.164), verified, or ""
	hash     string // password hash, if any
	payload  hooks.Payload
	method   string         // hooks.LoginInfo.Method
	provider string         // for method "oauth"
	identity *user.Identity // provider account to link to the new account, if any
}

// upgradeAnonymous registers an account, inside the current transaction, by
// upgrading the anonymous user of c's ssaid in place (same id): ssaid
// cleared, sp's address and password set, register and login times
// recorded. It runs BeforeCreate, writes the row, links sp.identity, runs
// AfterCreate and OnLogin, and emits UserRegistered (plus IdentityLinked)
// and LoggedIn. Code login and provider sign-up both register through it.
func (s *Service) upgradeAnonymous(ctx context.Context, c Client, sp signup) (*user.User, error) {
	payload := sp.payload
	if payload == nil {
		payload = hooks.Payload{}
	}
	now := s.now()
	var out *user.User
	for i := 0; ; i++ {
		anon, err := s.users.GetOrCreateAnonymous(ctx, c.SSAID, now)
		if err != nil {
			return nil, err
		}
		if anon.Disabled {
			return nil, blocked(anon)
		}
		anon.Email, anon.SSAID, anon.Phone = sp.email, "", sp.phone
		if sp.email != "" { // proved by the code, or asserted verified by the provider
			anon.EmailVerifiedAt = now
		}
		if sp.phone != "" {
			anon.PhoneVerifiedAt = now
		}
		anon.RegisterIP, anon.RegisterTime = ipString(c), now
		anon.LoginIP, anon.LoginTime = ipString(c), now
		anon.UnregisterTime = time.Time{}
		if sp.hash != "" {
			anon.PasswordHash = sp.hash
		}
		if s.hooks.BeforeCreate != nil {
			if err := s.hooks.BeforeCreate(ctx, anon, payload); err != nil {
				return nil, err
			}
		}
		err = s.users.Update(ctx, anon)
		if errors.Is(err, user.ErrConflict) && i < maxRetries {
			continue // upgraded or changed concurrently: take the ssaid's current anonymous user
		}
		if err != nil {
			return nil, err
		}
		out = anon
		break
	}
	if sp.identity != nil { // linked before AfterCreate, so the app can read it there
		sp.identity.UserID = out.ID
		if err := s.users.LinkIdentity(ctx, sp.identity); err != nil {
			return nil, err
		}
	}
	if s.hooks.AfterCreate != nil {
		if err := s.hooks.AfterCreate(ctx, out, payload); err != nil {
			return nil, err
		}
	}
	cl, err := s.tenants.LoginClaims(ctx, out.ID) // AfterCreate may have added a membership
	if err != nil {
		return nil, err
	}
	if s.hooks.OnLogin != nil {
		info := hooks.LoginInfo{Method: sp.method, Provider: sp.provider, SSAID: c.SSAID, IP: ipString(c), Created: true, TenantID: cl.TenantID}
		if err := s.hooks.OnLogin(ctx, out, info); err != nil {
			return nil, err
		}
	}
	reg := identityEvent(clientEvent(hooks.UserRegistered, out, c), sp.identity)
	reg.Payload = payload
	s.emit(ctx, reg)
	if sp.identity != nil {
		s.emit(ctx, identityEvent(clientEvent(hooks.IdentityLinked, out, c), sp.identity))
	}
	s.emit(ctx, tenantEvent(identityEvent(clientEvent(hooks.LoggedIn, out, c), sp.identity), cl))
	return out, nil
}

// issue creates a session for u, signed in by a method (RFC 8176 amr) with
// provider ("" but for a provider sign-in), and revokes the token the
// client presented. The session carries the account's factor state; when
// the account has MFA on (and the sign-in is neither by a provider the app
// exempted nor from a trusted device, mfa.Service.Login) it is a
// challenge-stage session living Config.MFA.ChallengeTTL.
func (s *Service) issue(ctx context.Context, c Client, u *user.User, amr, provider string) (*LoginResult, error) {
	st, challenge, err := s.mfa.Login(ctx, u.ID, amr, provider, c.TrustedDevice)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		ended, err := s.sessions.End(ctx, c.Token)
		if err != nil {
			return nil, err
		}
		if ended != nil {
			s.sessionsEnded(metrics.EndedReplaced, 1)
		}
	}
	now := s.now()
	d := session.Data{UserID: u.ID, IP: ipString(c), UserAgent: textcheck.UserAgent(c.UserAgent),
		AuthAt: now, AMR: []string{amr}, MFA: st.Enabled, Factors: st.Factors, EmailVerified: u.EmailVerified(),
		MustChangePassword: u.MustChangePassword}
	cl, err := s.tenants.LoginClaims(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	cl.Apply(&d)
	exp := now.Add(s.cfg.SessionLifetime)
	if challenge {
		exp = now.Add(s.mfa.ChallengeTTL())
		d.Stage, d.ExpiresAt = session.StageMFA, exp
	}
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
	s.obs.SessionCreated()
	res := &LoginResult{Token: tok, ExpiresAt: exp.UTC(), UserID: u.ID, User: u, MFARequired: challenge, TenantID: d.TenantID}
	if challenge {
		res.Factors = mfa.ChallengeFactors(&d)
	}
	return res, nil
}

func (s *Service) sessionUserData(ctx context.Context, u *user.User) (json.RawMessage, error) {
	m, err := s.hooks.GetSessionUserData(ctx, u.Clone())
	if err != nil || m == nil {
		return nil, err
	}
	return json.Marshal(m)
}

// UserExists reports whether a live account (registered, not past its
// unregister grace period, or disabled) holds email.
func (s *Service) UserExists(ctx context.Context, email string) (bool, error) {
	if err := checkEmail(email); err != nil {
		return false, err
	}
	u, err := s.liveUser(ctx, email)
	return u != nil, err
}
