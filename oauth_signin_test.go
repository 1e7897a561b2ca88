package simpleuser_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
	"github.com/simpleuser/simpleuser/user"
)

// The linking rules of OAuthSignIn, each on both backend sets.

// Rule 3: a first sign-in registers the device's anonymous user in place,
// with the hooks and events of a code registration; the provider's
// verified address becomes the account's email.
func TestOAuthFirstSignInUpgradesAnonymous(t *testing.T) {
	forBackends(t, testOAuthFirstSignInUpgradesAnonymous)
}

func testOAuthFirstSignInUpgradesAnonymous(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	var infos []hooks.LoginInfo
	var payloads []hooks.Payload
	var evs []hooks.Event
	var mu sync.Mutex
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) {
		recordingHooks(rec, &c.Hooks)
		c.Hooks.OnLogin = func(_ context.Context, _ *user.User, i hooks.LoginInfo) error {
			mu.Lock()
			infos = append(infos, i)
			mu.Unlock()
			rec.add("OnLogin")
			return nil
		}
		c.Hooks.AfterCreate = func(_ context.Context, u *user.User, p hooks.Payload) error {
			mu.Lock()
			payloads = append(payloads, p)
			mu.Unlock()
			rec.add("AfterCreate")
			return nil
		}
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
			rec.add("event:" + e.Type)
			return nil
		}
	})
	ctx := context.Background()
	dev := client("oauth-dev")
	anon, err := o.svc.ResolveUser(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	o.as(oauthtest.Google, "g-123", "Ann@Example.com", true)
	res := o.mustSignIn(t, dev, oauthtest.Google)
	if res.UserID != anon.ID || !res.Created || len(res.Token) != 64 {
		t.Fatalf("sign-in = user %d created %v, want the anonymous user %d, created", res.UserID, res.Created, anon.ID)
	}
	u := o.user(t, res.UserID)
	if u.Email != "Ann@Example.com" || u.SSAID != "" || !u.Registered() || u.RegisterTime.IsZero() || u.LoginTime.IsZero() {
		t.Fatalf("upgraded user = %+v", u)
	}
	if !u.EmailVerified() { // the provider vouched for the address
		t.Fatalf("provider sign-up with a verified address: EmailVerifiedAt zero")
	}
	if got := o.identities(t, u.ID); !slices.Equal(got, []string{"google/g-123"}) {
		t.Fatalf("identities %v", got)
	}
	wantOrder := []string{"BeforeCreate", "AfterCreate", "OnLogin", "GetSessionUserData"}
	if got := rec.list(); !slices.Equal(hooksOnly(got), wantOrder) {
		t.Fatalf("hooks %v, want %v", hooksOnly(got), wantOrder)
	}
	if got := rec.events(); !slices.Equal(got, []string{hooks.UserRegistered, hooks.IdentityLinked, hooks.LoggedIn}) {
		t.Fatalf("events %v", got)
	}
	if i := infos[0]; i.Method != "oauth" || i.Provider != "google" || !i.Created || i.SSAID != dev.SSAID {
		t.Fatalf("OnLogin info %+v", i)
	}
	if p := payloads[0]; p.String("provider") != "google" || p.String("name") != "Name g-123" {
		t.Fatalf("signup payload %v", p)
	}
	for _, e := range evs {
		if e.Identity == nil || e.Identity.Subject != "g-123" || e.Identity.UserID != u.ID || e.Provider != "google" {
			t.Fatalf("event %s identity %+v provider %q", e.Type, e.Identity, e.Provider)
		}
	}

	// Rule 1: the next sign-in, from another device, is the same account.
	o.clock.Advance(time.Minute)
	other := client("oauth-other")
	if _, err := o.svc.ResolveUser(ctx, other); err != nil { // that device has an anonymous user
		t.Fatal(err)
	}
	o.fakes[oauthtest.Google].SetUser(oauthtest.User{Subject: "g-123", Email: "ann.new@example.com", EmailVerified: true})
	again := o.mustSignIn(t, other, oauthtest.Google)
	if again.UserID != u.ID || again.Created {
		t.Fatalf("second sign-in = user %d created %v, want %d", again.UserID, again.Created, u.ID)
	}
	if !slices.Contains(rec.list(), "OnMigrateUser") {
		t.Fatal("OnMigrateUser not told about the other device's anonymous user")
	}
	ids, _ := o.svc.Identities(ctx, u.ID)
	if !ids[0].LastUsedAt.Equal(o.clock.Now()) || ids[0].Email != "ann.new@example.com" {
		t.Fatalf("identity after the second sign-in: %+v", ids[0])
	}
	if o.user(t, u.ID).Email != "Ann@Example.com" {
		t.Fatal("a provider's new address replaced the account's email")
	}
	if !o.sessionAlive(t, res.Token) || !o.sessionAlive(t, again.Token) {
		t.Fatal("a sign-in revoked another session")
	}
}

