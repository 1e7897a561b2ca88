package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

func newTestApp(t *testing.T, args ...string) *app {
	t.Helper()
	s, err := parseFlags(args)
	if err != nil {
		t.Fatal(err)
	}
	s.fixedCode = "123456"
	a, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// buttons fetches the page's start page and returns its provider buttons.
func buttons(t *testing.T, a *app) (names, labels, hrefs []string, pg *page) {
	t.Helper()
	pg = newPageClient(t, startPage(t, a)).get("/").want(200, "/")
	names, labels, hrefs = pg.providerButtons()
	return names, labels, hrefs, pg
}

// TestPageListsConfiguredProviders: exactly the providers given
// credentials, in order, each a button starting its flow in redirect mode
// with its allowed callback and returning to the account page; each
// provider also allows the page's link callback.
func TestPageListsConfiguredProviders(t *testing.T) {
	clearProviderEnv(t)
	oidc := oauthtest.NewServer(t, oauthtest.OIDC)
	a := newTestApp(t, "-public-url", "https://app.example/",
		"-github-client-id", "gh-id", "-github-client-secret", "gh-secret",
		"-tiktok-client-id", "tt-key", "-tiktok-client-secret", "tt-secret",
		"-oidc-issuer", oidc.Issuer(), "-oidc-client-id", oidc.ClientID, "-oidc-client-secret", oidc.ClientSecret,
		"-oidc-name", "corp", "-oidc-label", "Corp SSO")
	names, labels, hrefs, _ := buttons(t, a)
	if !slices.Equal(names, []string{"github", "tiktok", "corp"}) || !slices.Equal(labels, []string{"Sign in with GitHub", "Sign in with TikTok", "Sign in with Corp SSO"}) {
		t.Fatalf("buttons %v %v, want github, tiktok, corp", names, labels)
	}
	if got := a.Service.OAuthProviders(); !slices.Equal(got, names) {
		t.Fatalf("service providers %v", got)
	}
	for i, h := range hrefs {
		u, err := url.Parse(h)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Path != "/api/oauth/"+names[i]+"/start" || q.Get("mode") != "redirect" || q.Get("returnTo") != "/account" ||
			q.Get("redirectUri") != "https://app.example/api/oauth/"+names[i]+"/callback" || q.Has("ssaid") {
			t.Fatalf("button %s", h)
		}
		allowed := a.Service.Config().OAuth.AllowedRedirects[names[i]]
		if !slices.Equal(allowed, []string{"https://app.example/api/oauth/" + names[i] + "/callback", "https://app.example/account/link/" + names[i]}) {
			t.Fatalf("%s allows %v", names[i], allowed)
		}
	}

	// None configured: no button, a hint instead.
	names, _, _, pg := buttons(t, newTestApp(t))
	if len(names) != 0 || !strings.Contains(pg.body, "No sign-in provider is configured") {
		t.Fatalf("page without providers lists %v", names)
	}
	// Cookie mode off: the page says it needs it, and a button carries a
	// device id of its own (the callback then answers JSON).
	_, _, hrefs, pg = buttons(t, newTestApp(t, "-cookie-mode=false", "-oidc-issuer", oidc.Issuer(), "-oidc-client-id", oidc.ClientID, "-oidc-client-secret", oidc.ClientSecret))
	if u, _ := url.Parse(hrefs[0]); !strings.Contains(pg.body, "needs cookie mode") || u.Query().Get("ssaid") == "" || u.Query().Has("returnTo") {
		t.Fatalf("cookie mode off: %s", hrefs)
	}
}

func TestProviderFlagErrors(t *testing.T) {
	clearProviderEnv(t)
	for _, args := range [][]string{
		{"-google-client-id", "id"},
		{"-x-client-secret", "secret"},
		{"-oidc-client-id", "id", "-oidc-client-secret", "s"},
		{"-public-url", "not a url", "-google-client-id", "id", "-google-client-secret", "s"},
	} {
		s, err := parseFlags(args)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
	t.Setenv("SIMPLEUSER_LINKEDIN_CLIENT_ID", "env-id")
	t.Setenv("SIMPLEUSER_LINKEDIN_CLIENT_SECRET", "env-secret")
	names, _, _, _ := buttons(t, newTestApp(t))
	if !slices.Equal(names, []string{"linkedin"}) {
		t.Fatalf("credentials from the environment: %v", names)
	}
}

// clearProviderEnv keeps the machine's environment out of the flags' defaults.
func clearProviderEnv(t *testing.T) {
	for _, b := range builtinProviders {
		env := "SIMPLEUSER_" + strings.ToUpper(b.name)
		t.Setenv(env+"_CLIENT_ID", "")
		t.Setenv(env+"_CLIENT_SECRET", "")
	}
	for _, v := range []string{"SIMPLEUSER_OIDC_ISSUER", "SIMPLEUSER_OIDC_CLIENT_ID", "SIMPLEUSER_OIDC_CLIENT_SECRET"} {
		t.Setenv(v, "")
	}
}
