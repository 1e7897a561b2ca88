package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// tiktokProvider signs in with TikTok Login Kit (v2 OAuth API). TikTok's
// wire format differs from RFC 6749 where this code says so, so it does
// not go through golang.org/x/oauth2.
type tiktokProvider struct {
	cfg Config
}

// NewTikTok returns the "tiktok" provider. Config.ClientID holds the app's
// client key. TikTok's authorization URL and token request name the client
// "client_key" (not client_id), its scopes are comma-separated, and the
// client secret goes in the form body. PKCE (S256) is sent. The subject is
// the open_id returned with the token (checked against GET
// /v2/user/info/). TikTok returns no email.
func NewTikTok(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("tiktok", Config{
		Scopes:      []string{"user.info.basic"},
		AuthURL:     "https://www.tiktok.com/v2/auth/authorize/",
		TokenURL:    "https://open.tiktokapis.com/v2/oauth/token/",
		UserInfoURL: "https://open.tiktokapis.com/v2/user/info/",
	})
	if err != nil {
		return nil, err
	}
	return &tiktokProvider{cfg: cfg}, nil
}

func (p *tiktokProvider) Name() string { return "tiktok" }

func (p *tiktokProvider) AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string {
	return addQuery(p.cfg.AuthURL, url.Values{
		"client_key":            {p.cfg.ClientID},
		"response_type":         {"code"},
		"scope":                 {strings.Join(p.cfg.Scopes, ",")},
		"redirect_uri":          {redirectURI},
		"state":                 {state},
		"code_challenge":        {codeChallenge},
		"code_challenge_method": {"S256"},
	})
}

// tiktokToken is the token endpoint's answer, success or error.
type tiktokToken struct {
	AccessToken      string `json:"access_token"`
	OpenID           string `json:"open_id"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (p *tiktokProvider) Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error) {
	form := url.Values{
		"client_key":    {p.cfg.ClientID},
		"client_secret": {p.cfg.ClientSecret},
		"code":          {code},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {redirectURI},
		"code_verifier": {codeVerifier},
	}
	req, err := http.NewRequest(http.MethodPost, p.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-cache")
	body, err := do(ctx, "tiktok", "token", req)
	if err != nil {
		return nil, err
	}
	var tok tiktokToken
	if err := decodeJSON("tiktok", "token", body, &tok); err != nil {
		return nil, err
	}
	if tok.Error != "" {
		return nil, &ProviderError{Provider: "tiktok", Op: "token", Status: http.StatusOK, Kind: ErrExchange,
			Err: fmt.Errorf("%s: %s", tok.Error, tok.ErrorDescription)}
	}
	if tok.AccessToken == "" || tok.OpenID == "" {
		return nil, &ProviderError{Provider: "tiktok", Op: "token", Status: http.StatusOK,
			Kind: ErrProviderUnavailable, Err: errors.New("no access_token or open_id")}
	}
	var info struct {
		Data struct {
			User struct {
				OpenID      string `json:"open_id"`
				DisplayName string `json:"display_name"`
				AvatarURL   string `json:"avatar_url"`
			} `json:"user"`
		} `json:"data"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	u := addQuery(p.cfg.UserInfoURL, url.Values{"fields": {"open_id,union_id,avatar_url,display_name"}})
	if err := getJSON(ctx, "tiktok", "userinfo", u, tok.AccessToken, nil, &info); err != nil {
		return nil, err
	}
	if info.Error.Code != "" && info.Error.Code != "ok" {
		return nil, &ProviderError{Provider: "tiktok", Op: "userinfo", Status: http.StatusOK, Kind: ErrExchange,
			Err: fmt.Errorf("%s: %s", info.Error.Code, info.Error.Message)}
	}
	if got := info.Data.User.OpenID; got != "" && got != tok.OpenID {
		return nil, &ProviderError{Provider: "tiktok", Op: "userinfo", Status: http.StatusOK, Kind: ErrExchange,
			Err: errors.New("user info open_id differs from the token's")}
	}
	return &Profile{Provider: "tiktok", Subject: tok.OpenID, Name: info.Data.User.DisplayName,
		AvatarURL: info.Data.User.AvatarURL}, nil
}
