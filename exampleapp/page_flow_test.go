package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// pageSettings turns s (a backend of backends(t)) into the page's
// settings: cookie mode on plain http (a loopback -addr, so
// -insecure-cookies is allowed), anonymous users, the fixed code 123456,
// passkeys on (as the flags' defaults have them: relying party localhost).
func pageSettings(s settings) settings {
	s.addr = "127.0.0.1:8080"
	s.factors.passkeys, s.factors.rpName = true, "simpleuser example"
	s.browser = browserSettings{cookieMode: true, insecureCookies: true}
	s.fixedCode = "123456"
	s.allowAnonymous = true
	s.redisPrefix = strings.TrimSpace(s.redisPrefix)
	return s
}

func newPageApp(t *testing.T, s settings) *app {
	t.Helper()
	a, err := newApp(context.Background(), pageSettings(s), slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// signUpByCode runs the page's code sign-up for email: send, then the
// fixed code (with a password when pw != ""); it ends on the account page.
func signUpByCode(t *testing.T, p *pageClient, email, pw string) *page {
	t.Helper()
	p.post("/signin/code", form("email", email)).want(200, "/signin/code")
	return p.post("/signin/verify", form("email", email, "code", "123456", "setPassword", pw)).want(200, "/account")
}

// TestPageAccountFlows drives the page on both backends as a person does,
// with plain form posts: the first visit (device cookie, sign-in page),
// sign-up by code (a wrong code and a resend inside the cooldown shown in
// words, with their statuses), the account page (profile with the app's
// fields, one session: this browser), password sign-in from a second
// browser (a wrong password shown in words), ending that browser's session
// from the first (the second is signed out at its next request), ending
// all others, settings, password and address changes, log out, deleting
// the account and restoring it within the grace period. Every answer is
// an HTML page, never the API's JSON.
func TestPageAccountFlows(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			a := newPageApp(t, s)
			base := startPage(t, a)
			uniq := fmt.Sprintf("%d", time.Now().UnixNano())
			email := "page-" + uniq + "@example.com"

			// First visit: the sign-in page and a device cookie.
			one := newPageClient(t, base)
			home := one.get("/").want(200, "/")
			home.checkAccessible()
			if one.cookie("simpleuser_device") == "" || one.cookie("simpleuser_session") != "" {
				t.Fatalf("first visit cookies: device %q session %q", one.cookie("simpleuser_device"), one.cookie("simpleuser_session"))
			}
			for _, id := range []string{"code-email", "pw-email", "pw-password", "send-code", "password-signin"} {
				if find(home.doc, func(n *htmlNode) bool { return attr(n, "id") == id }) == nil {
					t.Fatalf("sign-in page lacks #%s", id)
				}
			}
			if got := home.header.Get("Content-Security-Policy"); !strings.Contains(got, "form-action 'self'") {
				t.Fatalf("CSP %q", got)
			}

			// Send a code; a second send inside the cooldown says how long to wait.
			pg := one.post("/signin/code", form("email", email)).want(200, "/signin/code")
			if !strings.Contains(pg.notice(), email) {
				t.Fatalf("code page notice %q", pg.notice())
			}
			pg.checkAccessible()
			pg = one.post("/signin/code", form("email", email)).wantError(429, "ask for a new one in")
			if pg.header.Get("Retry-After") == "" || find(pg.doc, func(n *htmlNode) bool { return attr(n, "id") == "v-code" }) == nil {
				t.Fatalf("cooldown page: Retry-After %q, code form missing", pg.header.Get("Retry-After"))
			}
			// A wrong code: 403, said in words, the address kept.
			pg = one.post("/signin/verify", form("email", email, "code", "000000")).wantError(403, "That code is wrong")
			if v := attr(find(pg.doc, func(n *htmlNode) bool { return attr(n, "id") == "v-email" }), "value"); v != email {
				t.Fatalf("address not kept: %q", v)
			}
			// The right code signs up, with a password and a nickname.
			acc := one.post("/signin/verify", form("email", email, "code", "123456", "setPassword", "first-password-1", "nickname", "Pagey")).want(200, "/account")
			acc.checkAccessible()
			prof := acc.profile()
			if prof["Email address"] != email || prof["Password"] != "set" || prof["Nickname"] != "Pagey" || len(prof["Referral code"]) != 8 || prof["Credits"] != "0" {
				t.Fatalf("profile %v", prof)
			}
			if ids, cur := acc.sessionRows(); len(ids) != 1 || !cur[0] {
				t.Fatalf("sessions %v %v", ids, cur)
			}
			if one.cookie("simpleuser_session") == "" {
				t.Fatal("no session cookie after sign-up")
			}

			// A second browser: a wrong password, then the right one.
			two := newPageClient(t, base)
			two.get("/").want(200, "/")
			two.post("/signin/password", form("email", email, "password", "wrong-password")).wantError(403, "Wrong email address or password")
			two.post("/signin/password", form("email", email, "password", "first-password-1")).want(200, "/account")
			two.get("/").want(200, "/account") // signed in: the start page moves on

			// The first ends the second's session.
			acc = one.get("/account").want(200, "/account")
			ids, cur := acc.sessionRows()
			if len(ids) != 2 || cur[0] == cur[1] {
				t.Fatalf("sessions %v %v", ids, cur)
			}
			other := ids[slices.Index(cur, false)]
			acc = one.post("/account/sessions/end", form("id", other)).want(200, "/account")
			if !strings.Contains(acc.notice(), "signed out") {
				t.Fatalf("notice %q", acc.notice())
			}
			if ids, _ := acc.sessionRows(); len(ids) != 1 {
				t.Fatalf("after ending: %v", ids)
			}
			// The second is signed out at its next request, told why, cookie gone.
			pg = two.get("/account").want(200, "/")
			if !strings.Contains(pg.notice(), "Your session has ended") || two.cookie("simpleuser_session") != "" {
				t.Fatalf("second browser: notice %q, cookie %q", pg.notice(), two.cookie("simpleuser_session"))
			}
			one.post("/account/sessions/end", form("id", other)).wantError(404, "already ended")

			// Sign out everywhere else.
			two.post("/signin/password", form("email", email, "password", "first-password-1")).want(200, "/account")
			acc = one.post("/account/sessions/end-others", nil).want(200, "/account")
			if acc.notice() != "1 other session was ended." {
				t.Fatalf("notice %q", acc.notice())
			}
			two.get("/account").want(200, "/")

			// Settings.
			acc = one.post("/account/settings", form("theme", "dark", "newsletter", "yes")).want(200, "/account")
			if sel := find(acc.doc, func(n *htmlNode) bool { return n.Data == "option" && hasAttr(n, "selected") }); sel == nil || attr(sel, "value") != "dark" {
				t.Fatal("theme not saved")
			}
			if cb := find(acc.doc, func(n *htmlNode) bool { return attr(n, "id") == "newsletter" }); !hasAttr(cb, "checked") {
				t.Fatal("newsletter not saved")
			}
			one.post("/account/settings", form("theme", "neon")).wantError(400, "theme must be one of")

			// Password: mismatch, wrong current, then a change that keeps this session only.
			two.post("/signin/password", form("email", email, "password", "first-password-1")).want(200, "/account")
			one.post("/account/password", form("currentPassword", "first-password-1", "newPassword", "second-password-2", "repeatPassword", "other")).wantError(400, "differ")
			one.post("/account/password", form("currentPassword", "nope-nope-nope", "newPassword", "second-password-2", "repeatPassword", "second-password-2")).wantError(403, "current password is wrong")
			one.post("/account/password", form("currentPassword", "first-password-1", "newPassword", "second-password-2", "repeatPassword", "second-password-2")).want(200, "/account")
			two.get("/account").want(200, "/")

			// Email address: code to the new one, a wrong code, the right one.
			newEmail := "moved-" + uniq + "@example.com"
			acc = one.post("/account/email", form("email", newEmail)).want(200, "/account")
			if !strings.Contains(acc.notice(), newEmail) || find(acc.doc, func(n *htmlNode) bool { return attr(n, "id") == "email-code" }) == nil {
				t.Fatalf("no code form for the new address: %q", acc.notice())
			}
			one.post("/account/email/confirm", form("email", newEmail, "code", "000000")).wantError(403, "That code is wrong")
			acc = one.post("/account/email/confirm", form("email", newEmail, "code", "123456")).want(200, "/account")
			if acc.profile()["Email address"] != newEmail {
				t.Fatalf("profile after the change: %v", acc.profile())
			}

			// Log out: the cookie goes, the account page sends back to sign in.
			pg = one.post("/signout", nil).want(200, "/")
			if pg.notice() != "You are signed out." || one.cookie("simpleuser_session") != "" {
				t.Fatalf("log out: notice %q", pg.notice())
			}
			if pg = one.get("/account").want(200, "/"); pg.notice() != "Please sign in first." {
				t.Fatalf("account after log out: %q", pg.notice())
			}

			// Delete: confirmation required; then gone, restorable by signing in.
			one.post("/signin/password", form("email", newEmail, "password", "second-password-2")).want(200, "/account")
			one.post("/account/delete", nil).wantError(400, "tick the box")
			pg = one.post("/account/delete", form("confirm", "yes")).want(200, "/")
			if !strings.Contains(pg.notice(), "within 30 days restores it") || one.cookie("simpleuser_session") != "" {
				t.Fatalf("delete: notice %q", pg.notice())
			}
			if u, err := a.Service.GetUserByEmail(context.Background(), newEmail); err != nil || !u.Unregistered() {
				t.Fatalf("not unregistered: %v %v", u, err)
			}
			one.post("/signin/password", form("email", newEmail, "password", "second-password-2")).want(200, "/account")
			if u, err := a.Service.GetUserByEmail(context.Background(), newEmail); err != nil || u.Unregistered() {
				t.Fatalf("not restored by signing in: %v %v", u, err)
			}
		})
	}
}