// hooksOnly drops events from a recorder list.
func hooksOnly(calls []string) []string {
	var out []string
	for _, c := range calls {
		if len(c) < 6 || c[:6] != "event:" {
			out = append(out, c)
		}
	}
	return out
}

// Rule 3 without a usable address: X and TikTok give none; an account is
// still registered, without email.
func TestOAuthSignUpWithoutEmail(t *testing.T) { forBackends(t, testOAuthSignUpWithoutEmail) }

func testOAuthSignUpWithoutEmail(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	for _, k := range []oauthtest.Kind{oauthtest.X, oauthtest.TikTok} {
		res := o.mustSignIn(t, client("noemail-"+string(k)), k)
		u := o.user(t, res.UserID)
		if u.Email != "" || u.SSAID != "" || !u.Registered() || !u.EmailVerifiedAt.IsZero() {
			t.Fatalf("%s account = %+v, want registered without email", k, u)
		}
	}
}

// Rule 2 is opt-in: by default a verified address held by an account does
// not link; the new account is created without that address.
func TestOAuthVerifiedEmailDoesNotLinkByDefault(t *testing.T) {
	forBackends(t, testOAuthVerifiedEmailDoesNotLinkByDefault)
}

func testOAuthVerifiedEmailDoesNotLinkByDefault(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	existing := o.login(t, client("owner"), "owner@example.com")
	o.as(oauthtest.Google, "g-owner", "Owner@Example.com", true)
	res := o.mustSignIn(t, client("newcomer"), oauthtest.Google)
	if res.UserID == existing.UserID || !res.Created {
		t.Fatalf("signed in to user %d (existing %d), created %v: want a new account", res.UserID, existing.UserID, res.Created)
	}
	if u := o.user(t, res.UserID); u.Email != "" {
		t.Fatalf("new account took the address of another: %q", u.Email)
	}
	if got := o.identities(t, existing.UserID); len(got) != 0 {
		t.Fatalf("the existing account got identities %v", got)
	}
}

// Rule 2: with LinkVerifiedEmail, a provider-verified address links to the
// live account holding it (case-insensitively).
func TestOAuthVerifiedEmailLinksWhenConfigured(t *testing.T) {
	forBackends(t, testOAuthVerifiedEmailLinksWhenConfigured)
}

func testOAuthVerifiedEmailLinksWhenConfigured(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) {
		c.OAuth.LinkVerifiedEmail = true
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error { rec.add("event:" + e.Type); return nil }
	})
	existing := o.login(t, client("owner"), "owner@example.com")
	before := len(rec.events())
	o.as(oauthtest.GitHub, "4242", "Owner@Example.com", true)
	res := o.mustSignIn(t, client("owner-laptop"), oauthtest.GitHub)
	if res.UserID != existing.UserID || res.Created {
		t.Fatalf("signed in to user %d created %v, want the existing %d", res.UserID, res.Created, existing.UserID)
	}
	if got := o.identities(t, existing.UserID); !slices.Equal(got, []string{"github/4242"}) {
		t.Fatalf("identities %v", got)
	}
	if ev := rec.events()[before:]; !slices.Equal(ev, []string{hooks.IdentityLinked, hooks.LoggedIn}) {
		t.Fatalf("events %v", ev)
	}
	if !o.sessionAlive(t, existing.Token) {
		t.Fatal("linking revoked the account's other session")
	}
}

