package simpleuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/user"
)

// OAuthProviders returns the names of the configured sign-in providers, in
// configuration order.
func (s *Service) OAuthProviders() []string {
	names := make([]string, 0, len(s.cfg.OAuth.Providers))
	for _, p := range s.cfg.OAuth.Providers {
		names = append(names, p.Name())
	}
	return names
}

// OAuthStart begins a sign-in (or a link) with provider for the device
// c.SSAID and returns the provider's authorization URL to send the browser
// to. The flow's state is single-use, bound to the ssaid and stored
// server-side for Config.OAuth.StateTTL; redirectURI must be one of
// Config.OAuth.AllowedRedirects[provider]. Errors: 400 no ssaid or redirect URI not
// allowed (REDIRECT_NOT_ALLOWED), 404 unknown provider (UNKNOWN_PROVIDER),
// 503 state store unavailable.
func (s *Service) OAuthStart(ctx context.Context, c Client, provider, redirectURI string) (string, error) {
	if s.flow == nil {
		return "", fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, provider)
	}
	if c.SSAID == "" {
		return "", ErrSSAIDRequired
	}
	if err := c.check(); err != nil {
		return "", err
	}
	return s.flow.Start(ctx, provider, c.SSAID, redirectURI)
}

// OAuthSignIn finishes a provider sign-in from the callback's state, code
// and error parameters, and issues a session exactly as Login does (the
// token c presented is revoked). The account is chosen by these rules:
//
//  1. The provider account (provider, subject) is linked to a user: that
//     user signs in (recovered if unregistered within the grace period).
//  2. Else, with Config.OAuth.LinkVerifiedEmail set and an address the
//     provider verified, the live account holding that address gets the
//     provider account linked and signs in. An unverified address never
//     links.
//  3. Else a new account is registered by upgrading the anonymous user of
//     c.SSAID in place, as a first code login does (BeforeCreate,
//     AfterCreate, OnLogin, UserRegistered), with the provider's address as
//     its email when the provider verified it and no live account holds it.
//
// A disabled account is refused with 403 ACCOUNT_DISABLED. Errors of the
// flow: 403 OAUTH_DENIED (the user refused), OAUTH_STATE (state unknown,
// used, expired, or from another device), OAUTH_EXCHANGE (bad code, bad ID
// token or nonce), 502/503 OAUTH_PROVIDER_UNAVAILABLE, 404 UNKNOWN_PROVIDER.
func (s *Service) OAuthSignIn(ctx context.Context, c Client, provider, state, code, errParam string) (*LoginResult, error) {
	res, err := s.oauthSignIn(ctx, c, provider, state, code, errParam)
	s.observeLogin(metrics.MethodOAuth, provider, res, err)
	return res, err
}

func (s *Service) oauthSignIn(ctx context.Context, c Client, provider, state, code, errParam string) (*LoginResult, error) {
	prof, err := s.oauthCallback(ctx, c, provider, state, code, errParam)
	if err != nil {
		s.providerFailed(ctx, c, provider, nil, nil, err)
		return nil, err
	}
	var (
		u       *user.User
		created bool
	)
	for i := 0; ; i++ {
		u, created, err = s.signInProfile(ctx, c, prof)
		// A concurrent first sign-in with the same provider account linked it
		// (or took its address) first: run again, which signs in to that
		// account (or makes one without the address).
		if (errors.Is(err, user.ErrIdentityTaken) || errors.Is(err, user.ErrEmailTaken)) && i < 3 {
			continue
		}
		break
	}
	if err != nil {
		s.providerFailed(ctx, c, provider, prof, u, err)
		return nil, err
	}
	res, err := s.issue(ctx, c, u, mfa.AMRFederate, prof.Provider)
	if err != nil {
		return nil, err
	}
	res.Created = created
	return res, nil
}

