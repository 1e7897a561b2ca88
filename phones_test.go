package simpleuser_test

import (
	"context"
	"errors"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
)

// TestVerifiedEmailFollowsChanges: an email-code sign-up is verified; the
// administrator's SetEmail clears the time (it proves nothing) and the
// sessions' flag with it; a ChangeEmail code sets both again.
func TestVerifiedEmailFollowsChanges(t *testing.T) {
	forBackends(t, func(t *testing.T, newFixture fixtureMaker) {
		f := newFixture(t, func(c *simpleuser.Config) { c.RequireVerifiedEmail = true })
		ctx := context.Background()
		c := client("verified-dev")
		res := f.login(t, c, "ver@example.com")
		c.Token = res.Token
		u, err := f.svc.Users().Get(ctx, res.UserID)
		if err != nil || !u.EmailVerified() {
			t.Fatalf("after an email-code sign-up: %+v, %v; want a verified address", u, err)
		}
		guard := func() error { return simpleuser.VerifiedEmail(f.svc.WithClient(ctx, c)) }
		if err := guard(); err != nil {
			t.Fatalf("VerifiedEmail of a verified account: %v", err)
		}
		if err := f.svc.SetEmail(ctx, u.ID, "moved@example.com"); err != nil {
			t.Fatal(err)
		}
		if u, _ = f.svc.Users().Get(ctx, u.ID); !u.EmailVerifiedAt.IsZero() {
			t.Fatalf("SetEmail kept EmailVerifiedAt %v", u.EmailVerifiedAt)
		}
		if err := guard(); !errors.Is(err, simpleuser.ErrEmailNotVerified) {
			t.Fatalf("VerifiedEmail after SetEmail: %v, want EMAIL_NOT_VERIFIED", err)
		}
		if err := f.svc.SendCode(ctx, client("other-dev"), "new@example.com", hooks.PurposeChangeEmail); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeEmail(f.svc.WithClient(ctx, c), u, "new@example.com", f.mail.code("new@example.com", hooks.PurposeChangeEmail)); err != nil {
			t.Fatal(err)
		}
		if u, _ = f.svc.Users().Get(ctx, u.ID); !u.EmailVerified() {
			t.Fatal("ChangeEmail by code left the address unverified")
		}
		if err := guard(); err != nil {
			t.Fatalf("VerifiedEmail after ChangeEmail: %v", err)
		}
	})
}
