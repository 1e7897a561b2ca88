// Package signin is the service's sign-in with OAuth 2.0 / OpenID Connect
// providers (simpleuser.Service.OAuthStart, OAuthSignIn, OAuthLink): the
// flow of package oauth (state, code exchange, profile), the checks of the
// profile, and the rules that choose the account a provider account signs
// in to. The service lends it what only the service has (Deps) and, per
// request, the way into an account (Entry).
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/user"
)

// Config configures sign-in with providers (simpleuser.Config.OAuth). The
// flow states live in simpleuser.Config.Codes (so on Redis, every instance
// shares them).
type Config struct {
	// Providers are the configured providers (oauth.NewGoogle, NewGitHub,
	// NewFacebook, NewX, NewTikTok, NewLinkedIn, NewOIDC or the app's own),
	// with distinct names. None: provider sign-in is off (404).
	Providers []oauth.Provider
	// AllowedRedirects maps each provider's name to the exact redirect URIs
	// its flows may use: the callback URLs registered with that provider,
	// e.g. {"google": {"https://app.example/api/oauth/google/callback"}}.
	// Matching is exact and per provider (a start for google with github's
	// callback is 400 REDIRECT_NOT_ALLOWED). New fails when a provider has
	// none, when a key names no provider, or when a URI is not an absolute
	// http(s) URL without fragment (see oauth.FlowOptions.AllowedRedirects).
	AllowedRedirects map[string][]string
	// LinkVerifiedEmail lets a first sign-in with a provider account join the
	// existing account holding the same address, when the provider vouches
	// for the address (Profile.EmailVerified). Default false: such a sign-in
	// creates a new account without that address, because an account must
	// never be taken over through a provider's claim the app did not opt
	// into. An unverified address never links, whatever this says.
	LinkVerifiedEmail bool
	// StateTTL is how long a started flow waits for its callback. Default
	// 10 min (oauth.DefaultStateTTL).
	StateTTL time.Duration
	// HTTPClient makes the calls to the providers. Default: a client with a
	// 10-second timeout. Its Timeout must be set.
	HTTPClient *http.Client
}

// Deps is what the service lends the flow (simpleuser.New fills it).
type Deps struct {
	Users user.Store
	// WithTx runs fn in one transaction of the user store; events emitted
	// inside are delivered after commit.
	WithTx func(ctx context.Context, fn func(ctx context.Context) error) error
	// Expired reports whether u's unregister grace period is over at now.
	Expired func(u *user.User, now time.Time) bool
	// Delete revokes every session of u and deletes it, inside the
	// current transaction (BeforeDelete, UserDeleted).
	Delete func(ctx context.Context, u *user.User) error
	// PurgeExpiredHolder deletes the account holding email if its grace
	// period is over at now, inside the current transaction.
	PurgeExpiredHolder func(ctx context.Context, email string, now time.Time) error
	Now                func() time.Time
	Log                *slog.Logger
}

// Entry is the way into an account for one request (its client), lent by
// the service to SignIn.
type Entry struct {
	// Enter signs in to the existing account id, inside the current
	// transaction, with the provider account idn: touched, or, with link
	// (the account of the address the provider verified), linked first and
	// the address counted as verified. It refuses a disabled account.
	Enter func(ctx context.Context, id int64, idn *user.Identity, link bool) (*user.User, error)
	// Register makes a new account of the device's anonymous user, inside
	// the current transaction, with email ("" for none), the signup
	// payload and idn linked.
	Register func(ctx context.Context, email string, payload hooks.Payload, idn *user.Identity) (*user.User, error)
}

// ErrProfileText: the provider's profile holds text no backend can store.
var ErrProfileText = errors.New("signin: the provider's profile is not storable text")

// Service runs the flow. Create it with New.
type Service struct {
	cfg  Config
	d    Deps
	flow *oauth.Flow // nil when no provider is configured
}

// New returns the flow, its states kept in codes; the error of
// oauth.NewFlow for a bad Config.
func New(cfg Config, codes code.Store, d Deps) (*Service, error) {
	s := &Service{cfg: cfg, d: d}
	if len(cfg.Providers) > 0 {
		flow, err := oauth.NewFlow(codes, cfg.Providers, oauth.FlowOptions{
			StateTTL: cfg.StateTTL, AllowedRedirects: cfg.AllowedRedirects, Now: d.Now, HTTPClient: cfg.HTTPClient,
		})
		if err != nil {
			return nil, err
		}
		s.flow = flow
	}
	return s, nil
}

// Providers returns the names of the configured providers, in
// configuration order.
func (s *Service) Providers() []string {
	names := make([]string, 0, len(s.cfg.Providers))
	for _, p := range s.cfg.Providers {
		names = append(names, p.Name())
	}
	return names
}

