package oauth

import (
	"context"
	"errors"
	"strings"
)

// Profile is who the provider says signed in. The service links it to a
// user; this package knows nothing of users.
type Profile struct {
	// Provider is the provider's name ("google", "github", ...).
	Provider string
	// Subject is the provider's stable user id, exactly as the provider
	// sends it (never lower-cased or trimmed): OIDC "sub", GitHub's numeric
	// id in decimal, Facebook's app-scoped id, X's user id, TikTok's open_id.
	// (Provider, Subject) identifies an account; Subject alone does not.
	Subject string
	// Email is the address the provider returned, or "" (X and TikTok never
	// return one).
	Email string
	// EmailVerified is true only when the provider vouches that the user
	// controls Email (see the package doc for each provider's rule). Never
	// link a profile to an existing account by an unverified email.
	EmailVerified bool
	// Name is the display name, if any.
	Name string
	// AvatarURL is a picture URL, if any.
	AvatarURL string
}

// Provider is one sign-in provider. The built-in ones are made by NewGoogle,
// NewGitHub, NewFacebook, NewX, NewTikTok, NewLinkedIn and NewOIDC; an app
// may add its own. Implementations must be safe for concurrent use.
type Provider interface {
	// Name is the provider's fixed lower-case name, used in routes and
	// as Profile.Provider.
	Name() string
	// AuthCodeURL returns the provider's authorization URL carrying state,
	// redirectURI and, where the provider supports them, the OIDC nonce and
	// the PKCE S256 codeChallenge.
	AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string
	// Exchange trades an authorization code for the user's profile, sending
	// codeVerifier where the provider uses PKCE and checking nonce in the ID
	// token where there is one. The HTTP client comes from ctx under
	// oauth2.HTTPClient (Flow puts it there). Errors wrap ErrExchange,
	// ErrBadToken or ErrProviderUnavailable.
	Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error)
}

// Config configures a built-in provider. ClientID and ClientSecret are
// required; every other field has a documented default.
type Config struct {
	// ClientID is the OAuth client id (TikTok calls it the client key).
	ClientID string
	// ClientSecret is the OAuth client secret.
	ClientSecret string
	// Scopes replaces the provider's default scopes (listed in the package
	// doc). Leave nil for the defaults.
	Scopes []string

	// Endpoint overrides, for tests and proxies. Empty means the provider's
	// real endpoint (for NewOIDC: the one from discovery).

	// AuthURL is the authorization endpoint.
	AuthURL string
	// TokenURL is the token endpoint.
	TokenURL string
	// UserInfoURL is the profile endpoint: OIDC userinfo, GitHub's /user
	// (its email list is UserInfoURL + "/emails"), Facebook's Graph /me, X's
	// /2/users/me, TikTok's /v2/user/info/.
	UserInfoURL string
	// Issuer is the ID token issuer expected (OIDC providers only).
	Issuer string
	// JWKSURL is where the ID token signing keys are published (OIDC
	// providers only).
	JWKSURL string

	// UntrustedEmail, when true, makes the provider report every email as
	// unverified, whatever the provider says. Use it for a provider whose
	// verification you do not want to rely on (for example Facebook, whose
	// "confirmed email" is trusted by default).
	UntrustedEmail bool
}

// withDefaults fills empty fields from d and checks the credentials.
func (c Config) withDefaults(name string, d Config) (Config, error) {
	if c.ClientID == "" {
		return c, errors.New("oauth: " + name + ": Config.ClientID is required")
	}
	if c.ClientSecret == "" {
		return c, errors.New("oauth: " + name + ": Config.ClientSecret is required")
	}
	if c.Scopes == nil {
		c.Scopes = d.Scopes
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.AuthURL, d.AuthURL)
	set(&c.TokenURL, d.TokenURL)
	set(&c.UserInfoURL, d.UserInfoURL)
	set(&c.Issuer, d.Issuer)
	set(&c.JWKSURL, d.JWKSURL)
	return c, nil
}

// validName reports whether name can be a provider name: lower-case ASCII
// letters, digits, '-' and '_'.
func validName(name string) bool {
	return name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}