// TestPageRefusals: the page's forms are same-origin posts; one from
// another site is refused by the CSRF check before anything happens
// (403); text no backend can store is a 400 page; an unknown path is a
// 404 page.
func TestPageRefusals(t *testing.T) {
	a := newPageApp(t, settings{})
	base := startPage(t, a)
	p := newPageClient(t, base)
	email := "refusals@example.com"
	signUpByCode(t, p, email, "refusal-password-1")

	p.site = "cross-site"
	req := p.post("/account/delete", form("confirm", "yes"))
	if req.status != 403 || !strings.Contains(req.body, `"code":"CSRF"`) {
		t.Fatalf("cross-site delete: %d %s", req.status, req.body)
	}
	p.site = "same-origin"
	if prof := p.get("/account").want(200, "/account").profile(); prof["Email address"] != email {
		t.Fatalf("account after the forged post: %v", prof)
	}

	p.post("/account/email", form("email", "a\x00b@example.com")).wantError(400, "cannot be stored")
	p.post("/account/email", form("email", "not-an-address")).wantError(400, "Please check the form")
	p.post("/signin/code", form("email", "not-an-address")).wantError(400, "Please check the form")
	p.post("/signin/password", url.Values{"email": {email}, "password": {"\xff\xfe"}}).wantError(400, "cannot be stored")
	pg := p.get("/no/such/page")
	if pg.status != 404 || pg.doc == nil || pg.problem() == "" {
		t.Fatalf("unknown path: %d %s", pg.status, pg.body)
	}
	if css := p.get("/site.css"); css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("site.css: %d %s", css.status, css.header.Get("Content-Type"))
	}
}

