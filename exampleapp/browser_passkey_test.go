package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// chrome is one headless Chromium tab on the page, with the helpers a
// browser test needs: it fails the test with the browser's output, and
// saves a screenshot at each step.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // screenshot directory
	n     int    // steps so far
	log   *syncBuffer
}

// newChrome starts headless Chromium (bin) for a page served at base.
// localhost resolves to 127.0.0.1, where the test server listens.
func newChrome(t *testing.T, bin, base string, timeout time.Duration) *chrome {
	t.Helper()
	c := &chrome{t: t, base: base, shots: filepath.Join(t.TempDir(), "shots"), log: &syncBuffer{}}
	if err := os.MkdirAll(c.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("host-resolver-rules", "MAP localhost 127.0.0.1"),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1000, 900),
		chromedp.CombinedOutput(c.log),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	c.ctx = tab
	return c
}

// fatal fails the test with the browser's output.
func (c *chrome) fatal(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf(format+"\nbrowser output:\n%s", append(args, c.log.String())...)
}

// do runs actions.
func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.fatal("%s: %v", what, err)
	}
}

// step checks that the tab is at wantPath and saves a screenshot.
func (c *chrome) step(name, wantPath string) {
	c.t.Helper()
	c.n++
	if got := c.path(); got != wantPath {
		c.fatal("step %d %s: at %s, want %s", c.n, name, got, wantPath)
	}
	png, err := screenshot(c.ctx)
	if err != nil {
		c.fatal("step %d %s: screenshot: %v", c.n, name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, fmt.Sprintf("%02d-%s.png", c.n, name)), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// path is the tab's path, without the query.
func (c *chrome) path() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.fatal("location: %v", err)
	}
	return strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], c.base)
}

// submit clicks a form's button and waits for the page it leads to; it
// returns that page's HTTP status.
func (c *chrome) submit(button string) int64 {
	c.t.Helper()
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		c.fatal("submit %s: %v", button, err)
	}
	return resp.Status
}

// text is the text of the first element sel matches.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.fatal("text of %s: %v", sel, err)
	}
	return s
}

// cookie is the value of the page's cookie name ("" when none).
func (c *chrome) cookie(name string) string {
	c.t.Helper()
	res, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base + "/"}})
	if err != nil {
		c.fatal("cookies: %v", err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// passkeyClick clicks a passkey button, whose script runs a WebAuthn
// ceremony and then submits its form, and waits until the page it leads to
// shows sel. A message the script shows instead (the ceremony failed)
// fails the test at once.
func (c *chrome) passkeyClick(button, sel string) {
	c.t.Helper()
	c.do("click "+button, chromedp.Click(chromedp.CSS(button)))
	probe := fmt.Sprintf(`(() => {
		const e = document.querySelector("[data-passkey-error]:not([hidden])");
		if (e) return "error: " + e.textContent;
		return document.querySelector(%q) ? "ok" : "";
	})()`, sel)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](probe))
		switch {
		case err != nil: // the page is being replaced: ask again
		case got == "ok":
			return
		case strings.HasPrefix(got, "error: "):
			c.fatal("%s: the page says %q", button, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.fatal("%s: %s never showed (at %s)", button, sel, c.path())
}

// keep copies the screenshots into -keep-shots DIR/name.
func (c *chrome) keep(name string) {
	if *keepShots == "" {
		return
	}
	dst := filepath.Join(*keepShots, name)
	if err := os.CopyFS(dst, os.DirFS(c.shots)); err != nil {
		c.t.Fatalf("-keep-shots: %v", err)
	}
	c.t.Logf("screenshots kept in %s", dst)
}

// TestBrowserPasskeys drives passkeys and two-step verification through
// the page in headless Chromium, on the in-memory stores and on
// PostgreSQL + Redis, with Chrome's virtual authenticator (DevTools
// WebAuthn domain: CTAP2, internal transport, resident keys, user
// verification that succeeds) standing in for the device's own:
//
//  1. sign up by email code with a password; the account page;
//  2. register a passkey on the account page (passkeys.js: the API's
//     begin, navigator.credentials.create, the page's form): it is listed,
//     and the authenticator holds one discoverable credential for
//     relying party localhost;
//  3. log out; sign back in with the passkey, no address typed
//     (usernameless: navigator.credentials.get): the account page, signed
//     in, the passkey marked as used;
//  4. add an authenticator app (TOTP: the secret the page shows, a first
//     code) and get the recovery codes;
//  5. log out; sign in by password: the challenge page; a TOTP code
//     completes the sign-in;
//  6. log out; sign in by password; on the challenge page, "trust this
//     browser" and the passkey as the second factor complete it;
//  7. log out; sign in by password: the trusted browser goes straight to
//     the account page.
//
// A screenshot of each step is written under the test's temp dir, and
// kept in -keep-shots DIR (folder passkeys-BACKEND) when given.
func TestBrowserPasskeys(t *testing.T) {
	bin := chromium(t)
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) { browserPasskeys(t, bin, name, s) })
	}
}

