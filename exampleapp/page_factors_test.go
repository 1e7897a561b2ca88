package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"
)

// testClock is the service's clock in the page's factor tests: the real
// time plus an offset the test moves forward (to the next TOTP step, or
// past the step-up window), so that nothing waits.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// totpCode is the code of secret (base32, as the page shows it) now, on
// the clock: what the person's authenticator app shows. Each call first
// moves the clock to the next 30-second step, since a step is accepted
// once (RFC 6238 replay rule).
func (c *testClock) totpCode(t *testing.T, secret string) string {
	t.Helper()
	c.advance(30 * time.Second)
	code, err := totp.GenerateCode(secret, c.now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// byID is the element of pg with id (nil when none).
func (pg *page) byID(id string) *html.Node {
	return find(pg.doc, func(n *html.Node) bool { return attr(n, "id") == id })
}

// recoveryCodes are the codes of the page that shows them once.
func (pg *page) recoveryCodes() []string {
	var out []string
	list := pg.byID("recovery-codes")
	if list == nil {
		return nil
	}
	for _, li := range all(list, func(n *html.Node) bool { return n.Data == "li" }) {
		out = append(out, textOf(li))
	}
	return out
}

// radios are the values of the radio buttons named factor.
func (pg *page) radios() []string {
	var out []string
	for _, in := range all(pg.doc, func(n *html.Node) bool {
		return n.Data == "input" && attr(n, "type") == "radio" && attr(n, "name") == "factor"
	}) {
		out = append(out, attr(in, "value"))
	}
	return out
}

// enrolTOTP adds an authenticator app named name on the account page and
// confirms it with its first code; it returns the secret the page showed
// and the page after the confirmation.
func enrolTOTP(t *testing.T, p *pageClient, clock *testClock, name string) (string, *page) {
	t.Helper()
	pg := p.post("/account/mfa/totp", form("name", name)).want(200, "/account/mfa/totp")
	pg.checkAccessible()
	secret := attr(pg.byID("totp-secret"), "data-secret")
	if len(secret) != 32 || !strings.HasPrefix(attr(pg.byID("totp-qr"), "src"), "data:image/png;base64,") ||
		!strings.HasPrefix(attr(pg.byID("totp-uri"), "href"), "otpauth://totp/") {
		t.Fatalf("enrolment page: secret %q, qr %.40q, uri %.40q", secret, attr(pg.byID("totp-qr"), "src"), attr(pg.byID("totp-uri"), "href"))
	}
	if got := pg.header.Get("Content-Security-Policy"); !strings.Contains(got, "img-src 'self' data:") {
		t.Fatalf("CSP %q: the QR code's data: URL would not show", got)
	}
	id := attr(find(pg.doc, func(n *html.Node) bool { return attr(n, "name") == "id" }), "value")
	p.post("/account/mfa/totp/confirm", form("id", id, "code", "000000")).wantError(403, "That code is wrong")
	pg = p.post("/account/mfa/totp/confirm", form("id", id, "code", clock.totpCode(t, secret)))
	if pg.status != 200 {
		t.Fatalf("confirm: %d %s", pg.status, pg.problem())
	}
	return secret, pg
}

// signInToChallenge signs in by password and lands on the challenge page.
func signInToChallenge(t *testing.T, p *pageClient, email, pw string) *page {
	t.Helper()
	pg := p.post("/signin/password", form("email", email, "password", pw)).want(200, "/signin/challenge")
	if !strings.Contains(pg.notice(), "first step is done") {
		t.Fatalf("challenge notice %q", pg.notice())
	}
	return pg
}

// TestPageTwoStep drives two-step verification through the page on both
// backends, as a person does: enrolling an authenticator app (its QR code
// and secret shown once, a wrong first code refused, the right one turns
// two-step verification on and shows 10 recovery codes once); then a
// password sign-in stops at the challenge page (the account page and the
// start page lead there), where a replayed code and a wrong one are
// refused and the next code completes the sign-in with a fresh session
// token; "trust this browser" skips the challenge at the next sign-in
// until the device is revoked; a recovery code signs in once; new
// recovery codes void the old ones; the email code as a factor (not
// offered after a sign-in by an email code); the account's limit of wrong
// codes (5 per 15 minutes, then 429 in words); and turning it off with a
// current code.
func TestPageTwoStep(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			s.now = clock.now
			a := newPageApp(t, s)
			base := startPage(t, a)
			email := fmt.Sprintf("two-step-%d@example.com", time.Now().UnixNano())
			const pw = "two-step-password-1"
			p := newPageClient(t, base)
			p.get("/").want(200, "/")
			acc := signUpByCode(t, p, email, pw)
			if got := acc.text("mfa-status"); !strings.HasPrefix(got, "Off") {
				t.Fatalf("mfa status %q", got)
			}

			// Enrol: the recovery codes are shown once.
			secret, pg := enrolTOTP(t, p, clock, "Phone")
			pg.want(200, "/account/mfa/totp/confirm").checkAccessible()
			codes := pg.recoveryCodes()
			if len(codes) != 10 || !strings.Contains(pg.notice(), "Two-step verification is on") {
				t.Fatalf("recovery codes %v, notice %q", codes, pg.notice())
			}
			acc = p.get("/account").want(200, "/account")
			acc.checkAccessible()
			if !strings.HasPrefix(acc.text("mfa-status"), "On") || !strings.Contains(acc.text("totp-list"), "Phone") || acc.text("recovery-left") != "10 of 10 left." {
				t.Fatalf("account: status %q, apps %q, recovery %q", acc.text("mfa-status"), acc.text("totp-list"), acc.text("recovery-left"))
			}
			lastCode := func() string { code, _ := totp.GenerateCode(secret, clock.now()); return code }() // the confirmation's

			// A password sign-in stops at the challenge.
			p.post("/signout", nil).want(200, "/")
			ch := signInToChallenge(t, p, email, pw)
			ch.checkAccessible()
			challengeToken := p.cookie("simpleuser_session")
			if challengeToken == "" || ch.byID("code") == nil || ch.byID("trust") == nil {
				t.Fatalf("challenge page: token %q, code form %v, trust box %v", challengeToken, ch.byID("code") != nil, ch.byID("trust") != nil)
			}
			if got := ch.radios(); strings.Join(got, ",") != "totp,recovery" {
				t.Fatalf("challenge kinds %v", got)
			}
			p.get("/account").want(200, "/signin/challenge") // not signed in yet
			p.get("/").want(200, "/signin/challenge")
			// The confirmation's code is spent (replay), a wrong one is wrong.
			p.post("/signin/challenge", form("factor", "totp", "code", lastCode)).wantError(403, "used already")
			p.post("/signin/challenge", form("factor", "totp", "code", "000000")).wantError(403, "That code is wrong")
			acc = p.post("/signin/challenge", form("factor", "totp", "code", clock.totpCode(t, secret), "trust", "yes")).want(200, "/account")
			if acc.notice() != "You are signed in." {
				t.Fatalf("notice %q", acc.notice())
			}
			if tok := p.cookie("simpleuser_session"); tok == "" || tok == challengeToken {
				t.Fatal("the completed sign-in kept the challenge's token (session fixation)")
			}
			if p.cookie("simpleuser_trusted_device") == "" || !strings.Contains(acc.text("device-list"), "this browser") {
				t.Fatalf("trusted device: cookie %q, list %q", p.cookie("simpleuser_trusted_device"), acc.text("device-list"))
			}

			// Trusted: the next sign-in skips the challenge; revoked: asks again.
			p.post("/signout", nil).want(200, "/")
			p.post("/signin/password", form("email", email, "password", pw)).want(200, "/account")
			acc = p.post("/account/mfa/devices/revoke", nil).want(200, "/account")
			if !strings.Contains(acc.notice(), "1 device is no longer trusted") || p.cookie("simpleuser_trusted_device") != "" || acc.byID("device-list") != nil {
				t.Fatalf("revoke: notice %q, cookie %q", acc.notice(), p.cookie("simpleuser_trusted_device"))
			}

			// A recovery code signs in once.
			p.post("/signout", nil).want(200, "/")
			signInToChallenge(t, p, email, pw)
			acc = p.post("/signin/challenge", form("factor", "recovery", "code", strings.ToUpper(codes[0]))).want(200, "/account")
			if acc.text("recovery-left") != "9 of 10 left." {
				t.Fatalf("recovery left %q", acc.text("recovery-left"))
			}
			p.post("/signout", nil).want(200, "/")
			signInToChallenge(t, p, email, pw)
			p.post("/signin/challenge", form("factor", "recovery", "code", codes[0])).wantError(403, "That code is wrong")
			p.post("/signin/challenge", form("factor", "recovery", "code", codes[1])).want(200, "/account")

			// New recovery codes: the old ones stop working.
			pg = p.post("/account/mfa/recovery", nil).want(200, "/account/mfa/recovery")
			fresh := pg.recoveryCodes()
			if len(fresh) != 10 || !strings.Contains(pg.notice(), "old ones no longer work") {
				t.Fatalf("new codes %v, notice %q", fresh, pg.notice())
			}
			p.post("/signout", nil).want(200, "/")
			signInToChallenge(t, p, email, pw)
			p.post("/signin/challenge", form("factor", "recovery", "code", codes[2])).wantError(403, "That code is wrong")
			p.post("/signin/challenge", form("factor", "recovery", "code", fresh[0])).want(200, "/account")

			// Email codes as a factor.
			acc = p.post("/account/mfa/email", form("enabled", "yes")).want(200, "/account")
			if !strings.Contains(acc.notice(), "is now a second step") || acc.text("toggle-email-factor") != "Stop using email codes" {
				t.Fatalf("email factor: notice %q, button %q", acc.notice(), acc.text("toggle-email-factor"))
			}
			p.post("/signout", nil).want(200, "/")
			ch = signInToChallenge(t, p, email, pw)
			if got := ch.radios(); strings.Join(got, ",") != "totp,recovery,email" || ch.byID("send-factor-code") == nil {
				t.Fatalf("challenge kinds %v", got)
			}
			ch = p.post("/signin/challenge/send-code", nil).want(200, "/signin/challenge")
			if !strings.Contains(ch.notice(), "We sent a code") {
				t.Fatalf("send-code notice %q", ch.notice())
			}
			if c := find(ch.doc, func(n *html.Node) bool { return attr(n, "id") == "kind-email" }); !hasAttr(c, "checked") {
				t.Fatal("after sending a code the email kind is not the one checked")
			}
			p.post("/signin/challenge", form("factor", "email", "code", "123456")).want(200, "/account")
			// After a sign-in by an email code, the email code is no second step.
			p.post("/signout", nil).want(200, "/")
			p.post("/signin/code", form("email", email)).want(200, "/signin/code")
			ch = p.post("/signin/verify", form("email", email, "code", "123456")).want(200, "/signin/challenge")
			if got := ch.radios(); strings.Join(got, ",") != "totp,recovery" || ch.byID("send-factor-code") != nil {
				t.Fatalf("challenge kinds after an email code %v", got)
			}
			p.post("/signin/challenge", form("factor", "totp", "code", clock.totpCode(t, secret))).want(200, "/account")

			// Off, with a current code only. That wrong code was the fifth
			// in 15 minutes (replay, wrong, two spent recovery codes): the
			// account's attempts are used up, even for a right code.
			p.post("/account/mfa/disable", form("factor", "totp", "code", "000000")).wantError(403, "That code is wrong")
			pg = p.post("/account/mfa/disable", form("factor", "totp", "code", clock.totpCode(t, secret))).wantError(429, "Too many wrong codes. Try again in")
			if pg.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			clock.advance(15 * time.Minute)
			acc = p.post("/account/mfa/disable", form("factor", "totp", "code", clock.totpCode(t, secret))).want(200, "/account")
			if !strings.Contains(acc.notice(), "Two-step verification is off") || !strings.HasPrefix(acc.text("mfa-status"), "Off") || acc.byID("totp-list") != nil {
				t.Fatalf("off: notice %q, status %q", acc.notice(), acc.text("mfa-status"))
			}
			p.post("/signout", nil).want(200, "/")
			p.post("/signin/password", form("email", email, "password", pw)).want(200, "/account")
		})
	}
}

