package simpleuser

import (
	"context"
	"errors"
	"fmt"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/oauth/signin"
	"github.com/simpleuser/simpleuser/user"
)

// OAuthProviders returns the names of the configured sign-in providers, in
// configuration order.
func (s *Service) OAuthProviders() []string { return s.signin.Providers() }

// OAuthStart begins a sign-in (or a link) with provider for the device
// c.SSAID and returns the provider's authorization URL to send the browser
// to. The flow's state is single-use, bound to the ssaid and stored
// server-side for Config.OAuth.StateTTL; redirectURI must be one of
// Config.OAuth.AllowedRedirects[provider]. Errors: 400 no ssaid or redirect URI not
// allowed (REDIRECT_NOT_ALLOWED), 404 unknown provider (UNKNOWN_PROVIDER),
// 503 state store unavailable.
func (s *Service) OAuthStart(ctx context.Context, c Client, provider, redirectURI string) (string, error) {
	if err := s.oauthClient(c, provider); err != nil {
		return "", err
	}
	return s.signin.Start(ctx, provider, c.SSAID, redirectURI)
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
	u, created, err := s.signin.SignIn(ctx, prof, signin.Entry{
		Enter: func(ctx context.Context, id int64, idn *user.Identity, link bool) (*user.User, error) {
			en := entry{method: "oauth", provider: prof.Provider, identity: idn, link: link}
			if link {
				en.verified = "email"
			}
			return s.enter(ctx, c, id, en)
		},
		Register: func(ctx context.Context, email string, payload hooks.Payload, idn *user.Identity) (*user.User, error) {
			return s.upgradeAnonymous(ctx, c, signup{email: email, payload: payload, method: "oauth", provider: prof.Provider, identity: idn})
		},
	})
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
		return nil, blocked(u)
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
			return blocked(cur)
		}
		idn := signin.Identity(prof)
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

// oauthClient refuses a flow without provider sign-in (404), or from a
// client without a well-formed ssaid (400).
func (s *Service) oauthClient(c Client, provider string) error {
	if len(s.cfg.OAuth.Providers) == 0 {
		return fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, provider)
	}
	if c.SSAID == "" {
		return ErrSSAIDRequired
	}
	return c.check()
}

// oauthCallback checks and consumes the flow's state and exchanges the
// code (signin.Service.Callback).
func (s *Service) oauthCallback(ctx context.Context, c Client, provider, state, code, errParam string) (*oauth.Profile, error) {
	if err := s.oauthClient(c, provider); err != nil {
		return nil, err
	}
	prof, err := s.signin.Callback(ctx, provider, c.SSAID, state, code, errParam)
	if errors.Is(err, signin.ErrProfileText) {
		return nil, errUnstorableText("The provider's profile")
	}
	return prof, err
}

// providerFailed emits LoginFailed for a refused provider sign-in: reason
// "disabled" for a disabled account, "provider" when the flow was refused
// (denied, bad state, bad code or token).
func (s *Service) providerFailed(ctx context.Context, c Client, provider string, prof *oauth.Profile, u *user.User, err error) {
	reason := ""
	switch {
	case errors.Is(err, ErrAccountDisabled):
		reason = "disabled"
	case errors.Is(err, ErrAccountSuspended):
		reason = "suspended"
	case errors.Is(err, oauth.ErrDenied), errors.Is(err, oauth.ErrBadState),
		errors.Is(err, oauth.ErrExchange), errors.Is(err, oauth.ErrBadToken):
		reason = "provider"
	default:
		return
	}
	e := clientEvent(hooks.LoginFailed, u, c)
	e.Reason, e.Provider = reason, provider
	if prof != nil {
		e = identityEvent(e, signin.Identity(prof))
		e.Email = prof.Email
	}
	s.emit(ctx, e)
}
