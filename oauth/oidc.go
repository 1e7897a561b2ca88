package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

var (
	errNoKeys    = errors.New("no usable signing keys")
	errNoIDToken = errors.New("token response has no id_token")
)

// oidcProvider is an OpenID Connect provider: the identity comes from the
// ID token returned by the token endpoint, verified with go-oidc against
// the provider's JWKS (signature, issuer, audience = client id, expiry),
// then its nonce is compared with the flow's.
type oidcProvider struct {
	name        string
	oauth       oauth2.Config
	issuer      string
	algs        []string // accepted signing algorithms
	keys        *keySet
	userInfoURL string
	pkce        bool // send code_challenge / code_verifier
	// nonceOptional accepts an ID token without a nonce claim (LinkedIn
	// never echoes it). A nonce that is present must still match.
	nonceOptional  bool
	untrustedEmail bool
}

func (p *oidcProvider) Name() string { return p.name }

func (p *oidcProvider) AuthCodeURL(state, nonce, codeChallenge, redirectURI string) string {
	c := p.oauth
	c.RedirectURL = redirectURI
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce)}
	if p.pkce {
		opts = append(opts, challengeOptions(codeChallenge)...)
	}
	return c.AuthCodeURL(state, opts...)
}

func (p *oidcProvider) Exchange(ctx context.Context, code, codeVerifier, nonce, redirectURI string) (*Profile, error) {
	ctx = withClient(ctx)
	c := p.oauth
	c.RedirectURL = redirectURI
	var opts []oauth2.AuthCodeOption
	if p.pkce {
		opts = append(opts, oauth2.VerifierOption(codeVerifier))
	}
	tok, err := c.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, exchangeError(p.name, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, p.tokenError(errNoIDToken)
	}
	claims, err := p.verify(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	prof := &Profile{
		Provider:      p.name,
		Subject:       claims.Subject,
		Email:         claims.Email,
		EmailVerified: bool(claims.EmailVerified) && claims.Email != "",
		Name:          claims.Name,
		AvatarURL:     claims.Picture,
	}
	if prof.Email == "" && p.userInfoURL != "" {
		if err := p.fillFromUserInfo(ctx, tok.AccessToken, prof); err != nil {
			return nil, err
		}
	}
	if p.untrustedEmail {
		prof.EmailVerified = false
	}
	return prof, nil
}

// idClaims are the ID token (and userinfo) claims this package reads.
type idClaims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
	Picture       string   `json:"picture"`
}

// flexBool decodes true, false, "true" and "false" (some providers send the
// boolean claims as strings); anything else is false.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	*b = flexBool(s == "true")
	return nil
}

// verify checks the ID token and returns its claims.
func (p *oidcProvider) verify(ctx context.Context, raw, nonce string) (*idClaims, error) {
	algs := make([]jose.SignatureAlgorithm, len(p.algs))
	for i, a := range p.algs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSigned(raw, algs)
	if err != nil {
		return nil, p.tokenError(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, p.tokenError(errors.New("want exactly one signature"))
	}
	pubs, err := p.keys.publicKeys(ctx, jws.Signatures[0].Header.KeyID)
	if err != nil {
		return nil, err
	}
	if len(pubs) == 0 {
		return nil, p.tokenError(fmt.Errorf("no key with id %q", jws.Signatures[0].Header.KeyID))
	}
	v := oidc.NewVerifier(p.issuer, &oidc.StaticKeySet{PublicKeys: pubs},
		&oidc.Config{ClientID: p.oauth.ClientID, SupportedSigningAlgs: p.algs})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, p.tokenError(err)
	}
	// A missing nonce is tolerated only where the provider never sends one
	// (LinkedIn): the code was redeemed directly at its token endpoint by
	// us, with our client secret, for a state that is single-use and bound
	// to the device. A nonce that is present must always match.
	tolerated := idt.Nonce == "" && p.nonceOptional
	if !tolerated && (nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1) {
		return nil, p.tokenError(errors.New("nonce mismatch"))
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		return nil, p.tokenError(err)
	}
	if claims.Subject == "" {
		return nil, p.tokenError(errors.New("no sub claim"))
	}
	return &claims, nil
}

func (p *oidcProvider) tokenError(err error) error {
	return &ProviderError{Provider: p.name, Op: "id_token", Kind: ErrBadToken, Err: err}
}

// fillFromUserInfo takes the email from the userinfo endpoint when the ID
// token had none; the userinfo "sub" must be the ID token's.
func (p *oidcProvider) fillFromUserInfo(ctx context.Context, accessToken string, prof *Profile) error {
	var ui idClaims
	if err := getJSON(ctx, p.name, "userinfo", p.userInfoURL, accessToken, nil, &ui); err != nil {
		return err
	}
	if ui.Subject != prof.Subject {
		return p.tokenError(errors.New("userinfo sub differs from the ID token's"))
	}
	prof.Email = ui.Email
	prof.EmailVerified = bool(ui.EmailVerified) && ui.Email != ""
	if prof.Name == "" {
		prof.Name = ui.Name
	}
	if prof.AvatarURL == "" {
		prof.AvatarURL = ui.Picture
	}
	return nil
}

// challengeOptions are the PKCE parameters of an authorization URL.
func challengeOptions(challenge string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", challenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}
}