// OAuthLink finishes a provider flow by linking the provider account to u,
// the signed-in user (the client started the flow with OAuthStart from the
// same device). Linking an account u already has succeeds and changes
// nothing. Errors: 409 IDENTITY_TAKEN when another user has the provider
// account (it is never moved), 403 ACCOUNT_DISABLED, 402 for an anonymous
// user, and the flow's errors as for OAuthSignIn. Emits IdentityLinked;
// revokes nothing.
func (s *Service) OAuthLink(ctx context.Context, c Client, u *user.User, provider, state, code, errParam string) (*user.Identity, error) {
	if !u.Registered() {
		return nil, ErrRegisteredRequired
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	prof, err := s.oauthCallback(ctx, c, provider, state, code, errParam)
	if err != nil {
		return nil, err
	}
	var out *user.Identity
	err = s.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.users.Get(ctx, u.ID)
		if errors.Is(err, user.ErrNotFound) {
			return ErrInvalidToken
		}
		if err != nil {
			return err
		}
		if cur.Disabled {
			return ErrAccountDisabled
		}
		idn := identityOf(prof)
		had, err := s.users.GetIdentity(ctx, prof.Provider, prof.Subject)
		switch {
		case err == nil && had.UserID != cur.ID:
			return ErrIdentityTaken
		case err == nil: // already linked to u: nothing to do
			out = had
			return nil
		case !errors.Is(err, user.ErrNotFound):
			return err
		}
		if err := s.linkIdentity(ctx, c, cur, idn); err != nil {
			return err
		}
		out = idn
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// oauthCallback checks and consumes the flow's state and exchanges the code.
func (s *Service) oauthCallback(ctx context.Context, c Client, provider, state, code, errParam string) (*oauth.Profile, error) {
	if s.flow == nil {
		return nil, fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, provider)
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	prof, _, err := s.flow.Callback(ctx, provider, c.SSAID, state, code, errParam)
	if err != nil {
		if oauth.HTTPStatus(err) >= http.StatusInternalServerError {
			s.log.WarnContext(ctx, "simpleuser: provider sign-in failed", slog.String("provider", provider), slog.Any("error", err))
		}
		return nil, err
	}
	if prof.Subject == "" {
		return nil, fmt.Errorf("%w: %s returned no subject", oauth.ErrExchange, provider)
	}
	for _, f := range []string{prof.Subject, prof.Email, prof.Name, prof.AvatarURL} {
		if !textcheck.String(f) {
			return nil, errUnstorableText("The provider's profile")
		}
	}
	return prof, nil
}

// signInProfile applies the linking rules of OAuthSignIn in one
// transaction and returns the account signed in, and whether it was
// created. On an error it may return the account that refused (disabled).
func (s *Service) signInProfile(ctx context.Context, c Client, prof *oauth.Profile) (u *user.User, created bool, err error) {
	idn := identityOf(prof)
	en := entry{method: "oauth", provider: prof.Provider, identity: idn}
	err = s.WithTx(ctx, func(ctx context.Context) error {
		now := s.now()
		// Rule 1: the provider account is linked.
		had, err := s.users.GetIdentity(ctx, prof.Provider, prof.Subject)
		switch {
		case err == nil:
			holder, err := s.users.Get(ctx, had.UserID)
			if err != nil {
				return err
			}
			if !s.expired(holder, now) {
				u, err = s.enter(ctx, c, holder.ID, en)
				if errors.Is(err, ErrAccountDisabled) {
					u = holder
				}
				return err
			}
			// Past its unregister grace period, the account is gone: delete
			// it (its identities go with it) and sign up afresh.
			if _, err := s.revokeUser(ctx, holder.ID, metrics.EndedDeleted); err != nil {
				return err
			}
			if err := s.deleteInTx(ctx, holder); err != nil {
				return err
			}
		case !errors.Is(err, user.ErrNotFound):
			return err
		}

		email := ""
		if prof.EmailVerified && user.ValidEmail(prof.Email) {
			email = user.NormalizeEmail(prof.Email)
			if err := s.purgeExpiredHolder(ctx, email, now); err != nil {
				return err
			}
			holder, err := s.users.GetByEmail(ctx, email)
			switch {
			case errors.Is(err, user.ErrNotFound):
			case err != nil:
				return err
			case s.cfg.OAuth.LinkVerifiedEmail:
				// Rule 2: join the account of the verified address.
				en.link = true
				u, err = s.enter(ctx, c, holder.ID, en)
				if errors.Is(err, ErrAccountDisabled) {
					u = holder
				}
				return err
			default:
				email = "" // the address is another account's: the new one goes without
			}
		}

		// Rule 3: a new account, upgrading the device's anonymous user.
		u, err = s.upgradeAnonymous(ctx, c, signup{
			email: email, payload: signupPayload(prof), method: "oauth", provider: prof.Provider, identity: idn,
		})
		created = err == nil
		return err
	})
	if err != nil {
		return u, false, err
	}
	return u, created, nil
}

// providerFailed emits LoginFailed for a refused provider sign-in: reason
// "disabled" for a disabled account, "provider" when the flow was refused
// (denied, bad state, bad code or token).
func (s *Service) providerFailed(ctx context.Context, c Client, provider string, prof *oauth.Profile, u *user.User, err error) {
	reason := ""
	switch {
	case errors.Is(err, ErrAccountDisabled):
		reason = "disabled"
	case errors.Is(err, oauth.ErrDenied), errors.Is(err, oauth.ErrBadState),
		errors.Is(err, oauth.ErrExchange), errors.Is(err, oauth.ErrBadToken):
		reason = "provider"
	default:
		return
	}
	e := clientEvent(hooks.LoginFailed, u, c)
	e.Reason, e.Provider = reason, provider
	if prof != nil {
		e = identityEvent(e, identityOf(prof))
		e.Email = prof.Email
	}
	s.emit(ctx, e)
}

// identityOf is the identity a profile signs in as.
func identityOf(p *oauth.Profile) *user.Identity {
	return &user.Identity{Provider: p.Provider, Subject: p.Subject, Email: p.Email, EmailVerified: p.EmailVerified}
}

// signupPayload is the payload of a provider sign-up: the provider's name
// and the profile's display name and picture, for BeforeCreate and
// AfterCreate (e.g. to fill the app's nickname).
func signupPayload(p *oauth.Profile) hooks.Payload {
	out := hooks.Payload{}
	for k, v := range map[string]string{"provider": p.Provider, "name": p.Name, "avatarUrl": p.AvatarURL} {
		if v == "" {
			continue
		}
		if b, err := json.Marshal(v); err == nil {
			out[k] = b
		}
	}
	return out
}
