package simpleuser_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// Explicit links and unlinks: each emits an event and revokes nothing.
func TestOAuthLinkAndUnlink(t *testing.T) { forBackends(t, testOAuthLinkAndUnlink) }

func testOAuthLinkAndUnlink(t *testing.T, newFixture fixtureMaker) {
	var mu sync.Mutex
	var evs []hooks.Event
	o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
			return nil
		}
	})
	ctx := context.Background()
	dev := client("linker")
	res := o.login(t, dev, "linker@example.com")
	u := o.user(t, res.UserID)
	before := len(evs)

	gh, err := o.link(t, dev, u, oauthtest.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	if gh.UserID != u.ID || gh.Provider != "github" || gh.Subject != "583231" || gh.CreatedAt.IsZero() {
		t.Fatalf("linked %+v", gh)
	}
	if _, err := o.link(t, dev, u, oauthtest.X); err != nil {
		t.Fatal(err)
	}
	if got := o.identities(t, u.ID); !slices.Equal(got, []string{"github/583231", "x/Sub-x-AbC123"}) {
		t.Fatalf("identities %v", got)
	}
	// Linking what the user already has: success, nothing changes, no event.
	again, err := o.link(t, dev, u, oauthtest.GitHub)
	if err != nil || !again.CreatedAt.Equal(gh.CreatedAt) {
		t.Fatalf("relink: %+v, %v", again, err)
	}
	if err := o.svc.Unlink(ctx, u, "github", "583231"); err != nil {
		t.Fatal(err)
	}
	if got := o.identities(t, u.ID); !slices.Equal(got, []string{"x/Sub-x-AbC123"}) {
		t.Fatalf("identities after unlink %v", got)
	}
	wantCode(t, o.svc.Unlink(ctx, u, "github", "583231"), 404, simpleuser.CodeIdentityNotFound)
	wantCode(t, o.svc.Unlink(ctx, u, "x", "sub-x-abc123"), 404, simpleuser.CodeIdentityNotFound) // subjects are case-sensitive

	mu.Lock()
	var types []string
	for _, e := range evs[before:] {
		types = append(types, e.Type)
		if e.Identity == nil || e.UserID != u.ID {
			t.Errorf("%s without its identity or user: %+v", e.Type, e)
		}
	}
	mu.Unlock()
	if want := []string{hooks.IdentityLinked, hooks.IdentityLinked, hooks.IdentityUnlinked}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if !o.sessionAlive(t, res.Token) {
		t.Fatal("linking or unlinking revoked a session")
	}
	// The linked provider signs in to the account.
	if r := o.mustSignIn(t, client("elsewhere"), oauthtest.X); r.UserID != u.ID {
		t.Fatalf("sign-in with the linked provider went to %d, want %d", r.UserID, u.ID)
	}
}

// Unlink is refused when it would leave the user no way to sign in.
func TestOAuthUnlinkLastSignInMethod(t *testing.T) { forBackends(t, testOAuthUnlinkLastSignInMethod) }

func testOAuthUnlinkLastSignInMethod(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	ctx := context.Background()
	dev := client("only-x")
	res := o.mustSignIn(t, dev, oauthtest.X) // X gives no email
	u := o.user(t, res.UserID)
	wantCode(t, o.svc.Unlink(ctx, u, "x", "Sub-x-AbC123"), 409, simpleuser.CodeLastSignInMethod)
	if _, err := o.link(t, dev, u, oauthtest.TikTok); err != nil {
		t.Fatal(err)
	}
	if err := o.svc.Unlink(ctx, u, "x", "Sub-x-AbC123"); err != nil {
		t.Fatalf("unlink with another provider left: %v", err)
	}
	wantCode(t, o.svc.Unlink(ctx, u, "tiktok", "Sub-tiktok-AbC123"), 409, simpleuser.CodeLastSignInMethod)

	// With an email address, the last provider can go.
	withEmail := o.mustSignIn(t, client("google-user"), oauthtest.Google)
	g := o.user(t, withEmail.UserID)
	if g.Email == "" {
		t.Fatal("google account without email")
	}
	if err := o.svc.Unlink(ctx, g, "google", "Sub-google-AbC123"); err != nil {
		t.Fatalf("unlink of the last provider of an account with email: %v", err)
	}
}

// Concurrent unlinks of a user's last two providers: one wins, the other
// is refused; the user keeps a way to sign in.
func TestOAuthConcurrentUnlinks(t *testing.T) { forBackends(t, testOAuthConcurrentUnlinks) }

func testOAuthConcurrentUnlinks(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	dev := client("two-ways")
	res := o.mustSignIn(t, dev, oauthtest.X)
	u := o.user(t, res.UserID)
	if _, err := o.link(t, dev, u, oauthtest.TikTok); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, k := range [][2]string{{"x", "Sub-x-AbC123"}, {"tiktok", "Sub-tiktok-AbC123"}} {
		wg.Go(func() { errs[i] = o.svc.Unlink(context.Background(), u, k[0], k[1]) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("unlink results %v, %v: want exactly one refused", errs[0], errs[1])
	}
	if got := o.identities(t, u.ID); len(got) != 1 {
		t.Fatalf("identities left %v, want 1", got)
	}
}

// An account made by a provider without an address: no password until it
// has one (password login is by email); change-email adds the first one.
func TestOAuthAccountAddsEmailThenPassword(t *testing.T) {
	forBackends(t, testOAuthAccountAddsEmailThenPassword)
}

func testOAuthAccountAddsEmailThenPassword(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	ctx := context.Background()
	dev := client("x-user")
	res := o.mustSignIn(t, dev, oauthtest.X)
	u := o.user(t, res.UserID)
	wantCode(t, o.svc.ChangePassword(ctx, dev, u, "new-password-1", ""), 400, simpleuser.CodeEmailRequired)
	if err := o.svc.SendCode(ctx, dev, "x-user@example.com", hooks.PurposeChangeEmail); err != nil {
		t.Fatal(err)
	}
	if err := o.svc.ChangeEmail(ctx, u, "x-user@example.com", o.mail.code("x-user@example.com", hooks.PurposeChangeEmail)); err != nil {
		t.Fatalf("first email of a provider account: %v", err)
	}
	u = o.user(t, res.UserID)
	if err := o.svc.ChangePassword(ctx, dev, u, "new-password-1", ""); err != nil {
		t.Fatal(err)
	}
	pw, err := o.svc.Login(ctx, client("x-user-laptop"), simpleuser.LoginInput{Email: "x-user@example.com", Password: "new-password-1"})
	if err != nil || pw.UserID != u.ID {
		t.Fatalf("password login after adding an email: %v", err)
	}
}