// TestPageProviders: a provider button signs in through a fake OpenID
// Connect provider and the callback lands on the account page with the
// session cookie set; from there the account links a second account at
// the provider through the page's link callback, and unlinks it; a
// refusal at the provider, and a replayed link, come back as words on
// the page.
func TestPageProviders(t *testing.T) {
	clearProviderEnv(t)
	oidc := oauthtest.NewServer(t, oauthtest.OIDC)
	s := settings{}
	ps, err := parseFlags([]string{"-oidc-issuer", oidc.Issuer(), "-oidc-client-id", oidc.ClientID, "-oidc-client-secret", oidc.ClientSecret,
		"-oidc-label", "Corp SSO"})
	if err != nil {
		t.Fatal(err)
	}
	s.providers = ps.providers
	a := newPageApp(t, s)
	base := startPage(t, a)

	p := newPageClient(t, base)
	home := p.get("/").want(200, "/")
	names, labels, hrefs := home.providerButtons()
	if !slices.Equal(names, []string{"oidc"}) || !slices.Equal(labels, []string{"Sign in with Corp SSO"}) {
		t.Fatalf("buttons %v %v", names, labels)
	}
	u, err := url.Parse(hrefs[0])
	if err != nil || u.Query().Get("returnTo") != "/account" || u.Query().Get("mode") != "redirect" {
		t.Fatalf("button href %s", hrefs[0])
	}

	// Refused at the provider: back on the start page, said in words.
	p.c.CheckRedirect = stopAtProvider(oidc.Issuer())
	resp := p.get(hrefs[0])
	if resp.status != 302 {
		t.Fatalf("start: %d", resp.status)
	}
	cb := "/api/oauth/oidc/callback?" + url.Values{"error": {"access_denied"}, "state": {"x"}}.Encode()
	p.c.CheckRedirect = nil
	if pg := p.get(cb).want(200, "/"); !strings.Contains(pg.problem(), "cancelled at the provider") {
		t.Fatalf("refusal: %q", pg.problem())
	}

	// Accepted: the account page, signed in by the cookie.
	oidc.SetUser(oauthtest.User{Subject: "corp-9", Email: "nine@corp.example", EmailVerified: true, Name: "Agent Nine"})
	p.c.CheckRedirect = stopAtProvider(oidc.Issuer())
	resp = p.get(hrefs[0])
	code, state, err := oidc.Authorize(resp.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	p.c.CheckRedirect = nil
	acc := p.get("/api/oauth/oidc/callback?"+url.Values{"code": {code}, "state": {state}}.Encode()).want(200, "/account")
	if prof := acc.profile(); prof["Email address"] != "nine@corp.example" || prof["Nickname"] != "nine" {
		t.Fatalf("profile %v", prof)
	}
	if li := textOf(find(acc.doc, func(n *htmlNode) bool { return n.Data == "ul" && attr(n, "class") == "methods" })); !strings.Contains(li, "Corp SSO") {
		t.Fatalf("methods %q", li)
	}
	// Link: the account page's button starts a flow whose provider comes
	// back to the page's link callback. Here, a second sign-in account at
	// the same provider.
	_, _, links := acc.providerButtons()
	if len(links) != 1 || !strings.Contains(links[0], url.QueryEscape("/account/link/oidc")) {
		t.Fatalf("link buttons %v", links)
	}
	oidc.SetUser(oauthtest.User{Subject: "corp-9-alt", Email: "alt@corp.example", EmailVerified: true})
	p.c.CheckRedirect = stopAtProvider(oidc.Issuer())
	resp = p.get(links[0])
	code, state, err = oidc.Authorize(resp.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	p.c.CheckRedirect = nil
	acc = p.get("/account/link/oidc?"+url.Values{"code": {code}, "state": {state}}.Encode()).want(200, "/account")
	if acc.notice() != "The account is linked: you can sign in with it." {
		t.Fatalf("link notice %q (error %q)", acc.notice(), acc.problem())
	}
	unlinks := all(acc.doc, func(n *htmlNode) bool {
		return n.Data == "button" && strings.HasPrefix(attr(n, "aria-label"), "Unlink")
	})
	if len(unlinks) != 2 {
		t.Fatalf("%d unlink buttons", len(unlinks))
	}
	acc = p.post("/account/identities/unlink", form("provider", "oidc", "subject", "corp-9-alt")).want(200, "/account")
	if acc.notice() != "The account is unlinked." || strings.Contains(acc.body, "alt@corp.example") {
		t.Fatalf("unlink: %q", acc.notice())
	}
	// A replayed link callback: said in words on the account page.
	p.get("/account/link/oidc?"+url.Values{"code": {code}, "state": {state}}.Encode()).wantError(403, "took too long")
}