// TestPageStepUp: a sensitive action of a session that signed in longer
// ago than the step-up window (10 minutes) answers the re-authentication
// page (403) listing what can confirm it (the password, an email code),
// with no change made; a wrong password is refused there; the right one
// opens the action again. An email code re-authenticates too, and adding
// an authenticator app or removing one needs it as well.
func TestPageStepUp(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			s.now = clock.now
			a := newPageApp(t, s)
			base := startPage(t, a)
			email := fmt.Sprintf("step-up-%d@example.com", time.Now().UnixNano())
			const pw = "step-up-password-1"
			one, two := newPageClient(t, base), newPageClient(t, base)
			signUpByCode(t, one, email, pw)
			two.post("/signin/password", form("email", email, "password", pw)).want(200, "/account")

			clock.advance(11 * time.Minute)
			pg := one.post("/account/sessions/end-others", nil).wantError(403, "confirm it is you first")
			pg.checkAccessible()
			if pg.byID("reauth-password") == nil || strings.Join(pg.radios(), ",") != "" || attr(find(pg.doc, func(n *html.Node) bool {
				return attr(n, "name") == "factor" && attr(n, "type") == "hidden" && attr(n, "value") == "email"
			}), "value") != "email" || pg.byID("send-factor-code") == nil {
				t.Fatalf("re-authentication page: %.2000s", pg.body)
			}
			two.get("/account").want(200, "/account") // nothing happened

			one.post("/account/reauth", form("factor", "password", "password", "wrong-password")).wantError(403, "Your current password is wrong")
			acc := one.post("/account/reauth", form("factor", "password", "password", pw)).want(200, "/account")
			if !strings.Contains(acc.notice(), "For the next 10 minutes") {
				t.Fatalf("notice %q", acc.notice())
			}
			if acc = one.post("/account/sessions/end-others", nil).want(200, "/account"); acc.notice() != "1 other session was ended." {
				t.Fatalf("notice %q", acc.notice())
			}
			two.get("/account").want(200, "/")

			// Stale again: adding an authenticator app asks first; an email code confirms.
			clock.advance(11 * time.Minute)
			one.post("/account/mfa/totp", form("name", "Phone")).wantError(403, "confirm it is you first")
			pg = one.get("/account/reauth").want(200, "/account/reauth")
			pg = one.post("/account/reauth/send-code", nil).want(200, "/account/reauth")
			if !strings.Contains(pg.notice(), "We sent a code") {
				t.Fatalf("notice %q", pg.notice())
			}
			one.post("/account/reauth", form("factor", "email", "code", "000000")).wantError(403, "That code is wrong")
			one.post("/account/reauth", form("factor", "email", "code", "123456")).want(200, "/account")
			secret, _ := enrolTOTP(t, one, clock, "Phone")

			// Stale: removing it asks first; now an authenticator code confirms.
			clock.advance(11 * time.Minute)
			acc = one.get("/account").want(200, "/account")
			id := attr(find(acc.byID("totp-list"), func(n *html.Node) bool { return n.Data == "li" }), "data-totp")
			pg = one.post("/account/mfa/totp/remove", form("id", id)).wantError(403, "confirm it is you first")
			if got := pg.radios(); strings.Join(got, ",") != "totp,recovery" {
				t.Fatalf("re-authentication kinds with two-step on: %v", got)
			}
			one.post("/account/reauth", form("factor", "totp", "code", clock.totpCode(t, secret))).want(200, "/account")
			one.post("/account/mfa/totp/remove", form("id", id)).wantError(409, "last second step")
		})
	}
}