// An address the provider did not verify never links, and never becomes
// the email of a new account (it would squat the real owner's address).
func TestOAuthUnverifiedEmailNeverLinks(t *testing.T) {
	forBackends(t, testOAuthUnverifiedEmailNeverLinks)
}

func testOAuthUnverifiedEmailNeverLinks(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) { c.OAuth.LinkVerifiedEmail = true })
	victim := o.login(t, client("victim"), "victim@example.com")
	o.as(oauthtest.GitHub, "666", "victim@example.com", false)
	res := o.mustSignIn(t, client("attacker"), oauthtest.GitHub)
	if res.UserID == victim.UserID {
		t.Fatal("an unverified address took over the account")
	}
	if u := o.user(t, res.UserID); u.Email != "" {
		t.Fatalf("new account email %q, want none", u.Email)
	}
	if got := o.identities(t, victim.UserID); len(got) != 0 {
		t.Fatalf("victim's identities %v", got)
	}

	o.as(oauthtest.GitHub, "667", "nobody-yet@example.com", false)
	res = o.mustSignIn(t, client("squatter"), oauthtest.GitHub)
	if u := o.user(t, res.UserID); u.Email != "" {
		t.Fatalf("an unverified address became the account's email: %q", u.Email)
	}
	if ok, _ := o.svc.UserExists(context.Background(), "nobody-yet@example.com"); ok {
		t.Fatal("the unverified address is now taken")
	}
}

// A provider account linked to one user is never moved to another: an
// explicit link by another user is 409, and it stays where it was.
func TestOAuthIdentityOfAnotherUserIsNeverMoved(t *testing.T) {
	forBackends(t, testOAuthIdentityOfAnotherUserIsNeverMoved)
}

func testOAuthIdentityOfAnotherUserIsNeverMoved(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) { c.OAuth.LinkVerifiedEmail = true })
	o.as(oauthtest.Google, "shared-sub", "a@example.com", true)
	a := o.mustSignIn(t, client("dev-a"), oauthtest.Google)
	bdev := client("dev-b")
	b := o.login(t, bdev, "b@example.com")
	_, err := o.link(t, bdev, o.user(t, b.UserID), oauthtest.Google)
	wantCode(t, err, 409, simpleuser.CodeIdentityTaken)
	if got := o.identities(t, a.UserID); !slices.Equal(got, []string{"google/shared-sub"}) {
		t.Fatalf("a's identities %v", got)
	}
	if got := o.identities(t, b.UserID); len(got) != 0 {
		t.Fatalf("b's identities %v", got)
	}
	// And signing in with it is still a's account, even from b's device.
	if res := o.mustSignIn(t, bdev, oauthtest.Google); res.UserID != a.UserID {
		t.Fatalf("sign-in went to %d, want %d", res.UserID, a.UserID)
	}
}

// A sign-in recovers an account unregistered within the grace period; past
// it, the old account is deleted (identities with it) and a new one made.
func TestOAuthSignInRecoversUnregistered(t *testing.T) {
	forBackends(t, testOAuthSignInRecoversUnregistered)
}

