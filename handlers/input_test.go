package handlers

import (
	"net/url"
	"testing"
)

// Text no backend can store is refused at the HTTP edge with 400
// INVALID_INPUT, the same on memory and on PostgreSQL + Redis, before the
// route runs: no code is spent, nothing is written. It covers JSON bodies
// (a \u0000 escape in any member name or value, an unpaired surrogate,
// invalid UTF-8 that encoding/json would silently replace), query
// parameters and path segments (%00, %FF).
func TestUnstorableTextAtTheEdge(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		email := e.email("nul")
		code := e.sendCode(email, "Login")
		for name, body := range map[string]string{
			"NUL in an extra field":  `{"email":"` + email + `","code":"` + code + `","nickname":"a\u0000b"}`,
			"NUL in a member name":   `{"email":"` + email + `","code":"` + code + `","nick\u0000":"x"}`,
			"NUL in the code":        `{"email":"` + email + `","code":"` + code + `\u0000"}`,
			"unpaired surrogate":     `{"email":"` + email + `","code":"` + code + `","nickname":"\udc01"}`,
			"invalid UTF-8":          "{\"email\":\"" + email + "\",\"code\":\"" + code + "\",\"nickname\":\"\xc3\x28\"}",
			"nested NUL":             `{"email":"` + email + `","code":"` + code + `","profile":{"tags":["\u0000"]}}`,
			"NUL in the email value": `{"email":"nul\u0000` + email + `","code":"` + code + `"}`,
		} {
			r := e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: body})
			if r.code != 400 || r.dataCode() != "INVALID_INPUT" {
				t.Errorf("%s: %d %s, want 400 INVALID_INPUT", name, r.code, r.raw)
			}
		}
		// The code was never looked at: the same code signs up.
		tok, _ := e.login(e.ssaid("d"), map[string]any{"email": email, "code": code, "nickname": `a\u0000b (text, not a NUL)`})

		// Settings, through PATCH /user-center/settings.
		for _, patch := range []string{`{"a":"\u0000"}`, `{"\u0000":1}`, `{"a":"\ud800\u0041"}`, "{\"a\":\"\xff\"}"} {
			r := e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: e.ssaid("d"), token: tok, body: patch,
				header: map[string]string{"Content-Type": "application/merge-patch+json"}})
			if r.code != 400 || r.dataCode() != "INVALID_INPUT" {
				t.Errorf("settings patch %q: %d %s, want 400 INVALID_INPUT", patch, r.code, r.raw)
			}
		}
		if s := e.me(e.ssaid("d"), tok).want(t, 200, "").data["settings"]; len(s.(map[string]any)) != 0 {
			t.Errorf("refused patches left settings %v", s)
		}

		// Query parameters and path segments.
		for _, q := range []string{"email=" + url.QueryEscape(email) + "%00", "email=%FF" + url.QueryEscape(email), "email=" + url.QueryEscape(email) + "&x%00=1"} {
			r := e.do(rq{method: "GET", path: "/login/user-exists", rawQuery: q})
			if r.code != 400 || r.dataCode() != "INVALID_INPUT" {
				t.Errorf("user-exists?%s: %d %s, want 400 INVALID_INPUT", q, r.code, r.raw)
			}
		}
		for _, p := range []string{"/user-center/identities/google/sub%00ject", "/user-center/identities/goo%FFgle/x"} {
			r := e.do(rq{method: "DELETE", path: p, ssaid: e.ssaid("d"), token: tok})
			if r.code != 400 || r.dataCode() != "INVALID_INPUT" {
				t.Errorf("DELETE %s: %d %s, want 400 INVALID_INPUT", p, r.code, r.raw)
			}
		}
	})
}
