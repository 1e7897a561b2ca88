package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoginInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		for _, tc := range []struct {
			name   string
			ssaid  bool
			body   any
			status int
			code   string
			msg    string
		}{
			{name: "missing ssaid", body: map[string]any{"email": a, "code": "1"}, status: 400, code: "SSAID_REQUIRED"},
			{name: "neither code nor password", ssaid: true, body: map[string]any{"email": a}, status: 400, code: "INVALID_INPUT", msg: "Please provide code or password to login."},
			{name: "empty password counts as absent", ssaid: true, body: map[string]any{"email": a, "password": ""}, status: 400, code: "INVALID_INPUT", msg: "Please provide code or password to login."},
			{name: "null code counts as absent", ssaid: true, body: map[string]any{"email": a, "code": nil}, status: 400, code: "INVALID_INPUT", msg: "Please provide code or password to login."},
			{name: "empty code", ssaid: true, body: map[string]any{"email": a, "code": ""}, status: 400, code: "INVALID_INPUT", msg: "code should not be empty"},
			{name: "invalid email", ssaid: true, body: map[string]any{"email": "a.example.com", "code": "1"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "code of the wrong type", ssaid: true, body: map[string]any{"email": a, "code": true}, status: 400, code: "INVALID_INPUT", msg: "code must be a string"},
			{name: "password of the wrong type", ssaid: true, body: map[string]any{"email": a, "password": map[string]any{}}, status: 400, code: "INVALID_INPUT", msg: "password must be a string"},
			{name: "two errors", ssaid: true, body: map[string]any{"email": 1, "code": ""}, status: 400, code: "INVALID_INPUT", msg: "email must be an email; code should not be empty"},
			{name: "password login of an unknown email", ssaid: true, body: map[string]any{"email": a, "password": "password1"}, status: 404, code: "USER_NOT_FOUND", msg: "User does not exist. Please provide code to create new user."},
			{name: "code never sent", ssaid: true, body: map[string]any{"email": a, "code": "123456"}, status: 403, code: "INVALID_CODE", msg: "Invalid email code"},
			{name: "setPassword too short", ssaid: true, body: map[string]any{"email": a, "code": "123456", "setPassword": "short"}, status: 400, code: "INVALID_INPUT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ssaid := ""
				if tc.ssaid {
					ssaid = e.ssaid("d")
				}
				r := e.do(rq{method: "POST", path: "/login", ssaid: ssaid, body: tc.body}).want(t, tc.status, tc.code)
				if tc.msg != "" && r.message != tc.msg {
					t.Fatalf("message %q, want %q", r.message, tc.msg)
				}
			})
		}
	})
}

func TestLoginRegistersAndUpgradesAnonymous(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev, a := e.ssaid("dev"), e.email("a")
		anon := e.me(dev, "").want(t, 200, "")
		if anon.data["email"] != nil || anon.data["registered"] != false || anon.data["passwordSet"] != false {
			t.Fatalf("anonymous /me: %v", anon.data)
		}
		anonID := anon.num("id")

		code := e.sendCode(a, "Login")
		r := e.do(rq{method: "POST", path: "/login", ssaid: dev,
			body: map[string]any{"email": a, "code": code, "setPassword": "secret-pw-1", "nickname": "bob", "age": 3}}).want(t, 200, "")
		if len(r.data) != 3 {
			t.Fatalf("login data %v", r.data)
		}
		tok, id := r.str("token"), r.num("userId")
		if id != anonID {
			t.Fatalf("registration made user %d, anonymous user was %d", id, anonID)
		}
		exp, err := time.Parse(time.RFC3339, r.str("tokenExpiresAt"))
		if err != nil || !tsFormat.MatchString(r.str("tokenExpiresAt")) {
			t.Fatalf("tokenExpiresAt %q", r.str("tokenExpiresAt"))
		}
		if want := e.clock.Now().Add(30 * 24 * time.Hour); !exp.Equal(want) {
			t.Fatalf("tokenExpiresAt %v, want %v", exp, want)
		}
		m := e.me(dev, tok).want(t, 200, "")
		if m.num("id") != id || m.str("email") != a || m.data["registered"] != true || m.data["passwordSet"] != true {
			t.Fatalf("/me %v", m.data)
		}
		// The ssaid is free again: without a token it is a new anonymous user.
		if n := e.me(dev, "").want(t, 200, "").num("id"); n == id {
			t.Fatal("ssaid still names the registered user")
		}
		// The code was consumed.
		e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "code": code}}).want(t, 403, "INVALID_CODE")
		// setPassword took effect.
		_, id2 := e.login(e.ssaid("other"), map[string]any{"email": strings.ToUpper(a), "password": "secret-pw-1"})
		if id2 != id {
			t.Fatalf("password login: %d, want %d", id2, id)
		}
		// A numeric code (nicot converts implicitly) works.
		e.clock.Advance(time.Minute)
		code = e.sendCode(a, "Login")
		e.login(dev, map[string]any{"email": a, "code": jsonNumber(code)})
	})
}

// jsonNumber is a code written as a JSON number.
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func TestLoginPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		_, id := e.register(e.ssaid("reg"), a, "right-password")
		login := func(ssaid, ip, pw string) *res {
			return e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid(ssaid), ip: ip, body: map[string]any{"email": a, "password": pw}})
		}
		r := login("d1", "203.0.113.9", "wrong-password").want(t, 403, "INVALID_PASSWORD")
		if r.message != "Invalid password." {
			t.Fatalf("message %q", r.message)
		}
		// A code takes precedence over a password.
		e.clock.Advance(time.Minute)
		code := e.sendCode(a, "Login")
		e.login(e.ssaid("d1"), map[string]any{"email": a, "code": code, "password": "wrong"})

		// Five failures on the user block it on every device and address.
		for i := 0; i < 4; i++ {
			login("d"+string(rune('2'+i)), e.nextIP(), "wrong-password").want(t, 403, "INVALID_PASSWORD")
		}
		w := login("fresh", e.nextIP(), "right-password").wait(t, "TOO_MANY_PASSWORD_ATTEMPTS")
		if w > 15*time.Minute || w < 14*time.Minute {
			t.Fatalf("wait %v", w)
		}
		e.clock.Advance(w)
		if _, got := e.login(e.ssaid("fresh"), map[string]any{"email": a, "password": "right-password"}); got != id {
			t.Fatalf("id %d", got)
		}
	})
}

func TestLoginDisabledAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		tok, id := e.register(e.ssaid("d"), a, "password-1")
		e.setDisabled(id, true)
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: map[string]any{"email": a, "password": "password-1"}}).want(t, 403, "ACCOUNT_DISABLED")
		e.clock.Advance(time.Minute)
		code := e.sendCode(a, "Login")
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: map[string]any{"email": a, "code": code}}).want(t, 403, "ACCOUNT_DISABLED")
		e.me(e.ssaid("d"), tok).want(t, 403, "ACCOUNT_DISABLED")
		e.setDisabled(id, false)
		e.me(e.ssaid("d"), tok).want(t, 200, "")
	})
}

func TestLoginRevokesPresentedToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		tok, _ := e.register(e.ssaid("d"), a, "password-1")
		r := e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), token: tok, body: map[string]any{"email": a, "password": "password-1"}}).want(t, 200, "")
		if r.str("token") == tok {
			t.Fatal("token reused")
		}
		e.me(e.ssaid("d"), tok).want(t, http.StatusUnauthorized, "INVALID_TOKEN")
		e.me(e.ssaid("d"), r.str("token")).want(t, 200, "")
	})
}
