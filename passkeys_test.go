package simpleuser_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/softauthn"
	"github.com/simpleuser/simpleuser/passkey"
)

var passkeyPage = softauthn.Page{ID: "example.com", Origin: "https://example.com"}

func passkeysOn(c *simpleuser.Config) {
	c.Passkeys = simpleuser.PasskeyConfig{Enabled: true, RPID: "example.com", RPName: "Example", Origins: []string{"https://example.com"}}
}

// TestPasskeyConfig: passkeys on without a relying party, or a relying
// party without passkeys on, is a configuration error naming the field.
func TestPasskeyConfig(t *testing.T) {
	send := func(context.Context, hooks.SendCodeRequest) (string, error) { return "1", nil }
	for name, tc := range map[string]struct {
		p    simpleuser.PasskeyConfig
		want string
	}{
		"enabled, nothing else": {simpleuser.PasskeyConfig{Enabled: true}, "Config.Passkeys"},
		"no rp id":              {simpleuser.PasskeyConfig{Enabled: true, RPName: "E", Origins: []string{"https://example.com"}}, "RPID"},
		"no rp name":            {simpleuser.PasskeyConfig{Enabled: true, RPID: "example.com", Origins: []string{"https://example.com"}}, "RPName"},
		"no origins":            {simpleuser.PasskeyConfig{Enabled: true, RPID: "example.com", RPName: "E"}, "Origins"},
		"origin elsewhere":      {simpleuser.PasskeyConfig{Enabled: true, RPID: "example.com", RPName: "E", Origins: []string{"https://example.org"}}, "Origins"},
		"not enabled":           {simpleuser.PasskeyConfig{RPID: "example.com", RPName: "E", Origins: []string{"https://example.com"}}, "Config.Passkeys.Enabled"},
	} {
		_, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, Passkeys: tc.p})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error naming %s", name, err, tc.want)
		}
	}
	if f := newFixture(t, passkeysOn); f.svc.Passkeys() == nil {
		t.Error("passkeys on, but no relying party")
	}
	if f := newFixture(t, nil); f.svc.Passkeys() != nil {
		t.Error("passkeys off, yet a relying party")
	}
}

// addPasskey adds a's passkey to the account of email through the Go API.
func (f *fixture) addPasskey(t *testing.T, c simpleuser.Client, email string, a *softauthn.Authenticator) int64 {
	t.Helper()
	ctx := context.Background()
	res := f.login(t, c, email)
	rp := f.svc.Passkeys()
	ch, err := rp.BeginRegistration(ctx, passkey.Account{UserID: res.UserID, Name: email}, c.SSAID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.FinishRegistration(ctx, res.UserID, c.SSAID, ch.ID, a.Attest(t, passkeyPage, ch.Options), "k"); err != nil {
		t.Fatal(err)
	}
	return res.UserID
}

func (f *fixture) passkeySignIn(c simpleuser.Client, a *softauthn.Authenticator, t *testing.T) (*simpleuser.LoginResult, error) {
	t.Helper()
	ch, err := f.svc.Passkeys().BeginSignIn(context.Background(), c.SSAID)
	if err != nil {
		t.Fatal(err)
	}
	a.Cred.Counter++
	return f.svc.PasskeySignIn(context.Background(), c, ch.ID, a.Assert(t, passkeyPage, ch.Options))
}

// TestPasskeySignInLifecycle: a passkey sign-in recovers an account
// unregistered within the grace period, as any login does; past the grace
// period the account is gone and its passkey signs no one in.
func TestPasskeySignInLifecycle(t *testing.T) {
	f := newFixture(t, passkeysOn)
	ctx := context.Background()
	c := client("dev-1")
	a := softauthn.New(softauthn.Options{})
	uid := f.addPasskey(t, c, "life@example.com", a)

	u, _ := f.svc.GetUser(ctx, uid)
	if err := f.svc.Unregister(ctx, u); err != nil {
		t.Fatal(err)
	}
	res, err := f.passkeySignIn(c, a, t)
	if err != nil || res.UserID != uid {
		t.Fatalf("sign-in within the grace period = %+v, %v", res, err)
	}
	if u, _ := f.svc.GetUser(ctx, uid); u.Unregistered() {
		t.Error("the passkey sign-in did not recover the account")
	}

	u, _ = f.svc.GetUser(ctx, uid)
	if err := f.svc.Unregister(ctx, u); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(f.svc.Config().UnregisterGrace + time.Second)
	if _, err := f.passkeySignIn(c, a, t); !errors.Is(err, passkey.ErrUnknownCredential) || status(err) != 403 {
		t.Errorf("sign-in past the grace period = %v (%d), want 403 PASSKEY_UNKNOWN", err, status(err))
	}
	if err := f.svc.DeleteUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if _, err := f.passkeySignIn(c, a, t); status(err) != 403 {
		t.Errorf("sign-in of a deleted account = %v, want 403", err)
	}
}

// TestPasskeyErrorsMapped: every error of package passkey has its status
// and code, none a 500.
func TestPasskeyErrorsMapped(t *testing.T) {
	for err, want := range map[error]string{
		passkey.ErrChallenge:         "400 " + simpleuser.CodePasskeyChallenge,
		passkey.ErrInvalidResponse:   "400 " + simpleuser.CodeInvalidInput,
		passkey.ErrInvalidName:       "400 " + simpleuser.CodeInvalidInput,
		passkey.ErrRefused:           "403 " + simpleuser.CodePasskeyRefused,
		passkey.ErrUnknownCredential: "403 " + simpleuser.CodePasskeyUnknown,
		passkey.ErrCounter:           "403 " + simpleuser.CodePasskeyCounter,
		passkey.ErrExists:            "409 " + simpleuser.CodePasskeyExists,
		passkey.ErrTooMany:           "409 " + simpleuser.CodeTooManyPasskeys,
		passkey.ErrNotFound:          "404 " + simpleuser.CodePasskeyNotFound,
		passkey.ErrNoPasskey:         "404 " + simpleuser.CodePasskeyNotFound,
		passkey.ErrDisabled:          "404 " + simpleuser.CodePasskeysDisabled,
	} {
		e := simpleuser.AsError(errors.Join(errors.New("detail"), err))
		if got := fmt.Sprint(e.Status, " ", e.Code); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}