func testOAuthSignInRecoversUnregistered(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	ctx := context.Background()
	res := o.mustSignIn(t, client("rec"), oauthtest.TikTok)
	if err := o.svc.Unregister(ctx, o.user(t, res.UserID)); err != nil {
		t.Fatal(err)
	}
	back := o.mustSignIn(t, client("rec"), oauthtest.TikTok)
	if back.UserID != res.UserID || back.Created || o.user(t, res.UserID).Unregistered() {
		t.Fatalf("recovery: user %d created %v", back.UserID, back.Created)
	}
	if err := o.svc.Unregister(ctx, o.user(t, res.UserID)); err != nil {
		t.Fatal(err)
	}
	o.clock.Advance(simpleuser.DefaultUnregisterGrace + time.Hour)
	fresh := o.mustSignIn(t, client("rec"), oauthtest.TikTok)
	if fresh.UserID == res.UserID || !fresh.Created {
		t.Fatalf("after the grace period: user %d created %v, want a new account", fresh.UserID, fresh.Created)
	}
	if _, err := o.svc.GetUser(ctx, res.UserID); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("the expired account: %v, want it deleted", err)
	}
}

// Two devices signing up with one provider account at once end up on one
// account: the loser of the race signs in to the winner's.
func TestOAuthConcurrentFirstSignIn(t *testing.T) { forBackends(t, testOAuthConcurrentFirstSignIn) }

func testOAuthConcurrentFirstSignIn(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	const n = 4
	type flow struct {
		c           simpleuser.Client
		state, code string
	}
	flows := make([]flow, n)
	for i := range flows {
		c := client(fmt.Sprintf("race-%d", i))
		s, code := o.flow(t, c, oauthtest.GitHub)
		flows[i] = flow{c, s, code}
	}
	results := make([]*simpleuser.LoginResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range flows {
		wg.Go(func() {
			results[i], errs[i] = o.svc.OAuthSignIn(context.Background(), flows[i].c, "github", flows[i].state, flows[i].code, "")
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("sign-in %d: %v", i, errs[i])
		}
		if results[i].UserID != results[0].UserID {
			t.Fatalf("sign-ins landed on users %d and %d", results[0].UserID, results[i].UserID)
		}
		if results[i].Created {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d sign-ins created the account, want 1", created)
	}
}

// TestOAuthRedirectsPerProvider: a start accepts the provider's own
// callback URIs only: another provider's is 400 REDIRECT_NOT_ALLOWED.
func TestOAuthRedirectsPerProvider(t *testing.T) { forBackends(t, testOAuthRedirectsPerProvider) }

func testOAuthRedirectsPerProvider(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	ctx := context.Background()
	dev := client("oauth-redirects")
	for _, k := range oauthtest.Kinds {
		for _, other := range oauthtest.Kinds {
			_, err := o.svc.OAuthStart(ctx, dev, string(k), callbackOf(string(other)))
			if other == k {
				if err != nil {
					t.Errorf("start %s with its callback: %v", k, err)
				}
				continue
			}
			if e := simpleuser.AsError(err); e.Status != 400 || e.Code != simpleuser.CodeRedirectNotAllowed {
				t.Errorf("start %s with %s's callback: %v, want 400 %s", k, other, err, simpleuser.CodeRedirectNotAllowed)
			}
		}
	}
}

// TestOAuthConfigRedirects: New refuses allowed redirects that name no
// provider, and a provider without any, naming it.
func TestOAuthConfigRedirects(t *testing.T) {
	g := oauthtest.NewServer(t, oauthtest.Google).Provider(t)
	h := oauthtest.NewServer(t, oauthtest.GitHub).Provider(t)
	for _, tc := range []struct {
		name      string
		redirects map[string][]string
		want      string
	}{
		{"unknown provider", map[string][]string{"google": {callbackOf("google")}, "github": {callbackOf("github")}, "gitlab": {callbackOf("gitlab")}}, `AllowedRedirects["gitlab"]: no provider of that name`},
		{"provider without redirects", map[string][]string{"google": {callbackOf("google")}}, `provider "github" has no redirect URI`},
		{"none at all", nil, `provider "google" has no redirect URI`},
	} {
		_, err := simpleuser.New(simpleuser.Config{
			Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "", nil }},
			OAuth: simpleuser.OAuthConfig{Providers: []oauth.Provider{g, h}, AllowedRedirects: tc.redirects},
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Config.OAuth") {
			t.Errorf("%s: New: %v, want an error with Config.OAuth and %s", tc.name, err, tc.want)
		}
	}
}