func browserPasskeys(t *testing.T, bin, backend string, s settings) {
	// The page at http://localhost:PORT: passkeys default to relying party
	// localhost and that origin (-addr 127.0.0.1:PORT).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	clock := &testClock{}
	st := pageSettings(s)
	st.addr, st.now = fmt.Sprintf("127.0.0.1:%d", port), clock.now
	a, err := newApp(context.Background(), st, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if rp := a.Service.Passkeys(); rp == nil {
		t.Fatal("passkeys are off")
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	base := fmt.Sprintf("http://localhost:%d", port)
	email := fmt.Sprintf("passkey-%d@example.com", time.Now().UnixNano())
	const pw = "browser-password-1"

	c := newChrome(t, bin, base, 120*time.Second)
	c.do("first visit", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("passkey-signin")))
	if _, err := chromedp.Call(c.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		c.fatal("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(c.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
		Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
		IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		c.fatal("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	c.step("sign-in-page", "/")

	// 1. Sign up.
	c.do("type the address", chromedp.SendKeys(chromedp.ID("code-email"), email))
	if code := c.submit("#send-code"); code != 200 {
		t.Fatalf("send code: %d", code)
	}
	c.do("code and password", chromedp.SendKeys(chromedp.ID("v-code"), "123456"), chromedp.SendKeys(chromedp.ID("v-password"), pw))
	if code := c.submit("#verify"); code != 200 {
		t.Fatalf("sign up: %d", code)
	}
	c.step("signed-up", "/account")
	if got := c.text("#no-passkeys"); got != "You have no passkey yet." {
		t.Fatalf("passkeys before: %q", got)
	}

	// 2. Register a passkey.
	c.do("name the passkey", chromedp.WaitVisible(chromedp.ID("add-passkey")), chromedp.SendKeys(chromedp.ID("passkey-name"), "Headless laptop"))
	c.passkeyClick("#add-passkey", "#passkey-list")
	c.step("passkey-added", "/account")
	if got := c.text("#notice"); !strings.Contains(got, "The passkey is added") {
		t.Fatalf("notice %q", got)
	}
	if got := c.text("#passkey-list"); !strings.Contains(got, "Headless laptop") || !strings.Contains(got, "not used yet") {
		t.Fatalf("passkey list %q", got)
	}
	creds, err := chromedp.Call(c.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil {
		c.fatal("WebAuthn.getCredentials: %v", err)
	}
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" || creds.Credentials[0].UserName != email {
		t.Fatalf("the authenticator holds %+v, want one discoverable credential for localhost named %s", creds.Credentials, email)
	}

	// 3. Log out, sign back in with the passkey alone.
	if code := c.submit("#signout"); code != 200 {
		t.Fatalf("log out: %d", code)
	}
	c.step("logged-out", "/")
	if c.cookie("simpleuser_session") != "" {
		t.Fatal("session cookie kept after log out")
	}
	c.passkeyClick("#passkey-signin", "#session-list")
	c.step("passkey-sign-in", "/account")
	if got := c.text("#notice"); got != "You are signed in." {
		t.Fatalf("notice %q", got)
	}
	if got := c.text(".profile"); !strings.Contains(got, email) {
		t.Fatalf("profile %q", got)
	}
	if got := c.text("#passkey-list"); !strings.Contains(got, "last used") {
		t.Fatalf("the passkey is not marked as used: %q", got)
	}
	if c.cookie("simpleuser_session") == "" {
		t.Fatal("no session cookie after the passkey sign-in")
	}

	// 4. An authenticator app.
	c.do("name the app", chromedp.SendKeys(chromedp.ID("totp-name"), "Phone"))
	if code := c.submit("#add-totp"); code != 200 {
		t.Fatalf("add an authenticator app: %d", code)
	}
	c.step("totp-enrol", "/account/mfa/totp")
	secret, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.ID("totp-secret"), "data-secret"))
	if err != nil || len(secret.Value) != 32 {
		c.fatal("the secret: %q %v", secret.Value, err)
	}
	c.do("first code", chromedp.SendKeys(chromedp.ID("totp-code"), clock.totpCode(t, secret.Value)))
	if code := c.submit("#confirm-totp"); code != 200 {
		t.Fatalf("confirm the app: %d", code)
	}
	c.step("recovery-codes", "/account/mfa/totp/confirm")
	if n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`)); err != nil || n != 10 {
		c.fatal("%d recovery codes (%v), want 10", n, err)
	}
	if code := c.submit("#codes-saved"); code != 200 {
		t.Fatalf("back to the account: %d", code)
	}
	if got := c.text("#mfa-status"); !strings.HasPrefix(got, "On") {
		t.Fatalf("mfa status %q", got)
	}

	// passwordSignIn logs out and signs in by password.
	passwordSignIn := func(wantPath string) {
		t.Helper()
		if code := c.submit("#signout"); code != 200 {
			t.Fatalf("log out: %d", code)
		}
		c.do("type the password", chromedp.SendKeys(chromedp.ID("pw-email"), email), chromedp.SendKeys(chromedp.ID("pw-password"), pw))
		if code := c.submit("#password-signin"); code != 200 {
			t.Fatalf("password sign-in: %d", code)
		}
		if got := c.path(); got != wantPath {
			c.fatal("password sign-in: at %s, want %s", got, wantPath)
		}
	}

	// 5. A password sign-in asks for the second step: a TOTP code.
	passwordSignIn("/signin/challenge")
	c.step("challenge", "/signin/challenge")
	c.do("a TOTP code", chromedp.SendKeys(chromedp.ID("code"), clock.totpCode(t, secret.Value)))
	if code := c.submit("#verify-code"); code != 200 {
		t.Fatalf("challenge by TOTP: %d", code)
	}
	c.step("challenge-by-totp", "/account")

	// 6. The passkey as the second step, trusting this browser.
	passwordSignIn("/signin/challenge")
	c.do("trust this browser", chromedp.Click(chromedp.ID("trust")))
	c.passkeyClick("#passkey-verify", "#session-list")
	c.step("challenge-by-passkey", "/account")
	if c.cookie("simpleuser_trusted_device") == "" {
		t.Fatal("no trusted-device cookie after \"trust this browser\"")
	}
	if got := c.text("#device-list"); !strings.Contains(got, "this browser") {
		t.Fatalf("trusted devices %q", got)
	}

	// 7. Trusted: no second step.
	passwordSignIn("/account")
	c.step("trusted-browser", "/account")
	c.keep("passkeys-" + backend)
}
