package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

var signInLinkRE = regexp.MustCompile(`<a class="signin" data-provider="([^"]+)" href="([^"]+)">Sign in with ([^<]+)</a>`)

// page fetches GET / and returns the provider names, labels and hrefs it links.
func page(t *testing.T, a *app) (names, labels, hrefs []string, body string) {
	t.Helper()
	w := httptest.NewRecorder()
	a.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	body = w.Body.String()
	for _, m := range signInLinkRE.FindAllStringSubmatch(body, -1) {
		names, labels = append(names, m[1]), append(labels, m[3])
		hrefs = append(hrefs, strings.ReplaceAll(m[2], "&amp;", "&"))
	}
	return names, labels, hrefs, body
}

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

// TestHomePageListsConfiguredProviders: exactly the providers given
// credentials, in order, each linking to its start endpoint in redirect
// mode with its allowed callback.
func TestHomePageListsConfiguredProviders(t *testing.T) {
	clearProviderEnv(t)
	oidc := oauthtest.NewServer(t, oauthtest.OIDC)
	a := newTestApp(t, "-public-url", "https://app.example/",
		"-github-client-id", "gh-id", "-github-client-secret", "gh-secret",
		"-tiktok-client-id", "tt-key", "-tiktok-client-secret", "tt-secret",
		"-oidc-issuer", oidc.Issuer(), "-oidc-client-id", oidc.ClientID, "-oidc-client-secret", oidc.ClientSecret,
		"-oidc-name", "corp", "-oidc-label", "Corp SSO")
	names, labels, hrefs, _ := page(t, a)
	if !slices.Equal(names, []string{"github", "tiktok", "corp"}) || !slices.Equal(labels, []string{"GitHub", "TikTok", "Corp SSO"}) {
		t.Fatalf("links %v %v, want github, tiktok, corp", names, labels)
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
		if u.Path != "/api/oauth/"+names[i]+"/start" || q.Get("mode") != "redirect" ||
			q.Get("redirectUri") != "https://app.example/api/oauth/"+names[i]+"/callback" || q.Get("ssaid") == "" {
			t.Fatalf("link %s", h)
		}
	}

	// None configured: no link, a hint instead.
	names, _, _, body := page(t, newTestApp(t))
	if len(names) != 0 || !strings.Contains(body, "No sign-in provider is configured") {
		t.Fatalf("page without providers lists %v", names)
	}
}

// TestHomePageSignInEndToEnd follows a link of the page through a fake
// OpenID Connect provider back to the callback, and uses the token.
func TestHomePageSignInEndToEnd(t *testing.T) {
	clearProviderEnv(t)
	oidc := oauthtest.NewServer(t, oauthtest.OIDC)
	oidc.SetUser(oauthtest.User{Subject: "corp-7", Email: "seven@corp.example", EmailVerified: true, Name: "Agent Seven"})
	a := newTestApp(t, "-oidc-issuer", oidc.Issuer(), "-oidc-client-id", oidc.ClientID, "-oidc-client-secret", oidc.ClientSecret)
	_, _, hrefs, _ := page(t, a)
	if len(hrefs) != 1 {
		t.Fatalf("links %v", hrefs)
	}
	w := httptest.NewRecorder()
	a.Handler.ServeHTTP(w, httptest.NewRequest("GET", hrefs[0], nil))
	if w.Code != http.StatusFound {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	code, state, err := oidc.Authorize(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb := httptest.NewRequest("GET", "/api/oauth/oidc/callback?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil)
	for _, c := range w.Result().Cookies() {
		cb.AddCookie(c)
	}
	w = httptest.NewRecorder()
	a.Handler.ServeHTTP(w, cb)
	if w.Code != 200 {
		t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	h := &harness{t: t, app: a}
	tok := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(w.Body.String())
	if tok == nil {
		t.Fatalf("callback body %s", w.Body)
	}
	ssaid := regexp.MustCompile(`ssaid=([^&]+)`).FindStringSubmatch(hrefs[0])[1]
	code2, me := h.call("GET", "/api/user-center/me", ssaid, tok[1], nil)
	if code2 != 200 || me["email"] != "seven@corp.example" || me["nickname"] != "seven" {
		t.Fatalf("/me after the provider sign-in: %d %v", code2, me)
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
	names, _, _, _ := page(t, newTestApp(t))
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
