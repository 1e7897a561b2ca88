package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// xProvider signs in with X (Twitter) OAuth 2.0 as a confidential client.
type xProvider struct {
	oauth oauth2.Config
	meURL string
}

// NewX returns the "x" provider: OAuth 2.0 authorization code with PKCE
// (mandatory at X), client authenticated with HTTP Basic as X requires of
// confidential clients. The subject is the user id from GET /2/users/me.
// X returns no email, so Profile.Email is always empty.
func NewX(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("x", Config{
		Scopes:      []string{"users.read", "tweet.read"},
		AuthURL:     "https://x.com/i/oauth2/authorize",
		TokenURL:    "https://api.x.com/2/oauth2/token",
		UserInfoURL: "https://api.x.com/2/users/me",
	})
	if err != nil {
		return nil, err
	}
	return &xProvider{
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		},
		meURL: cfg.UserInfoURL,
	}, nil
}

func (p *xProvider) Name() string { return "x" }

func (p *xProvider) AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string {
	c := p.oauth
	c.RedirectURL = redirectURI
	return c.AuthCodeURL(state, challengeOptions(codeChallenge)...)
}

func (p *xProvider) Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error) {
	ctx = withClient(ctx)
	c := p.oauth
	c.RedirectURL = redirectURI
	tok, err := c.Exchange(ctx, code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, exchangeError("x", err)
	}
	var me struct {
		Data struct {
			ID              string `json:"id"`
			Name            string `json:"name"`
			Username        string `json:"username"`
			ProfileImageURL string `json:"profile_image_url"`
		} `json:"data"`
	}
	u := addQuery(p.meURL, url.Values{"user.fields": {"profile_image_url"}})
	if err := getJSON(ctx, "x", "userinfo", u, tok.AccessToken, nil, &me); err != nil {
		return nil, err
	}
	if me.Data.ID == "" {
		return nil, &ProviderError{Provider: "x", Op: "userinfo", Status: http.StatusOK,
			Kind: ErrProviderUnavailable, Err: errors.New("no user id")}
	}
	name := me.Data.Name
	if name == "" {
		name = me.Data.Username
	}
	return &Profile{Provider: "x", Subject: me.Data.ID, Name: name, AvatarURL: me.Data.ProfileImageURL}, nil
}
