package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// TestSettingsMergePatch: PATCH /user-center/settings merges, null
// deletes, and refuses a non-object or an oversized result; metadata is not
// writable through it; /me shows the settings.
func TestSettingsMergePatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev := e.ssaid("d")
		tok, id := e.register(dev, e.email("a"), "")
		if _, err := e.svc.UpdateMetadata(t.Context(), id, func(m map[string]any) error { m["role"] = "admin"; return nil }); err != nil {
			t.Fatal(err)
		}
		patch := func(body, ct string) *res {
			return e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: dev, token: tok, body: body,
				header: map[string]string{"Content-Type": ct}})
		}
		settingsOf := func(r *res) string {
			b, _ := json.Marshal(r.data["settings"])
			return string(b)
		}
		r := patch(`{"theme":"dark","notify":{"email":true,"sms":true}}`, "application/merge-patch+json").want(t, 200, "")
		if got := settingsOf(r); got != `{"notify":{"email":true,"sms":true},"theme":"dark"}` {
			t.Fatalf("after the first patch: %s", got)
		}
		r = patch(`{"notify":{"sms":null},"theme":null,"lang":"fr"}`, "application/json; charset=utf-8").want(t, 200, "")
		if got := settingsOf(r); got != `{"lang":"fr","notify":{"email":true}}` {
			t.Fatalf("after the null patch: %s", got)
		}
		me := e.me(dev, tok).want(t, 200, "")
		if b, _ := json.Marshal(me.data["settings"]); string(b) != `{"lang":"fr","notify":{"email":true}}` {
			t.Fatalf("/me settings %s", b)
		}

		for _, bad := range []string{`["a"]`, `"dark"`, `null`, `42`, `{"a":1`, `{"a":1}{}`} {
			patch(bad, "application/merge-patch+json").want(t, 400, "INVALID_INPUT")
		}
		patch(`{"blob":"`+strings.Repeat("x", simpleuser.MaxSettingsBytes)+`"}`, "application/merge-patch+json").want(t, 400, "INVALID_INPUT")
		e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: dev, token: tok}).want(t, 400, "INVALID_INPUT") // no body
		patch(`{"a":1}`, "text/plain").want(t, 415, "UNSUPPORTED_MEDIA_TYPE")
		patch(`{"a":1}`, "application/json-patch+json").want(t, 415, "UNSUPPORTED_MEDIA_TYPE")

		// metadata is the app's: a "metadata" member is just a setting.
		patch(`{"metadata":{"role":"hacker"}}`, "application/merge-patch+json").want(t, 200, "")
		u, err := e.svc.GetUser(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Metadata["role"] != "admin" || len(u.Metadata) != 1 {
			t.Fatalf("metadata changed by the user: %v", u.Metadata)
		}
		me = e.me(dev, tok).want(t, 200, "")
		if m, _ := me.data["metadata"].(map[string]any); m["role"] != "admin" {
			t.Fatalf("/me metadata %v", me.data["metadata"])
		}

		// An anonymous user has settings too; they stay when it registers.
		anon := e.ssaid("anon")
		e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: anon, body: `{"theme":"light"}`}).want(t, 200, "")
		tok2, _ := e.register(anon, e.email("b"), "")
		if s, _ := e.me(anon, tok2).want(t, 200, "").data["settings"].(map[string]any); s["theme"] != "light" {
			t.Fatalf("settings after registering: %v", s)
		}
		e.do(rq{method: "PATCH", path: "/user-center/settings", body: `{}`}).want(t, 400, "SSAID_REQUIRED")
	})
}

// JSON stored for a user nests at most textcheck.MaxDepth (32) levels:
// deeper settings, metadata or signup payloads are a 400, and nothing is
// written, so every JSON tool can read a user back.
func TestStoredJSONDepth(t *testing.T) {
	e := newEnv(t)
	dev := e.ssaid("d")
	tok, id := e.register(dev, e.email("deep"), "")
	nested := func(levels int) string { // levels objects, the outermost included
		return strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels)
	}
	patch := func(body string) *res {
		return e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: dev, token: tok, body: body,
			header: map[string]string{"Content-Type": "application/merge-patch+json"}})
	}
	patch(nested(32)).want(t, 200, "")
	patch(`{"b":`+nested(32)+`}`).want(t, 400, simpleuser.CodeInvalidInput)
	patch(nested(2000)).want(t, 400, simpleuser.CodeInvalidInput)
	if m := e.me(dev, tok).want(t, 200, ""); m.data["settings"].(map[string]any)["b"] != nil {
		t.Fatalf("a refused patch was written: %s", m.raw)
	}
	if _, err := e.svc.UpdateMetadata(t.Context(), id, func(m map[string]any) error {
		return json.Unmarshal([]byte(nested(40)), &m)
	}); simpleuser.AsError(err).Status != 400 {
		t.Fatalf("metadata 40 levels deep: %v", err)
	}
	other := e.email("deep2")
	e.do(rq{method: "POST", path: "/send-code/send", ssaid: dev, body: map[string]any{"email": other, "codePurpose": "Login"}}).want(t, 200, "")
	body := `{"email":"` + other + `","code":"` + e.lastCode(other, "Login") + `","extra":` + nested(32) + `}`
	e.do(rq{method: "POST", path: "/login", ssaid: dev, body: body}).want(t, 400, simpleuser.CodeInvalidInput)
}
