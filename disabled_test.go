package simpleuser_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
	"github.com/simpleuser/simpleuser/user"
)

// A disabled user is refused on every sign-in method and every path that
// resolves the current user; disabling revokes every session at once.
func TestDisabledEverywhere(t *testing.T) { forBackends(t, testDisabledEverywhere) }

func testDisabledEverywhere(t *testing.T, newFixture fixtureMaker) {
	var mu sync.Mutex
	var evs []hooks.Event
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) {
		c.OAuth.LinkVerifiedEmail = true
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
			return nil
		}
	})
	ctx := context.Background()
	disabled := func(what string, err error) {
		t.Helper()
		if e := simpleuser.AsError(err); e == nil || e.Status != 403 || e.Code != simpleuser.CodeAccountDisabled {
			t.Fatalf("%s: %v, want 403 ACCOUNT_DISABLED", what, err)
		}
	}

	// An account with a code login, a password, a Google identity (and so
	// the verified-email link path) and two sessions.
	dev := client("dis")
	o.as(oauthtest.Google, "g-dis", "dis@example.com", true)
	g := o.mustSignIn(t, dev, oauthtest.Google)
	u := o.user(t, g.UserID)
	if err := o.svc.SetPassword(ctx, u.ID, "password-1"); err != nil {
		t.Fatal(err)
	}
	pw, err := o.svc.Login(ctx, dev, simpleuser.LoginInput{Email: "dis@example.com", Password: "password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if o.sessionAlive(t, pw.Token) {
		t.Fatal("disabling left a session alive")
	}
	other := client("dis-2")
	_, err = o.svc.ResolveUser(ctx, simpleuser.Client{SSAID: dev.SSAID, Token: pw.Token})
	if simpleuser.AsError(err).Status != 401 {
		t.Fatalf("revoked token: %v", err)
	}
	o.clock.Advance(61e9)
	if err := o.svc.SendCode(ctx, other, "dis@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.Login(ctx, other, simpleuser.LoginInput{Email: "dis@example.com", Code: o.mail.code("dis@example.com", hooks.PurposeLogin)})
	disabled("code login", err)
	_, err = o.svc.Login(ctx, other, simpleuser.LoginInput{Email: "dis@example.com", Password: "password-1"})
	disabled("password login", err)
	_, err = o.signIn(t, other, oauthtest.Google)
	disabled("provider sign-in with a linked identity", err)
	o.as(oauthtest.GitHub, "9999", "dis@example.com", true)
	_, err = o.signIn(t, other, oauthtest.GitHub)
	disabled("provider sign-in linking by verified email", err)
	if got := o.identities(t, u.ID); !slices.Equal(got, []string{"google/g-dis"}) {
		t.Fatalf("a refused sign-in linked an identity: %v", got)
	}
	_, err = o.link(t, other, o.user(t, u.ID), oauthtest.X)
	disabled("link", err)

	// A disabled anonymous user: its device can neither be resolved nor sign up.
	anonDev := client("dis-anon")
	anon, err := o.svc.ResolveUser(ctx, anonDev)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.svc.SetDisabled(ctx, anon.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.ResolveUser(ctx, anonDev)
	disabled("anonymous resolution", err)
	o.as(oauthtest.TikTok, "tt-anon", "", false)
	_, err = o.signIn(t, anonDev, oauthtest.TikTok)
	disabled("provider sign-up from a disabled anonymous user", err)
	if err := o.svc.SendCode(ctx, anonDev, "new-anon@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.Login(ctx, anonDev, simpleuser.LoginInput{Email: "new-anon@example.com", Code: o.mail.code("new-anon@example.com", hooks.PurposeLogin)})
	disabled("code sign-up from a disabled anonymous user", err)

	// Enabled again: every method works.
	if err := o.svc.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := o.mustSignIn(t, other, oauthtest.Google); r.UserID != u.ID {
		t.Fatalf("sign-in after re-enabling: user %d", r.UserID)
	}

	mu.Lock()
	defer mu.Unlock()
	var types, reasons []string
	for _, e := range evs {
		types = append(types, e.Type)
		if e.Type == hooks.LoginFailed {
			reasons = append(reasons, e.Reason)
		}
	}
	for _, want := range []string{hooks.UserDisabled, hooks.UserEnabled} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s event in %v", want, types)
		}
	}
	if n := countOf(reasons, "disabled"); n < 5 {
		t.Errorf("LoginFailed reasons %v, want a \"disabled\" one per refused login", reasons)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// Disabled stays disabled: a disabled account cannot unregister itself
// (by code or token: 403 ACCOUNT_DISABLED, the code left unspent), and one
// that was unregistered before an admin disabled it never expires: the
// purge keeps it, its address is never freed, and a code login for that
// address is refused instead of making a fresh, enabled account.
func TestDisabledStaysDisabled(t *testing.T) { forBackends(t, testDisabledStaysDisabled) }

func testDisabledStaysDisabled(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	disabled := func(what string, err error) {
		t.Helper()
		if e := simpleuser.AsError(err); e == nil || e.Status != 403 || e.Code != simpleuser.CodeAccountDisabled {
			t.Fatalf("%s: %v, want 403 ACCOUNT_DISABLED", what, err)
		}
	}
	send := func(c simpleuser.Client, email, purpose string) string {
		t.Helper()
		f.clock.Advance(time.Minute)
		if err := f.svc.SendCode(ctx, c, email, purpose); err != nil {
			t.Fatal(err)
		}
		return f.mail.code(email, purpose)
	}

	// Self-service unregistration of a disabled account is refused.
	c, email := client("ds"), "ds@example.com"
	res := f.login(t, c, email)
	if err := f.svc.SetDisabled(ctx, res.UserID, true); err != nil {
		t.Fatal(err)
	}
	code := send(c, email, hooks.PurposeUnregister)
	disabled("unregister-with-code", f.svc.UnregisterWithCode(ctx, email, code))
	u, err := f.svc.GetUser(ctx, res.UserID)
	if err != nil || u.Unregistered() {
		t.Fatalf("after the refused unregister: %+v, %v", u, err)
	}
	disabled("unregister by the Go API", f.svc.Unregister(ctx, u))
	if err := f.svc.SetDisabled(ctx, res.UserID, false); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UnregisterWithCode(ctx, email, code); err != nil {
		t.Fatalf("the same code once re-enabled: %v (the refusal must not spend it)", err)
	}

	// Unregistered, then disabled by an admin, then the grace period ends.
	c2, email2 := client("ds2"), "ds2@example.com"
	res2 := f.login(t, c2, email2)
	u2, _ := f.svc.GetUser(ctx, res2.UserID)
	if err := f.svc.Unregister(ctx, u2); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, res2.UserID, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(simpleuser.DefaultUnregisterGrace + time.Hour)
	if _, err := f.svc.PurgeUnregistered(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetUser(ctx, res2.UserID); err != nil {
		t.Fatalf("the purge deleted a disabled account: %v", err)
	}
	if ok, err := f.svc.UserExists(ctx, email2); err != nil || !ok {
		t.Fatalf("user-exists for the disabled account's address: %v, %v; want true", ok, err)
	}
	_, err = f.svc.Login(ctx, client("ds2-new"), simpleuser.LoginInput{Email: email2, Code: send(client("ds2-new"), email2, hooks.PurposeLogin)})
	disabled("code login for a disabled account's address", err)
	if _, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: email2}); simpleuser.AsError(err).Status != 409 {
		t.Fatalf("CreateUser with a disabled account's address: %v, want 409", err)
	}
	if got, err := f.svc.GetUserByEmail(ctx, email2); err != nil || got.ID != res2.UserID || !got.Disabled {
		t.Fatalf("the address's holder: %+v, %v; want the disabled account %d", got, err, res2.UserID)
	}
}

// A suspended account is refused as a disabled one is, but with 403
// ACCOUNT_SUSPENDED (Nest Auth's code) and LoginFailed reason "suspended";
// a plain disabling still answers ACCOUNT_DISABLED.
func TestSuspendedEverywhere(t *testing.T) { forBackends(t, testSuspendedEverywhere) }

func testSuspendedEverywhere(t *testing.T, newFixture fixtureMaker) {
	var mu sync.Mutex
	var reasons []string
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			if e.Type == hooks.LoginFailed {
				mu.Lock()
				reasons = append(reasons, e.Reason)
				mu.Unlock()
			}
			return nil
		}
	})
	ctx := context.Background()
	refused := func(what string, err error, code string) {
		t.Helper()
		if e := simpleuser.AsError(err); e == nil || e.Status != 403 || e.Code != code {
			t.Fatalf("%s: %v, want 403 %s", what, err, code)
		}
	}
	dev := client("susp")
	o.as(oauthtest.Google, "g-susp", "susp@example.com", true)
	g := o.mustSignIn(t, dev, oauthtest.Google)
	if err := o.svc.SetPassword(ctx, g.UserID, "password-1"); err != nil {
		t.Fatal(err)
	}
	if err := o.svc.SetStatus(ctx, g.UserID, user.StatusSuspended, "fraud review"); err != nil {
		t.Fatal(err)
	}
	other := client("susp-2")
	_, err := o.svc.Login(ctx, other, simpleuser.LoginInput{Email: "susp@example.com", Password: "password-1"})
	refused("password login", err, simpleuser.CodeAccountSuspended)
	o.clock.Advance(61e9)
	if err := o.svc.SendCode(ctx, other, "susp@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.Login(ctx, other, simpleuser.LoginInput{Email: "susp@example.com", Code: o.mail.code("susp@example.com", hooks.PurposeLogin)})
	refused("code login", err, simpleuser.CodeAccountSuspended)
	_, err = o.signIn(t, other, oauthtest.Google)
	refused("provider sign-in", err, simpleuser.CodeAccountSuspended)

	// A suspended anonymous user is refused when resolved.
	anonDev := client("susp-anon")
	anon, err := o.svc.ResolveUser(ctx, anonDev)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.svc.SetStatus(ctx, anon.ID, user.StatusSuspended, ""); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.ResolveUser(ctx, anonDev)
	refused("anonymous resolution", err, simpleuser.CodeAccountSuspended)

	// Disabled without suspension: ACCOUNT_DISABLED again.
	if err := o.svc.SetStatus(ctx, g.UserID, user.StatusDisabled, ""); err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.Login(ctx, other, simpleuser.LoginInput{Email: "susp@example.com", Password: "password-1"})
	refused("password login, disabled", err, simpleuser.CodeAccountDisabled)

	mu.Lock()
	defer mu.Unlock()
	if n := countOf(reasons, "suspended"); n != 3 {
		t.Errorf("LoginFailed reasons %v, want 3 \"suspended\" (password, code, provider)", reasons)
	}
	if n := countOf(reasons, "disabled"); n != 1 {
		t.Errorf("LoginFailed reasons %v, want 1 \"disabled\"", reasons)
	}
}