// newOIDCProvider builds an oidcProvider from a complete Config.
func newOIDCProvider(name string, cfg Config, style oauth2.AuthStyle, algs []string) *oidcProvider {
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	return &oidcProvider{
		name: name,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Scopes:       cfg.Scopes,
			Endpoint:     oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: style},
		},
		issuer:         cfg.Issuer,
		algs:           algs,
		keys:           &keySet{provider: name, url: cfg.JWKSURL},
		userInfoURL:    cfg.UserInfoURL,
		untrustedEmail: cfg.UntrustedEmail,
	}
}

// NewGoogle returns the "google" provider: OpenID Connect with PKCE and a
// nonce; the email is verified when the ID token's email_verified is true.
func NewGoogle(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("google", Config{
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
		AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:    "https://oauth2.googleapis.com/token",
		UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		Issuer:      "https://accounts.google.com",
		JWKSURL:     "https://www.googleapis.com/oauth2/v3/certs",
	})
	if err != nil {
		return nil, err
	}
	p := newOIDCProvider("google", cfg, oauth2.AuthStyleInParams, nil)
	p.pkce = true
	return p, nil
}

// NewLinkedIn returns the "linkedin" provider: "Sign In with LinkedIn using
// OpenID Connect", without PKCE (LinkedIn offers it to native apps only).
// LinkedIn does not put the nonce in its ID tokens, so a missing nonce is
// accepted (a present one must match). The email is verified when the ID
// token's email_verified is true.
func NewLinkedIn(cfg Config) (Provider, error) {
	cfg, err := cfg.withDefaults("linkedin", Config{
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
		AuthURL:     "https://www.linkedin.com/oauth/v2/authorization",
		TokenURL:    "https://www.linkedin.com/oauth/v2/accessToken",
		UserInfoURL: "https://api.linkedin.com/v2/userinfo",
		Issuer:      "https://www.linkedin.com/oauth",
		JWKSURL:     "https://www.linkedin.com/oauth/openid/jwks",
	})
	if err != nil {
		return nil, err
	}
	p := newOIDCProvider("linkedin", cfg, oauth2.AuthStyleInParams, nil)
	p.nonceOptional = true
	return p, nil
}

// discovery is the part of an OpenID Provider's metadata NewOIDC reads.
type discovery struct {
	Issuer           string   `json:"issuer"`
	AuthURL          string   `json:"authorization_endpoint"`
	TokenURL         string   `json:"token_endpoint"`
	UserInfoURL      string   `json:"userinfo_endpoint"`
	JWKSURL          string   `json:"jwks_uri"`
	Algorithms       []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// NewOIDC returns a provider named name for any OpenID Connect issuer,
// configured from its discovery document (issuer +
// "/.well-known/openid-configuration"), fetched now with the HTTP client in
// ctx under oauth2.HTTPClient (default: DefaultTimeout). The discovered
// issuer must equal issuer exactly. Non-empty endpoint fields of cfg override
// the discovered ones.
//
// PKCE (S256) and a nonce are always sent; the ID token must carry the
// nonce. The client authenticates with HTTP Basic (client_secret_basic, the
// OIDC default) unless the provider lists only client_secret_post. Default
// scopes: openid email profile. The email is verified when the ID token's
// (or, when the ID token has no email, the userinfo's) email_verified is
// true.
func NewOIDC(ctx context.Context, name, issuer string, cfg Config) (Provider, error) {
	if !validName(name) {
		return nil, fmt.Errorf("oauth: NewOIDC: invalid provider name %q (want lower-case letters, digits, '-', '_')", name)
	}
	if issuer == "" {
		return nil, errors.New("oauth: NewOIDC: issuer is required")
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		_, err := cfg.withDefaults(name, Config{})
		return nil, err
	}
	ctx = withClient(ctx)
	var d discovery
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, name, "discovery", url, "", nil, &d); err != nil {
		return nil, err
	}
	if d.Issuer != issuer {
		return nil, fmt.Errorf("oauth: NewOIDC: discovery issuer %q differs from %q", d.Issuer, issuer)
	}
	cfg, err := cfg.withDefaults(name, Config{
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
		AuthURL:     d.AuthURL,
		TokenURL:    d.TokenURL,
		UserInfoURL: d.UserInfoURL,
		Issuer:      d.Issuer,
		JWKSURL:     d.JWKSURL,
	})
	if err != nil {
		return nil, err
	}
	if cfg.AuthURL == "" || cfg.TokenURL == "" || cfg.JWKSURL == "" {
		return nil, fmt.Errorf("oauth: NewOIDC: %s: discovery lacks authorization_endpoint, token_endpoint or jwks_uri", issuer)
	}
	style := oauth2.AuthStyleInHeader
	if len(d.TokenAuthMethods) > 0 && !slices.Contains(d.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(d.TokenAuthMethods, "client_secret_post") {
		style = oauth2.AuthStyleInParams
	}
	var algs []string
	for _, a := range d.Algorithms {
		if a != "none" && !strings.HasPrefix(a, "HS") {
			algs = append(algs, a)
		}
	}
	p := newOIDCProvider(name, cfg, style, algs)
	p.pkce = true
	return p, nil
}
