package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

const formCT = "application/x-www-form-urlencoded"

// form posts a form body (raw, already encoded) to path.
func (e *env) form(path, ssaid, token, body string) *res {
	e.t.Helper()
	return e.do(rq{method: "POST", path: path, ssaid: ssaid, token: token, ip: e.nextIP(), body: body,
		header: map[string]string{"Content-Type": formCT}})
}

func TestDecodeFormBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		want  loginBody
		extra map[string]string
		msg   string // "" = valid
	}{
		{name: "known fields", body: "email=a%40example.com&code=123&password=p&setPassword=s",
			want: loginBody{Email: "a@example.com", Code: ptr("123"), Password: "p", SetPassword: "s"}},
		{name: "plus is a space, trimmed email", body: "email=+a@example.com+&password=two+words",
			want: loginBody{Email: "a@example.com", Password: "two words"}},
		{name: "extra fields are strings", body: "email=a@example.com&password=p&nickname=Ann&age=18",
			want: loginBody{Email: "a@example.com", Password: "p"}, extra: map[string]string{"nickname": "Ann", "age": "18"}},
		{name: "unicode", body: "email=a@example.com&password=p&nickname=%C3%89lodie",
			want: loginBody{Email: "a@example.com", Password: "p"}, extra: map[string]string{"nickname": "Élodie"}},
		{name: "empty code", body: "email=a@example.com&code=", msg: "code should not be empty"},
		{name: "repeated field", body: "email=a@example.com&email=b@example.com", msg: "email must be a string"},
		{name: "repeated code", body: "email=a@example.com&code=1&code=2", msg: "code must be a string"},
		{name: "repeated extra field", body: "email=a@example.com&password=p&nickname=a&nickname=b", msg: "nickname must be a string"},
		{name: "no email", body: "password=p", msg: "email must be an email"},
		{name: "empty body", body: "", msg: "email must be an email"},
		{name: "NUL in a value", body: "email=a@example.com&password=p%00", msg: "password must be valid UTF-8 text without NUL characters"},
		{name: "NUL in an extra value", body: "email=a@example.com&code=1&nick=%00", msg: "nick must be valid UTF-8 text without NUL characters"},
		{name: "invalid UTF-8", body: "email=a@example.com&password=%FF%FE", msg: "password must be valid UTF-8 text without NUL characters"},
		{name: "NUL in a name", body: "email=a@example.com&pa%00ss=x", msg: "Form field names must be valid UTF-8 text without NUL characters"},
		{name: "bad escape", body: "email=a%zz@example.com", msg: `Malformed form body: invalid %-escape "%zz"`},
		{name: "semicolon", body: "email=a@example.com;code=1", msg: "Malformed form body: ';' is not a separator (use '&')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got loginBody
			extra, errs, err := decodeForm([]byte(tc.body), &got)
			if err == nil {
				err = check(&got, errs)
			}
			if tc.msg != "" {
				var e *simpleuser.Error
				if !errors.As(err, &e) || e.Status != 400 || e.Code != "INVALID_INPUT" || e.Message != tc.msg {
					t.Fatalf("error %v, want 400 %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if len(extra) != len(tc.extra) {
				t.Fatalf("extra %v, want %v", extra, tc.extra)
			}
			for k, v := range tc.extra {
				var s string
				if err := json.Unmarshal(extra[k], &s); err != nil || s != v {
					t.Fatalf("extra[%q] = %s, want the JSON string %q", k, extra[k], v)
				}
			}
		})
	}

	// A non-string field takes its value as a JSON literal.
	var b logoutAllBody
	if _, errs, err := decodeForm([]byte("includeCurrent=true"), &b); err != nil || len(errs) != 0 || !b.IncludeCurrent {
		t.Fatalf("includeCurrent=true: %+v %v %v", b, errs, err)
	}
	for _, v := range []string{"yes", "on", "1", "", "%22true%22"} {
		var b logoutAllBody
		_, errs, err := decodeForm([]byte("includeCurrent="+v), &b)
		if err == nil {
			err = check(&b, errs)
		}
		if e := simpleuser.AsError(err); err == nil || e.Status != 400 || e.Message != "includeCurrent has an invalid type" {
			t.Fatalf("includeCurrent=%s: %v", v, err)
		}
	}
}

