package simpleuser_test

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
)

// A change of address that was under way when an administrator disabled
// the account (the request read the user first) is refused with 403
// ACCOUNT_DISABLED, its code left usable: moving the disabled account to
// another address would free the old one for a fresh, enabled sign-up.
func TestDisabledDuringChangeEmail(t *testing.T) { forBackends(t, testDisabledDuringChangeEmail) }

func testDisabledDuringChangeEmail(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	bg := context.Background()
	u, err := f.svc.CreateUser(bg, simpleuser.NewUser{Email: "held@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SendCode(bg, client("held-dev"), "fresh@example.com", hooks.PurposeChangeEmail); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(bg, u.ID, true); err != nil { // u was read before
		t.Fatal(err)
	}
	err = f.svc.ChangeEmail(bg, u, "fresh@example.com", f.mail.code("fresh@example.com", hooks.PurposeChangeEmail))
	if e := simpleuser.AsError(err); e == nil || e.Status != 403 || e.Code != simpleuser.CodeAccountDisabled {
		t.Errorf("ChangeEmail of an account disabled meanwhile: %v, want 403 ACCOUNT_DISABLED", err)
	}
	if got, err := f.svc.GetUser(bg, u.ID); err != nil || got.Email != "held@example.com" {
		t.Errorf("the disabled account after the refused change: %+v, %v; want it to keep held@example.com", got, err)
	}
	f.clock.Advance(2 * time.Minute)
	c := client("newcomer")
	if err := f.svc.SendCode(bg, c, "held@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Login(bg, c, simpleuser.LoginInput{Email: "held@example.com", Code: f.mail.code("held@example.com", hooks.PurposeLogin)})
	if e := simpleuser.AsError(err); e == nil || e.Code != simpleuser.CodeAccountDisabled {
		t.Errorf("a sign-up with the disabled account's address: %v, want 403 ACCOUNT_DISABLED", err)
	}
}
