package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// facebookProvider signs in with Facebook Login (manual flow).
type facebookProvider struct {
	oauth          oauth2.Config
	meURL          string
	untrustedEmail bool
}

// NewFacebook returns the "facebook" provider. Facebook has no ID token in
// the web flow: the subject is the app-scoped id from Graph
// /me?fields=id,name,email,picture, called with appsecret_proof. Graph
// returns an email only when the user has confirmed it, so by default the
// email counts as verified; set Config.UntrustedEmail to decide otherwise.
// No PKCE and no nonce are sent.
func NewFacebook(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("facebook", Config{
		Scopes:      []string{"email", "public_profile"},
		AuthURL:     "https://www.facebook.com/v21.0/dialog/oauth",
		TokenURL:    "https://graph.facebook.com/v21.0/oauth/access_token",
		UserInfoURL: "https://graph.facebook.com/v21.0/me",
	})
	if err != nil {
		return nil, err
	}
	return &facebookProvider{
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		meURL:          cfg.UserInfoURL,
		untrustedEmail: cfg.UntrustedEmail,
	}, nil
}

func (p *facebookProvider) Name() string { return "facebook" }

func (p *facebookProvider) AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string {
	c := p.oauth
	c.RedirectURL = redirectURI
	return c.AuthCodeURL(state)
}

func (p *facebookProvider) Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error) {
	ctx = withClient(ctx)
	c := p.oauth
	c.RedirectURL = redirectURI
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		return nil, exchangeError("facebook", err)
	}
	mac := hmac.New(sha256.New, []byte(p.oauth.ClientSecret))
	mac.Write([]byte(tok.AccessToken))
	q := url.Values{
		"fields":          {"id,name,email,picture"},
		"appsecret_proof": {hex.EncodeToString(mac.Sum(nil))},
	}
	var me struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Email   string `json:"email"`
		Picture struct {
			Data struct {
				URL string `json:"url"`
			} `json:"data"`
		} `json:"picture"`
	}
	if err := getJSON(ctx, "facebook", "userinfo", addQuery(p.meURL, q), tok.AccessToken, nil, &me); err != nil {
		return nil, err
	}
	if me.ID == "" {
		return nil, &ProviderError{Provider: "facebook", Op: "userinfo", Status: http.StatusOK,
			Kind: ErrProviderUnavailable, Err: errors.New("no id")}
	}
	return &Profile{
		Provider:      "facebook",
		Subject:       me.ID,
		Email:         me.Email,
		EmailVerified: me.Email != "" && !p.untrustedEmail,
		Name:          me.Name,
		AvatarURL:     me.Picture.Data.URL,
	}, nil
}

// addQuery appends q to rawURL's query.
func addQuery(rawURL string, q url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	v := u.Query()
	for k, vs := range q {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	return u.String()
}