// TestFormBodies: every JSON route with a body also takes a plain HTML
// form (application/x-www-form-urlencoded): sign-up by code with the
// app's extra fields, password login, change password, logout-all; a
// repeated field, a NUL or invalid UTF-8 is a 400 that writes nothing
// and spends no code. Both backends.
func TestFormBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		var mu sync.Mutex
		payloads := map[string]hooks.Payload{}
		e := newEnv(t, withBackend(b), withConfig(func(c *simpleuser.Config) {
			c.Hooks.AfterCreate = func(_ context.Context, u *user.User, p hooks.Payload) error {
				mu.Lock()
				defer mu.Unlock()
				payloads[u.Email] = p
				return nil
			}
		}))
		dev := e.ssaid("form")
		email := e.email("form")
		q := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v.Encode()
		}
		e.form("/send-code/send", dev, "", q("email", email, "codePurpose", "Login")).want(t, 200, "")
		code := e.lastCode(email, "Login")

		// Refused before anything is spent: the code stays usable.
		sends := e.sends.Load()
		for body, msg := range map[string]string{
			q("email", email, "code", code, "code", code):             "code must be a string",
			q("email", email, "code", code, "nickname", "a\x00b"):     "nickname must be valid UTF-8 text without NUL characters",
			q("email", email, "code", code) + "&nickname=%C3":         "nickname must be valid UTF-8 text without NUL characters",
			q("email", email, "code", code, "setPassword", "x\x00yz"): "setPassword must be valid UTF-8 text without NUL characters",
			"email=" + url.QueryEscape(email) + "&code=" + code + ";": "Malformed form body: ';' is not a separator (use '&')",
		} {
			if r := e.form("/login", dev, "", body).want(t, 400, "INVALID_INPUT"); r.message != msg {
				t.Fatalf("%q: message %q, want %q", body, r.message, msg)
			}
		}
		e.form("/send-code/send", dev, "", q("email", email, "codePurpose", "Login", "codePurpose", "Login")).want(t, 400, "INVALID_INPUT")
		if e.sends.Load() != sends {
			t.Fatal("a refused form sent a code")
		}

		// Sign up by form: the extra fields reach the hooks as strings.
		r := e.form("/login", dev, "", q("email", email, "code", code, "setPassword", "form-password-1", "nickname", "Ann")).want(t, 200, "")
		tok := r.str("token")
		if len(tok) != 64 {
			t.Fatalf("login answer %s", r.raw)
		}
		mu.Lock()
		nick := payloads[email].String("nickname")
		mu.Unlock()
		if nick != "Ann" {
			t.Fatalf("payload nickname %q", nick)
		}
		// Password login by form; a wrong one is 403.
		e.form("/login", e.ssaid("other"), "", q("email", email, "password", "wrong-password")).want(t, 403, "INVALID_PASSWORD")
		tok2 := e.form("/login", e.ssaid("other"), "", q("email", email, "password", "form-password-1")).want(t, 200, "").str("token")

		// Change password by form keeps the caller's session, ends the other.
		e.form("/user-center/change-password", dev, tok, q("currentPassword", "form-password-1", "newPassword", "form-password-2")).want(t, 200, "")
		e.me(dev, tok).want(t, 200, "")
		e.me(dev, tok2).want(t, 401, "INVALID_TOKEN")

		// A boolean field: logout-all with includeCurrent=true ends the caller's session too.
		tok3 := e.form("/login", e.ssaid("third"), "", q("email", email, "password", "form-password-2")).want(t, 200, "").str("token")
		e.form("/user-center/logout-all", dev, tok, "includeCurrent=maybe").want(t, 400, "INVALID_INPUT")
		if n := e.form("/user-center/logout-all", dev, tok, "includeCurrent=true").want(t, 200, "").num("ended"); n != 2 {
			t.Fatalf("ended %d sessions, want 2", n)
		}
		e.me(dev, tok).want(t, 401, "INVALID_TOKEN")
		e.me(dev, tok3).want(t, 401, "INVALID_TOKEN")

		// The merge-patch route takes JSON only: a form cannot say null or nest.
		tok = e.form("/login", dev, "", q("email", email, "password", "form-password-2")).want(t, 200, "").str("token")
		r = e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: dev, token: tok, body: "theme=dark",
			header: map[string]string{"Content-Type": formCT}}).want(t, 415, "UNSUPPORTED_MEDIA_TYPE")
		if !strings.Contains(r.message, "application/merge-patch+json") {
			t.Fatalf("415 message %q", r.message)
		}
	})
}