// Start is oauth.Flow.Start (oauth.ErrUnknownProvider with no provider
// configured).
func (s *Service) Start(ctx context.Context, provider, ssaid, redirectURI string) (string, error) {
	if s.flow == nil {
		return "", fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, provider)
	}
	return s.flow.Start(ctx, provider, ssaid, redirectURI)
}

// Callback checks and consumes the flow's state for the device ssaid and
// exchanges the code (oauth.Flow.Callback), and checks the profile: a
// subject (oauth.ErrExchange) and storable text (ErrProfileText). A
// failure of the provider (5xx) is logged.
func (s *Service) Callback(ctx context.Context, provider, ssaid, state, code, errParam string) (*oauth.Profile, error) {
	if s.flow == nil {
		return nil, fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, provider)
	}
	prof, _, err := s.flow.Callback(ctx, provider, ssaid, state, code, errParam)
	if err != nil {
		if oauth.HTTPStatus(err) >= http.StatusInternalServerError {
			s.d.Log.WarnContext(ctx, "simpleuser: provider sign-in failed", slog.String("provider", provider), slog.Any("error", err))
		}
		return nil, err
	}
	if prof.Subject == "" {
		return nil, fmt.Errorf("%w: %s returned no subject", oauth.ErrExchange, provider)
	}
	for _, f := range []string{prof.Subject, prof.Email, prof.Name, prof.AvatarURL} {
		if !textcheck.String(f) {
			return nil, ErrProfileText
		}
	}
	return prof, nil
}

// SignIn signs prof in by the rules of simpleuser.Service.OAuthSignIn and
// returns the account, and whether it was created; a concurrent first
// sign-in with the same provider account (or address) is retried, which
// signs in to the account it made. On an error it may return the account
// that refused (disabled).
func (s *Service) SignIn(ctx context.Context, prof *oauth.Profile, e Entry) (u *user.User, created bool, err error) {
	for i := 0; ; i++ {
		u, created, err = s.signIn(ctx, prof, e)
		if (errors.Is(err, user.ErrIdentityTaken) || errors.Is(err, user.ErrEmailTaken)) && i < 3 {
			continue
		}
		return u, created, err
	}
}

func (s *Service) signIn(ctx context.Context, prof *oauth.Profile, e Entry) (u *user.User, created bool, err error) {
	idn := Identity(prof)
	err = s.d.WithTx(ctx, func(ctx context.Context) error {
		now := s.d.Now()
		// Rule 1: the provider account is linked.
		had, err := s.d.Users.GetIdentity(ctx, prof.Provider, prof.Subject)
		switch {
		case err == nil:
			holder, err := s.d.Users.Get(ctx, had.UserID)
			if err != nil {
				return err
			}
			if !s.d.Expired(holder, now) {
				return enter(ctx, e, holder, idn, false, &u)
			}
			// Past its unregister grace period, the account is gone: delete
			// it (its identities go with it) and sign up afresh.
			if err := s.d.Delete(ctx, holder); err != nil {
				return err
			}
		case !errors.Is(err, user.ErrNotFound):
			return err
		}

		email := ""
		if prof.EmailVerified && user.ValidEmail(prof.Email) {
			email = user.NormalizeEmail(prof.Email)
			if err := s.d.PurgeExpiredHolder(ctx, email, now); err != nil {
				return err
			}
			holder, err := s.d.Users.GetByEmail(ctx, email)
			switch {
			case errors.Is(err, user.ErrNotFound):
			case err != nil:
				return err
			case s.cfg.LinkVerifiedEmail:
				// Rule 2: join the account of the verified address, which
				// the provider vouched for.
				return enter(ctx, e, holder, idn, true, &u)
			default:
				email = "" // the address is another account's: the new one goes without
			}
		}

		// Rule 3: a new account, upgrading the device's anonymous user.
		u, err = e.Register(ctx, email, Payload(prof), idn)
		created = err == nil
		return err
	})
	if err != nil {
		return u, false, err
	}
	return u, created, nil
}

// enter is e.Enter into holder; on a refusal (disabled) *u is holder.
func enter(ctx context.Context, e Entry, holder *user.User, idn *user.Identity, link bool, u **user.User) error {
	var err error
	if *u, err = e.Enter(ctx, holder.ID, idn, link); err != nil {
		*u = holder
	}
	return err
}

// Identity is the identity a profile signs in as.
func Identity(p *oauth.Profile) *user.Identity {
	return &user.Identity{Provider: p.Provider, Subject: p.Subject, Email: p.Email, EmailVerified: p.EmailVerified}
}

// Payload is the payload of a provider sign-up: the provider's name and
// the profile's display name and picture, for BeforeCreate and
// AfterCreate (e.g. to fill the app's nickname).
func Payload(p *oauth.Profile) hooks.Payload {
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
