package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/exampleapp/web"
	"github.com/simpleuser/simpleuser/oauth"
)

// builtinProviders are the sign-in providers the exampleapp can enable,
// each by its -NAME-client-id and -NAME-client-secret flags.
var builtinProviders = []struct {
	name, label string
	make        func(oauth.Config) (oauth.Provider, error)
}{
	{"google", "Google", oauth.NewGoogle},
	{"github", "GitHub", oauth.NewGitHub},
	{"facebook", "Facebook", oauth.NewFacebook},
	{"x", "X", oauth.NewX},
	{"tiktok", "TikTok", oauth.NewTikTok},
	{"linkedin", "LinkedIn", oauth.NewLinkedIn},
}

// providerSettings are the sign-in provider flags.
type providerSettings struct {
	publicURL         string
	linkVerifiedEmail bool
	// credentials of the built-in providers, by name: client id and secret.
	clientIDs, clientSecrets map[string]*string
	oidcIssuer, oidcName     string
	oidcID, oidcSecret       string
	oidcLabel                string
}

// defineProviderFlags registers the provider flags on fs, each with an
// environment twin (SIMPLEUSER_GOOGLE_CLIENT_ID for -google-client-id...).
func defineProviderFlags(fs *flag.FlagSet, p *providerSettings) {
	fs.StringVar(&p.publicURL, "public-url", envOr("SIMPLEUSER_PUBLIC_URL", "http://localhost:8080"), "the app's public base URL; redirect URIs are PUBLIC_URL/api/oauth/NAME/callback (SIMPLEUSER_PUBLIC_URL)")
	fs.BoolVar(&p.linkVerifiedEmail, "link-verified-email", envBool("SIMPLEUSER_LINK_VERIFIED_EMAIL", false), "let a provider sign-in join the account of an address the provider verified (SIMPLEUSER_LINK_VERIFIED_EMAIL)")
	p.clientIDs, p.clientSecrets = map[string]*string{}, map[string]*string{}
	for _, b := range builtinProviders {
		env := "SIMPLEUSER_" + strings.ToUpper(b.name)
		p.clientIDs[b.name] = fs.String(b.name+"-client-id", getenv(env+"_CLIENT_ID"), b.label+" OAuth client id ("+env+"_CLIENT_ID)")
		p.clientSecrets[b.name] = fs.String(b.name+"-client-secret", getenv(env+"_CLIENT_SECRET"), b.label+" OAuth client secret ("+env+"_CLIENT_SECRET)")
	}
	fs.StringVar(&p.oidcIssuer, "oidc-issuer", getenv("SIMPLEUSER_OIDC_ISSUER"), "issuer URL of an OpenID Connect provider, discovered at start (SIMPLEUSER_OIDC_ISSUER)")
	fs.StringVar(&p.oidcID, "oidc-client-id", getenv("SIMPLEUSER_OIDC_CLIENT_ID"), "its client id (SIMPLEUSER_OIDC_CLIENT_ID)")
	fs.StringVar(&p.oidcSecret, "oidc-client-secret", getenv("SIMPLEUSER_OIDC_CLIENT_SECRET"), "its client secret (SIMPLEUSER_OIDC_CLIENT_SECRET)")
	fs.StringVar(&p.oidcName, "oidc-name", envOr("SIMPLEUSER_OIDC_NAME", "oidc"), "its provider name in routes (SIMPLEUSER_OIDC_NAME)")
	fs.StringVar(&p.oidcLabel, "oidc-label", envOr("SIMPLEUSER_OIDC_LABEL", "OpenID Connect"), "its name on the sign-in page (SIMPLEUSER_OIDC_LABEL)")
}

// configureProviders adds the configured providers to cfg.OAuth and returns
// the page's buttons, in flag order. A provider is configured when its
// client id is set; its secret is then required. Each may send the
// browser back to two redirect URIs: the API's sign-in callback
// (PUBLIC_URL/api/oauth/NAME/callback) and the page's link callback
// (PUBLIC_URL/account/link/NAME); register both with the provider.
func configureProviders(ctx context.Context, p providerSettings, cfg *simpleuser.Config) ([]web.Provider, error) {
	root := strings.TrimRight(p.publicURL, "/")
	var links []web.Provider
	add := func(name, label string, make func(oauth.Config) (oauth.Provider, error), id, secret string) error {
		if id == "" && secret == "" {
			return nil
		}
		if id == "" || secret == "" {
			return fmt.Errorf("-%s-client-id and -%s-client-secret go together", name, name)
		}
		if base, err := url.Parse(p.publicURL); err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return fmt.Errorf("-public-url %q: want an absolute http(s) URL", p.publicURL)
		}
		prov, err := make(oauth.Config{ClientID: id, ClientSecret: secret})
		if err != nil {
			return err
		}
		signIn := root + "/api/oauth/" + prov.Name() + "/callback"
		link := root + "/account/link/" + prov.Name()
		cfg.OAuth.Providers = append(cfg.OAuth.Providers, prov)
		if cfg.OAuth.AllowedRedirects == nil {
			cfg.OAuth.AllowedRedirects = map[string][]string{}
		}
		cfg.OAuth.AllowedRedirects[prov.Name()] = append(cfg.OAuth.AllowedRedirects[prov.Name()], signIn, link)
		links = append(links, web.Provider{Name: prov.Name(), Label: label, SignInRedirectURI: signIn, LinkRedirectURI: link})
		return nil
	}
	for _, b := range builtinProviders {
		if err := add(b.name, b.label, b.make, deref(p.clientIDs[b.name]), deref(p.clientSecrets[b.name])); err != nil {
			return nil, err
		}
	}
	if p.oidcIssuer != "" || p.oidcID != "" {
		if p.oidcIssuer == "" {
			return nil, fmt.Errorf("-oidc-client-id needs -oidc-issuer")
		}
		oidc := func(c oauth.Config) (oauth.Provider, error) { return oauth.NewOIDC(ctx, p.oidcName, p.oidcIssuer, c) }
		if err := add("oidc", p.oidcLabel, oidc, p.oidcID, p.oidcSecret); err != nil {
			return nil, fmt.Errorf("-oidc-issuer %s: %w", p.oidcIssuer, err)
		}
	}
	cfg.OAuth.LinkVerifiedEmail = p.linkVerifiedEmail
	return links, nil
}

// deref is *p, or "" for nil (settings not made by parseFlags).
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
