package simpleuser_test

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
)

// Issue 13 point 1, end to end through the service on every backend: one
// mailbox is one account, and a look-alike address is never another
// person's account.

// register creates the account of email with a Login code and a password.
func register(t *testing.T, f *fixture, ssaid, email, pw string) *simpleuser.LoginResult {
	t.Helper()
	ctx := context.Background()
	f.clock.Advance(time.Minute)
	c := client(ssaid)
	if err := f.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
		t.Fatalf("send to %q: %v", email, err)
	}
	res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: f.mail.code(email, hooks.PurposeLogin), SetPassword: pw})
	if err != nil || !res.Created {
		t.Fatalf("register %q: %v (created %v)", email, err, res != nil && res.Created)
	}
	return res
}

// A ResetPassword code sent to user@maİl.example.com (U+0130 in the
// domain: UTS #46 maps it to "i̇", another host) does not reset the
// password of user@mail.example.com, and cannot be spent on it.
func TestResetPasswordLookAlikeDomain(t *testing.T) { forBackends(t, testResetPasswordLookAlikeDomain) }

func testResetPasswordLookAlikeDomain(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const victim, lookAlike = "user@mail.example.com", "user@maİl.example.com"
	victimID := register(t, f, "victim", victim, "victim-password-1").UserID

	f.clock.Advance(time.Minute)
	attacker := client("attacker")
	if err := f.svc.SendCode(ctx, attacker, lookAlike, hooks.PurposeResetPassword); err != nil {
		t.Fatalf("send to the look-alike (a valid address of another host): %v", err)
	}
	code := f.mail.code(lookAlike, hooks.PurposeResetPassword)
	if err := f.svc.ResetPassword(ctx, victim, code, "attacker-password"); status(err) != 403 {
		t.Errorf("the look-alike's code spent on the victim's address: status %d, want 403", status(err))
	}
	if err := f.svc.ResetPassword(ctx, lookAlike, code, "attacker-password"); err != nil {
		t.Errorf("ResetPassword of the look-alike (no account: success, no enumeration): %v", err)
	}
	if _, err := f.svc.Login(ctx, client("victim-2"), simpleuser.LoginInput{Email: victim, Password: "attacker-password"}); status(err) != 403 {
		t.Errorf("the attacker's password on the victim's account: status %d, want 403", status(err))
	}
	res, err := f.svc.Login(ctx, client("victim-3"), simpleuser.LoginInput{Email: victim, Password: "victim-password-1"})
	if err != nil || res.UserID != victimID {
		t.Errorf("the victim's own password: %v (user %v), want user %d", err, res, victimID)
	}
	if ok, err := f.svc.UserExists(ctx, lookAlike); err != nil || ok {
		t.Errorf("UserExists(look-alike) = %v, %v; want false", ok, err)
	}
}

// Kate@example.com with U+212A KELVIN SIGN for the K (which NFC turns into
// the Latin K) is refused with 400 everywhere: it never reaches the
// account of kate@example.com, by code or by password. So are addresses
// mixing scripts in one part.
func TestKelvinSignNeverLogsIn(t *testing.T) { forBackends(t, testKelvinSignNeverLogsIn) }

func testKelvinSignNeverLogsIn(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const kelvin = "\u212Aate@example.com"
	register(t, f, "kate", "kate@example.com", "kate-password-1")

	f.clock.Advance(time.Minute)
	att := client("attacker")
	if err := f.svc.SendCode(ctx, att, kelvin, hooks.PurposeLogin); status(err) != 400 {
		t.Errorf("SendCode(Kelvin-K ate): status %d, want 400", status(err))
	}
	for what, in := range map[string]simpleuser.LoginInput{
		"code":     {Email: kelvin, Code: "C0DE77a"},
		"password": {Email: kelvin, Password: "kate-password-1"},
	} {
		if res, err := f.svc.Login(ctx, att, in); status(err) != 400 {
			t.Errorf("Login(Kelvin-K ate) by %s: %v (status %d), want 400 and no token", what, res, status(err))
		}
	}
	if _, err := f.svc.UserExists(ctx, kelvin); status(err) != 400 {
		t.Errorf("UserExists(Kelvin-K ate): status %d, want 400", status(err))
	}
	if err := f.svc.ResetPassword(ctx, kelvin, "C0DE77a", "attacker-password"); status(err) != 400 {
		t.Errorf("ResetPassword(Kelvin-K ate): status %d, want 400", status(err))
	}
	// Mixed scripts within a part (a Cyrillic а among Latin letters) are
	// refused alike.
	for _, e := range []string{"k\u0430te@example.com", "kate@ex\u0430mple.com"} {
		if err := f.svc.SendCode(ctx, att, e, hooks.PurposeLogin); status(err) != 400 {
			t.Errorf("SendCode(%q): status %d, want 400", e, status(err))
		}
	}
}

// josé@example.com typed in NFD and in NFC is one account, one code, one
// cooldown; so is an internationalised domain typed in Unicode and in
// punycode. A second account cannot take either spelling.
func TestEquivalentSpellingsAreOneAccount(t *testing.T) {
	forBackends(t, testEquivalentSpellingsAreOneAccount)
}

func testEquivalentSpellingsAreOneAccount(t *testing.T, newFixture fixtureMaker) {
	for _, tc := range []struct{ name, first, second string }{
		{"NFC then NFD", "jos\u00e9@example.com", "jose\u0301@example.com"},
		{"NFD then NFC", "rene\u0301@example.com", "ren\u00e9@example.com"},
		{"IDN then punycode", "ada@bücher.example", "Ada@XN--BCHER-KVA.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			id := register(t, f, "owner", tc.first, "owner-password-1").UserID

			// The code sent to one spelling logs in with the other.
			f.clock.Advance(time.Minute)
			c := client("other-device")
			if err := f.svc.SendCode(ctx, c, tc.second, hooks.PurposeLogin); err != nil {
				t.Fatal(err)
			}
			res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: tc.first, Code: f.mail.code(tc.second, hooks.PurposeLogin)})
			if err != nil || res.UserID != id || res.Created {
				t.Fatalf("login as %q with the code sent to %q: %v; want user %d, not created", tc.first, tc.second, err, id)
			}
			// One cooldown for both spellings.
			if err := f.svc.SendCode(ctx, client("third-device"), tc.first, hooks.PurposeLogin); status(err) != 429 {
				t.Errorf("a second send within the cooldown, other spelling: status %d, want 429", status(err))
			}
			if ok, err := f.svc.UserExists(ctx, tc.second); err != nil || !ok {
				t.Errorf("UserExists(%q) = %v, %v; want true", tc.second, ok, err)
			}
			if _, err := f.svc.Login(ctx, client("pw"), simpleuser.LoginInput{Email: tc.second, Password: "owner-password-1"}); err != nil {
				t.Errorf("password login as %q: %v", tc.second, err)
			}

			// Another account cannot move onto the other spelling.
			other := register(t, f, "someone", "someone@example.com", "someone-password")
			f.clock.Advance(time.Minute)
			if err := f.svc.SendCode(ctx, client("someone"), tc.second, hooks.PurposeChangeEmail); err != nil {
				t.Fatal(err)
			}
			u, err := f.svc.GetUser(ctx, other.UserID)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.ChangeEmail(ctx, u, tc.second, f.mail.code(tc.second, hooks.PurposeChangeEmail)); status(err) != 409 {
				t.Errorf("ChangeEmail to %q, held by another account as %q: status %d, want 409", tc.second, tc.first, status(err))
			}
		})
	}
}
