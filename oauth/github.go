package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"golang.org/x/oauth2"
)

// githubProvider signs in with a GitHub OAuth app.
type githubProvider struct {
	oauth          oauth2.Config
	userURL        string
	untrustedEmail bool
}

// githubHeader is sent on every GitHub REST API call.
var githubHeader = http.Header{
	"Accept":               {"application/vnd.github+json"},
	"X-Github-Api-Version": {"2022-11-28"},
}

// NewGitHub returns the "github" provider (an OAuth app). GitHub has no ID
// token: the subject is the numeric id from GET /user, in decimal. The
// email is the primary address from GET /user/emails, verified when GitHub
// marks it verified; when that list cannot be read (scope not granted) the
// public email of /user is used, unverified. PKCE (S256) is sent: GitHub
// supports it for OAuth apps, and an authorization server that does not
// ignores the extra parameters.
func NewGitHub(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("github", Config{
		Scopes:      []string{"read:user", "user:email"},
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
	})
	if err != nil {
		return nil, err
	}
	return &githubProvider{
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		userURL:        cfg.UserInfoURL,
		untrustedEmail: cfg.UntrustedEmail,
	}, nil
}

func (p *githubProvider) Name() string { return "github" }

func (p *githubProvider) AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string {
	c := p.oauth
	c.RedirectURL = redirectURI
	return c.AuthCodeURL(state, challengeOptions(codeChallenge)...)
}

func (p *githubProvider) Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error) {
	ctx = withClient(ctx)
	c := p.oauth
	c.RedirectURL = redirectURI
	tok, err := c.Exchange(ctx, code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, exchangeError("github", err)
	}
	var u struct {
		ID        json.Number `json:"id"`
		Login     string      `json:"login"`
		Name      string      `json:"name"`
		Email     string      `json:"email"`
		AvatarURL string      `json:"avatar_url"`
	}
	if err := getJSON(ctx, "github", "userinfo", p.userURL, tok.AccessToken, githubHeader, &u); err != nil {
		return nil, err
	}
	if _, err := u.ID.Int64(); err != nil {
		return nil, &ProviderError{Provider: "github", Op: "userinfo", Status: http.StatusOK,
			Kind: ErrProviderUnavailable, Err: errors.New("no numeric id")}
	}
	prof := &Profile{Provider: "github", Subject: u.ID.String(), Email: u.Email, Name: u.Name, AvatarURL: u.AvatarURL}
	if prof.Name == "" {
		prof.Name = u.Login
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	err = getJSON(ctx, "github", "emails", p.userURL+"/emails", tok.AccessToken, githubHeader, &emails)
	switch {
	case errors.Is(err, ErrExchange):
		// No user:email scope: keep /user's public email, unverified.
	case err != nil:
		return nil, err
	default:
		picked := -1
		for i, e := range emails {
			if e.Primary {
				picked = i
				break
			}
			if e.Verified && picked < 0 {
				picked = i
			}
		}
		if picked >= 0 {
			prof.Email, prof.EmailVerified = emails[picked].Email, emails[picked].Verified
		}
	}
	if p.untrustedEmail || prof.Email == "" {
		prof.EmailVerified = false
	}
	return prof, nil
}
