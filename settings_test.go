package simpleuser_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
)

func TestSettings(t *testing.T) { forBackends(t, testSettings) }

func testSettings(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	dev := client("settings")
	anon, err := f.svc.ResolveUser(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(p string) (string, error) {
		u, err := f.svc.PatchSettings(ctx, anon.ID, []byte(p))
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(u.Settings)
		return string(b), nil
	}
	for _, tc := range []struct{ patch, want string }{
		{`{"theme":"dark","notify":{"email":true,"sms":false}}`, `{"notify":{"email":true,"sms":false},"theme":"dark"}`},
		{`{"notify":{"sms":null,"push":true}}`, `{"notify":{"email":true,"push":true},"theme":"dark"}`},
		{`{"theme":null,"langs":["en","fr"]}`, `{"langs":["en","fr"],"notify":{"email":true,"push":true}}`},
		{` {} `, `{"langs":["en","fr"],"notify":{"email":true,"push":true}}`},
	} {
		got, err := patch(tc.patch)
		if err != nil || got != tc.want {
			t.Fatalf("patch %s = %s, %v; want %s", tc.patch, got, err, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `null`, `3`, `{"a":1} {}`, `{`, ``} {
		_, err := patch(bad)
		wantCode(t, err, 400, simpleuser.CodeInvalidInput)
	}
	big := `{"blob":"` + strings.Repeat("x", simpleuser.MaxSettingsBytes) + `"}`
	_, err = patch(big)
	wantCode(t, err, 400, simpleuser.CodeInvalidInput)
	if got, _ := patch(`{}`); got != `{"langs":["en","fr"],"notify":{"email":true,"push":true}}` {
		t.Fatalf("a refused patch changed the settings: %s", got)
	}

	// The app's Go API.
	u, err := f.svc.UpdateSettings(ctx, anon.ID, func(m map[string]any) error { m["plan"] = "pro"; delete(m, "langs"); return nil })
	if err != nil || u.Settings["plan"] != "pro" || u.Settings["langs"] != nil {
		t.Fatalf("UpdateSettings: %v %v", u, err)
	}
	_, err = f.svc.UpdateSettings(ctx, anon.ID, func(m map[string]any) error { m["blob"] = strings.Repeat("y", simpleuser.MaxSettingsBytes); return nil })
	wantCode(t, err, 400, simpleuser.CodeInvalidInput)
	if f2, _ := f.svc.GetUser(ctx, anon.ID); f2.Settings["blob"] != nil || len(f2.Metadata) != 0 {
		t.Fatalf("settings %v metadata %v", f2.Settings, f2.Metadata)
	}

	// Registering upgrades in place: the anonymous user's settings stay.
	res := f.login(t, dev, "settings@example.com")
	if res.UserID != anon.ID {
		t.Fatal("not upgraded in place")
	}
	if u, _ := f.svc.GetUser(ctx, res.UserID); u.Settings["plan"] != "pro" {
		t.Fatalf("settings after registering: %v", u.Settings)
	}
	created, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "made@example.com", Settings: map[string]any{"theme": "light"}})
	if err != nil || created.Settings["theme"] != "light" {
		t.Fatalf("CreateUser with settings: %v %v", created, err)
	}
	_, err = f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "huge@example.com", Settings: map[string]any{"b": strings.Repeat("z", simpleuser.MaxSettingsBytes)}})
	wantCode(t, err, 400, simpleuser.CodeInvalidInput)
}
