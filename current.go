package simpleuser

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
)

// session resolves a token to its session, mapping "not found" to ErrInvalidToken.
func (s *Service) session(ctx context.Context, token string) (*session.Data, error) {
	d, err := s.sessions.Get(ctx, token)
	if errors.Is(err, session.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	return d, err
}

// ResolveUser returns the current user of c: the user of c.Token's session
// when a token is given, else the anonymous user of c.SSAID, created on
// first need. Errors: 401 bad token or (anonymous users off) no token; 400
// no or malformed ssaid; 403 ACCOUNT_DISABLED; 429 TOO_MANY_ANONYMOUS_USERS
// when creating the anonymous user would exceed the client address's
// budget (Config.AnonymousAddressLimit).
func (s *Service) ResolveUser(ctx context.Context, c Client) (*user.User, error) {
	if c.Token != "" {
		d, err := s.session(ctx, c.Token)
		if err == nil {
			err = fullSession(d)
		}
		if err != nil {
			return nil, err
		}
		return s.userOfSession(ctx, c, d)
	}
	return s.anonymousUser(ctx, c)
}

func (s *Service) userOfSession(ctx context.Context, c Client, d *session.Data) (*user.User, error) {
	u, err := s.users.Get(ctx, d.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if u.Unregistered() {
		return nil, ErrInvalidToken
	}
	if u.Disabled {
		return nil, blocked(u)
	}
	s.touch(ctx, u, c)
	return s.afterLoad(ctx, u)
}

func (s *Service) afterLoad(ctx context.Context, u *user.User) (*user.User, error) {
	if s.hooks.AfterLoadUser == nil {
		return u, nil
	}
	out, err := s.hooks.AfterLoadUser(ctx, u)
	if err != nil || out == nil {
		return u, err
	}
	return out, nil
}

func (s *Service) anonymousUser(ctx context.Context, c Client) (*user.User, error) {
	if s.cfg.DisableAnonymous {
		return nil, ErrAuthRequired
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	u, err := s.users.GetAnonymous(ctx, c.SSAID)
	if errors.Is(err, user.ErrNotFound) {
		u, err = s.createAnonymous(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, blocked(u)
	}
	s.touch(ctx, u, c)
	return s.afterLoad(ctx, u)
}

// createAnonymous creates the anonymous user of c.SSAID (or returns the one
// a concurrent request just created), within the budget of anonymous users
// per client address (Config.AnonymousAddressLimit): 429 beyond it, so one
// address rotating ssaids cannot grow the users table without bound.
func (s *Service) createAnonymous(ctx context.Context, c Client) (*user.User, error) {
	now := s.now()
	var taken []string
	id := risk.NewID()
	if b := IPBucket(c.IP); b != "" {
		limits := []risk.Limit{s.limits.Anonymous(b)}
		wait, err := s.limits.Take(ctx, limits, id)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			return nil, anonymousBudgetError(wait)
		}
		taken = risk.Keys(limits)
	}
	u, err := s.users.GetOrCreateAnonymous(ctx, c.SSAID, now)
	if err != nil {
		s.limits.Release(ctx, taken, id) // nothing was created
		return nil, err
	}
	return u, nil
}

// touch records last activity at most once per ActiveTouchInterval per user,
// so resolving the current user is not a write per request.
func (s *Service) touch(ctx context.Context, u *user.User, c Client) {
	if s.cfg.ActiveTouchInterval < 0 {
		return
	}
	now := s.now()
	if !u.LastActiveTime.IsZero() && now.Sub(u.LastActiveTime) < s.cfg.ActiveTouchInterval {
		return
	}
	ip := c.IP.String()
	if !c.IP.IsValid() {
		ip = ""
	}
	if err := s.users.TouchActive(ctx, u.ID, ip, now); err != nil {
		s.logTouchError(ctx, err)
		return
	}
	u.LastActiveIP, u.LastActiveTime = ip, now
}

type ctxKey struct{}

// request is the lazily resolved identity of one request. It is also the
// request's context (its parent's, plus itself under ctxKey), so that
// WithClient allocates one object, not two.
type request struct {
	context.Context
	svc    *Service
	client Client

	mu       sync.Mutex
	sessDone bool
	sess     *session.Data
	sessErr  error
	userDone bool
	user     *user.User
	userErr  error
	claims   tenant.Memo // the sign-in's tenant claims (tenant.Service.MemoFrom)
}

// WithClient returns a context carrying c, against which CurrentSession and
// CurrentUser resolve lazily (at most once each, on first call). The
// middleware calls it for every request.
func (s *Service) WithClient(ctx context.Context, c Client) context.Context {
	return &request{Context: ctx, svc: s, client: c}
}

// Value returns r for ctxKey and asks the parent context otherwise.
func (r *request) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return r
	}
	return r.Context.Value(key)
}

func fromContext(ctx context.Context) *request {
	r, _ := ctx.Value(ctxKey{}).(*request)
	return r
}

// ClientFrom returns the client carried by ctx.
func ClientFrom(ctx context.Context) (Client, bool) {
	if r := fromContext(ctx); r != nil {
		return r.client, true
	}
	return Client{}, false
}

// SSAID returns the request's x-client-ssaid ("" when absent).
func SSAID(ctx context.Context) string {
	c, _ := ClientFrom(ctx)
	return c.SSAID
}

// ClientIP returns the request's client address (invalid when unknown).
func ClientIP(ctx context.Context) netip.Addr {
	c, _ := ClientFrom(ctx)
	return c.IP
}

// transient reports errors that must not be memoized (a later call may succeed).
func transient(err error) bool {
	return backend.Name(err) != "" || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// CurrentSession returns the session of the request's x-client-token,
// reading the session store once per request and never the user store.
// It returns (nil, nil) when the request carries no token,
// ErrInvalidToken when the token is unknown, expired or revoked, and 403
// MFA_REQUIRED (with the factors that can complete it) for a sign-in that
// still needs its second factor: such a session opens nothing but the
// factor endpoints (PendingSession) and logout.
func CurrentSession(ctx context.Context) (*session.Data, error) {
	d, err := PendingSession(ctx)
	if err == nil && d != nil {
		err = fullSession(d)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// PendingSession is CurrentSession that also returns a session in the
// challenge stage (d.Stage == session.StageMFA), for the endpoints that
// complete it.
func PendingSession(ctx context.Context) (*session.Data, error) {
	r := fromContext(ctx)
	if r == nil || r.client.Token == "" {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessionLocked(ctx)
}

// fullSession refuses (403 MFA_REQUIRED) a session in the challenge stage.
func fullSession(d *session.Data) error {
	if d.Stage != "" {
		return mfa.MFARequired(mfa.ChallengeFactors(d))
	}
	return nil
}

func (r *request) sessionLocked(ctx context.Context) (*session.Data, error) {
	if r.sessDone {
		return r.sess, r.sessErr
	}
	d, err := r.svc.session(ctx, r.client.Token)
	if !transient(err) {
		r.sessDone, r.sess, r.sessErr = true, d, err
	}
	return d, err
}

// CurrentUser returns the request's user: the session's user when a token
// is sent, else the anonymous user of the ssaid (created on first need). It
// is resolved at most once per request, on first call; a handler that never
// calls it costs no store read.
func CurrentUser(ctx context.Context) (*user.User, error) {
	r := fromContext(ctx)
	if r == nil {
		return nil, ErrAuthRequired
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.userDone {
		return r.user, r.userErr
	}
	var u *user.User
	var err error
	if r.client.Token != "" {
		var d *session.Data
		if d, err = r.sessionLocked(ctx); err == nil {
			if err = fullSession(d); err == nil {
				u, err = r.svc.userOfSession(ctx, r.client, d)
			}
		}
	} else {
		u, err = r.svc.anonymousUser(ctx, r.client)
	}
	if !transient(err) {
		r.userDone, r.user, r.userErr = true, u, err
	}
	return u, err
}

// TokenRejected reports whether the request's token has been looked up
// during this request (by CurrentSession or CurrentUser) and found unknown,
// expired or revoked, or naming a user that is gone: the requests those
// answer 401 INVALID_TOKEN. It reads no store: a token never looked up is
// not rejected. The middleware uses it to clear a dead session cookie.
func TokenRejected(ctx context.Context) bool {
	r := fromContext(ctx)
	if r == nil || r.client.Token == "" {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return (r.sessDone && errors.Is(r.sessErr, ErrInvalidToken)) || (r.userDone && errors.Is(r.userErr, ErrInvalidToken))
}

// RegisteredUser is CurrentUser that also refuses anonymous users (402).
func RegisteredUser(ctx context.Context) (*user.User, error) {
	u, err := CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.Registered() {
		return nil, ErrRegisteredRequired
	}
	return u, nil
}

// blocked is the error for a disabled account u: 403 ACCOUNT_SUSPENDED when
// an administrator suspended it (Nest Auth's code), else 403
// ACCOUNT_DISABLED.
func blocked(u *user.User) error {
	if u.Suspended {
		return ErrAccountSuspended
	}
	return ErrAccountDisabled
}
