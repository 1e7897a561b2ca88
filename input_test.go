package simpleuser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
	"github.com/simpleuser/simpleuser/user"
)

// Text no backend can store (a NUL, invalid UTF-8, an unpaired surrogate
// escape) is refused at the edge with 400 INVALID_INPUT on every backend
// alike, with nothing written and no code spent (SPEC §3). Before, a NUL in
// the signup payload, metadata or settings gave 500 on PostgreSQL (after
// the code was spent) and 200 on memory.
func TestUnstorableTextRefusedAlike(t *testing.T) { forBackends(t, testUnstorableText) }

func testUnstorableText(t *testing.T, newFixture fixtureMaker) {
	var stored []string // what the app's AfterCreate would have written
	f := newFixture(t, func(c *simpleuser.Config) {
		c.Hooks.AfterCreate = func(_ context.Context, _ *user.User, p hooks.Payload) error {
			stored = append(stored, p.String("nickname"))
			return nil
		}
	})
	ctx := context.Background()
	bad400 := func(what string, err error) {
		t.Helper()
		if e := simpleuser.AsError(err); e == nil || e.Status != 400 || e.Code != simpleuser.CodeInvalidInput {
			t.Errorf("%s: %v, want 400 INVALID_INPUT", what, err)
		}
	}

	// The signup payload: refused before the code is looked at.
	c, email := client("nul"), "nul@example.com"
	if err := f.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	code := f.mail.code(email, hooks.PurposeLogin)
	for name, p := range map[string]hooks.Payload{
		"NUL escape in a value":   {"nickname": json.RawMessage(`"a\u0000b"`)},
		"NUL in a member name":    {"nick\x00name": json.RawMessage(`"ok"`)},
		"unpaired surrogate":      {"nickname": json.RawMessage(`"\ud800"`)},
		"invalid UTF-8":           {"nickname": json.RawMessage("\"\xff\"")},
		"nested NUL":              {"profile": json.RawMessage(`{"bio":["x","\u0000"]}`)},
		"NUL escape in a key too": {"profile": json.RawMessage(`{"\u0000":1}`)},
	} {
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code, Extra: p})
		bad400("sign-up payload: "+name, err)
	}
	if len(stored) != 0 {
		t.Fatalf("AfterCreate ran for a refused payload: %q", stored)
	}
	if _, err := f.svc.GetUserByEmail(ctx, email); err == nil {
		t.Fatal("a refused sign-up created the account")
	}
	res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code,
		Extra: hooks.Payload{"nickname": json.RawMessage(`"a\\u0000b is text"`)}})
	if err != nil {
		t.Fatalf("sign-up with the same code and a storable payload: %v", err)
	}
	if len(stored) != 1 || stored[0] != `a\u0000b is text` {
		t.Fatalf("AfterCreate got %q", stored)
	}

	// Metadata and settings, through every Go API that writes them.
	u, err := f.svc.GetUser(ctx, res.UserID)
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]map[string]any{
		"NUL value":         {"k": "a\x00"},
		"NUL key":           {"k\x00": 1.0},
		"invalid UTF-8":     {"k": "\xfe"},
		"nested NUL":        {"k": []any{map[string]any{"x": "\x00"}}},
		"NUL in a Go value": {"k": struct{ S string }{"\x00"}},
	} {
		_, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "meta@example.com", Metadata: m})
		bad400("CreateUser metadata: "+name, err)
		_, err = f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "meta@example.com", Settings: m})
		bad400("CreateUser settings: "+name, err)
		_, err = f.svc.UpdateMetadata(ctx, u.ID, func(cur map[string]any) error {
			for k, v := range m {
				cur[k] = v
			}
			return nil
		})
		bad400("UpdateMetadata: "+name, err)
		_, err = f.svc.UpdateSettings(ctx, u.ID, func(cur map[string]any) error {
			for k, v := range m {
				cur[k] = v
			}
			return nil
		})
		bad400("UpdateSettings: "+name, err)
	}
	_, err = f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "meta@example.com", Payload: hooks.Payload{"x": json.RawMessage(`"\u0000"`)}})
	bad400("CreateUser payload", err)
	for _, patch := range []string{`{"a":"\u0000"}`, `{"\u0000":true}`, `{"a":{"b":"\udc00"}}`, "{\"a\":\"\xff\"}"} {
		_, err := f.svc.PatchSettings(ctx, u.ID, []byte(patch))
		bad400("PatchSettings "+patch, err)
	}
	if _, err := f.svc.GetUserByEmail(ctx, "meta@example.com"); err == nil {
		t.Fatal("a refused CreateUser created the account")
	}
	after, err := f.svc.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Metadata) != 0 || len(after.Settings) != 0 || after.Version != u.Version {
		t.Fatalf("refused writes changed the user: metadata %v, settings %v, version %d → %d", after.Metadata, after.Settings, u.Version, after.Version)
	}

	// Client fields a Go caller fills: the ssaid reaches the user store.
	for _, ssaid := range []string{"a\x00b", "caf\xc3", "tab\there"} {
		_, err := f.svc.ResolveUser(ctx, simpleuser.Client{SSAID: ssaid})
		bad400("ResolveUser with ssaid "+ssaid, err)
		_, err = f.svc.Login(ctx, simpleuser.Client{SSAID: ssaid}, simpleuser.LoginInput{Email: email, Code: "x"})
		bad400("Login with ssaid "+ssaid, err)
		bad400("SendCode with ssaid "+ssaid, f.svc.SendCode(ctx, simpleuser.Client{SSAID: ssaid}, "s@example.com", hooks.PurposeLogin))
	}
	for _, e := range []string{"nul\x00@example.com", "bad\xff@example.com", "u@exam\x00ple.com"} {
		bad400("SendCode to "+e, f.svc.SendCode(ctx, client("x"), e, hooks.PurposeLogin))
		_, err := f.svc.UserExists(ctx, e)
		bad400("UserExists "+e, err)
		_, err = f.svc.CreateUser(ctx, simpleuser.NewUser{Email: e})
		bad400("CreateUser "+e, err)
	}
}

// A provider profile holding text no backend can store (a NUL in the
// subject, name or address) is refused with 400, the same on every
// backend, and creates nothing.
func TestUnstorableProviderProfile(t *testing.T) { forBackends(t, testUnstorableProfile) }

func testUnstorableProfile(t *testing.T, newFixture fixtureMaker) {
	o := newOAuthFixture(t, newFixture, nil)
	ctx := context.Background()
	for i, u := range []oauthtest.User{
		{Subject: "sub\x00ject", Email: "p1@example.com", EmailVerified: true, Name: "ok"},
		{Subject: "s2", Email: "p2@example.com", EmailVerified: true, Name: "Ada\x00"},
		{Subject: "s3", Email: "p3\x00@example.com", EmailVerified: true, Name: "ok"},
	} {
		o.fakes[oauthtest.Google].SetUser(u)
		c := client(fmt.Sprint("prof-", i))
		_, err := o.signIn(t, c, oauthtest.Google)
		if e := simpleuser.AsError(err); e == nil || e.Status != 400 || e.Code != simpleuser.CodeInvalidInput {
			t.Errorf("profile %d: %v, want 400 INVALID_INPUT", i, err)
		}
		if anon, err := o.svc.ResolveUser(ctx, c); err != nil || anon.Registered() {
			t.Errorf("profile %d: the device's user after the refusal: %+v, %v; want it anonymous", i, anon, err)
		}
	}
}
