package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/user"
)

func TestMe(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev := e.ssaid("d")
		r := e.me(dev, "").want(t, 200, "")
		for _, k := range []string{"id", "email", "phone", "emailVerifiedAt", "phoneVerifiedAt", "registered", "passwordSet", "metadata", "settings", "createdAt", "mfaEnabled", "factors"} {
			if _, ok := r.data[k]; !ok {
				t.Fatalf("/me lacks %q: %s", k, r.raw)
			}
		}
		for _, k := range []string{"ssaid", "passwordHash", "PasswordHash", "SSAID", "loginIp", "lastActiveIp"} {
			if _, ok := r.data[k]; ok {
				t.Fatalf("/me leaks %q", k)
			}
		}
		if len(r.data) != 12 {
			t.Fatalf("/me has extra fields: %s", r.raw)
		}
		if _, ok := r.data["metadata"].(map[string]any); !ok {
			t.Fatalf("metadata %v", r.data["metadata"])
		}
		if !tsFormat.MatchString(r.str("createdAt")) {
			t.Fatalf("createdAt %q", r.str("createdAt"))
		}
		if again := e.me(dev, "").want(t, 200, "").num("id"); again != r.num("id") {
			t.Fatalf("second /me: %d, first %d", again, r.num("id"))
		}

		e.me("", "").want(t, 400, "SSAID_REQUIRED")
		e.me(dev, strings.Repeat("A", 64)).want(t, 401, "INVALID_TOKEN")
		e.me(dev, "short").want(t, 401, "INVALID_TOKEN")
		// ssaid is required even with a valid token (nicot's user context).
		tok, _ := e.register(e.ssaid("reg"), e.email("a"), "")
		e.me("", tok).want(t, 400, "SSAID_REQUIRED")
		e.me(e.ssaid("another-device"), tok).want(t, 200, "")
	})
}

func TestMeAnonymousOff(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(func(c *simpleuser.Config) { c.DisableAnonymous = true }))
		e.me(e.ssaid("d"), "").want(t, 401, "AUTH_REQUIRED")
		// Registration still works: the login upgrades the (forced) anonymous user.
		tok, id := e.register(e.ssaid("d"), e.email("a"), "")
		if got := e.me(e.ssaid("d"), tok).want(t, 200, "").num("id"); got != id {
			t.Fatalf("id %d, want %d", got, id)
		}
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: e.ssaid("x")}).want(t, 401, "AUTH_REQUIRED")
	})
}

type testUserFields struct {
	Age      int    `json:"age" description:"App column with a default."`
	Nickname string `json:"nickname,omitempty"`
	Internal string `json:"-"`
}

func TestMeFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		fail := false
		e := newEnv(t, withBackend(b), withOptions(func(o *Options) {
			o.UserFields = testUserFields{}
			o.MeFields = func(_ context.Context, u *user.User) (map[string]any, error) {
				if fail {
					return nil, errors.New("app table down")
				}
				return map[string]any{"age": 18, "nickname": "n" + u.Email, "id": "not the kit's", "registered": "x"}, nil
			}
		}))
		r := e.me(e.ssaid("d"), "").want(t, 200, "")
		if r.data["age"] != float64(18) || r.data["nickname"] != "n" {
			t.Fatalf("app fields missing: %s", r.raw)
		}
		if _, ok := r.data["id"].(float64); !ok || r.data["registered"] != false {
			t.Fatalf("kit fields lost a clash: %s", r.raw)
		}
		fail = true
		r = e.me(e.ssaid("d"), "").want(t, 500, "INTERNAL")
		if strings.Contains(r.message, "app table") {
			t.Fatalf("cause leaked: %q", r.message)
		}
	})
}

func TestChangePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev, a := e.ssaid("d"), e.email("a")
		cp := func(token string, body any) *res {
			return e.do(rq{method: "POST", path: "/user-center/change-password", ssaid: dev, token: token, body: body})
		}
		// Order: ssaid, then token, then body, then the anonymous check.
		e.do(rq{method: "POST", path: "/user-center/change-password", token: "x", body: "{"}).want(t, 400, "SSAID_REQUIRED")
		cp(strings.Repeat("A", 64), map[string]any{}).want(t, 401, "INVALID_TOKEN")
		cp(strings.Repeat("A", 64), "{malformed").want(t, 401, "INVALID_TOKEN")
		cp("", map[string]any{}).want(t, 400, "INVALID_INPUT")
		r := cp("", map[string]any{"newPassword": "new-password-1"}).want(t, http.StatusPaymentRequired, "ANONYMOUS_USER")
		if r.message != "Not allowed to change password for anonymous user." {
			t.Fatalf("message %q", r.message)
		}

		tok1, id := e.register(dev, a, "")
		tok2, _ := e.login(e.ssaid("d2"), map[string]any{"email": a, "code": e.advanceAndSend(a, "Login")})
		cp(tok1, map[string]any{"newPassword": ""}).want(t, 400, "INVALID_INPUT")
		cp(tok1, map[string]any{"newPassword": "short"}).want(t, 400, "INVALID_INPUT")
		cp(tok1, map[string]any{"newPassword": "new-password-1", "currentPassword": ""}).want(t, 400, "INVALID_INPUT")
		// First set: currentPassword not needed.
		cp(tok1, map[string]any{"newPassword": "first-password"}).want(t, 200, "").noData(t)
		// Every other session revoked; the caller's stays.
		e.me(dev, tok1).want(t, 200, "")
		e.me(dev, tok2).want(t, 401, "INVALID_TOKEN")

		tok3, _ := e.login(dev, map[string]any{"email": a, "password": "first-password"})
		// A missing current password is refused as nicot does, but it is
		// no guess: repeated, it spends none of the account's attempts.
		for range 12 {
			r = cp(tok3, map[string]any{"newPassword": "second-password"}).want(t, 403, "INVALID_PASSWORD")
		}
		e.login(e.ssaid("d3"), map[string]any{"email": a, "password": "first-password"})
		if r.message != "Current password is incorrect." {
			t.Fatalf("message %q", r.message)
		}
		for i := 0; i < 5; i++ { // five wrong guesses: the limit
			cp(tok3, map[string]any{"newPassword": "second-password", "currentPassword": "wrong-one"}).want(t, 403, "INVALID_PASSWORD")
		}
		w := cp(tok3, map[string]any{"newPassword": "second-password", "currentPassword": "first-password"}).wait(t, "TOO_MANY_PASSWORD_ATTEMPTS")
		e.clock.Advance(w)
		cp(tok3, map[string]any{"newPassword": "second-password", "currentPassword": "first-password"}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "password": "first-password"}}).want(t, 403, "INVALID_PASSWORD")
		if _, got := e.login(dev, map[string]any{"email": a, "password": "second-password"}); got != id {
			t.Fatalf("id %d want %d", got, id)
		}
	})
}

// advanceAndSend lets the send cooldown pass, then sends a code.
func (e *env) advanceAndSend(email, purpose string) string {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	return e.sendCode(email, purpose)
}

func TestChangeEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev, a, other, fresh := e.ssaid("d"), e.email("a"), e.email("other"), e.email("fresh")
		ce := func(token string, body any) *res {
			return e.do(rq{method: "POST", path: "/user-center/change-email", ssaid: dev, token: token, body: body})
		}
		ce("", map[string]any{"email": fresh, "code": "1"}).want(t, 402, "ANONYMOUS_USER")
		ce(strings.Repeat("B", 64), map[string]any{"email": "bad"}).want(t, 401, "INVALID_TOKEN")

		tok, id := e.register(dev, a, "pw-long-enough")
		e.register(e.ssaid("o"), other, "")
		ce(tok, map[string]any{"email": "bad", "code": ""}).want(t, 400, "INVALID_INPUT")
		ce(tok, map[string]any{"email": fresh, "code": "nope"}).want(t, 403, "INVALID_CODE")

		code := e.sendCode(other, "ChangeEmail")
		r := ce(tok, map[string]any{"email": other, "code": code}).want(t, http.StatusConflict, "EMAIL_TAKEN")
		if !strings.Contains(r.message, "already") {
			t.Fatalf("message %q", r.message)
		}
		e.clock.Advance(time.Minute)
		code = e.sendCode(strings.ToUpper(other), "ChangeEmail")
		ce(tok, map[string]any{"email": strings.ToUpper(other), "code": code}).want(t, http.StatusConflict, "EMAIL_TAKEN")

		code = e.sendCode(fresh, "ChangeEmail")
		ce(tok, map[string]any{"email": fresh, "code": code}).want(t, 200, "").noData(t)
		// The session follows the user; the new address logs in.
		if e.me(dev, tok).want(t, 200, "").str("email") != fresh {
			t.Fatal("email not changed")
		}
		if _, got := e.login(dev, map[string]any{"email": fresh, "password": "pw-long-enough"}); got != id {
			t.Fatalf("id %d", got)
		}
		e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "password": "pw-long-enough"}}).want(t, 404, "USER_NOT_FOUND")
	})
}

func TestLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev, a := e.ssaid("d"), e.email("a")
		tok1, _ := e.register(dev, a, "password-1")
		tok2, _ := e.login(dev, map[string]any{"email": a, "password": "password-1"})
		logout := func(ssaid, tok string) *res {
			return e.do(rq{method: "POST", path: "/user-center/logout", ssaid: ssaid, token: tok})
		}
		logout(dev, "").want(t, 401, "AUTH_REQUIRED")
		logout(dev, strings.Repeat("C", 64)).want(t, 401, "INVALID_TOKEN")
		logout("", tok1).want(t, 400, "SSAID_REQUIRED")
		logout(dev, tok1).want(t, 200, "").noData(t)
		e.me(dev, tok1).want(t, 401, "INVALID_TOKEN")
		e.me(dev, tok2).want(t, 200, "")
		logout(dev, tok1).want(t, 401, "INVALID_TOKEN")
	})
}

func TestResetPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		rp := func(body any) *res { return e.do(rq{method: "POST", path: "/login/reset-password", body: body}) }
		rp(map[string]any{}).want(t, 400, "INVALID_INPUT")
		r := rp(map[string]any{"email": a, "code": "", "newPassword": ""}).want(t, 400, "INVALID_INPUT")
		if r.message != "code should not be empty; newPassword should not be empty" {
			t.Fatalf("message %q", r.message)
		}
		rp(map[string]any{"email": a, "code": "1", "newPassword": "short"}).want(t, 400, "INVALID_INPUT")
		rp(map[string]any{"email": a, "code": "1", "newPassword": "long-enough"}).want(t, 403, "INVALID_CODE")

		tok1, id := e.register(e.ssaid("d1"), a, "old-password")
		tok2, _ := e.login(e.ssaid("d2"), map[string]any{"email": a, "password": "old-password"})
		code := e.sendCode(a, "ResetPassword")
		rp(map[string]any{"email": a, "code": code, "newPassword": "new-password"}).want(t, 200, "").noData(t)
		e.me(e.ssaid("d1"), tok1).want(t, 401, "INVALID_TOKEN")
		e.me(e.ssaid("d2"), tok2).want(t, 401, "INVALID_TOKEN")
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d1"), body: map[string]any{"email": a, "password": "old-password"}}).want(t, 403, "INVALID_PASSWORD")
		if _, got := e.login(e.ssaid("d1"), map[string]any{"email": a, "password": "new-password"}); got != id {
			t.Fatalf("id %d", got)
		}
		// The code was consumed.
		rp(map[string]any{"email": a, "code": code, "newPassword": "third-password"}).want(t, 403, "INVALID_CODE")
		// Unknown address: success, no enumeration.
		unknown := e.email("nobody")
		code = e.sendCode(unknown, "ResetPassword")
		rp(map[string]any{"email": unknown, "code": code, "newPassword": "new-password"}).want(t, 200, "")
	})
}

func TestUnregisterAndRecovery(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev, a := e.ssaid("d"), e.email("a")
		tok, id := e.register(dev, a, "password-1")
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: dev, token: tok}).want(t, 200, "").noData(t)
		e.me(dev, tok).want(t, 401, "INVALID_TOKEN")
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: dev, token: tok}).want(t, 401, "INVALID_TOKEN")

		// Within 30 days a login recovers the same account.
		e.clock.Advance(29 * 24 * time.Hour)
		tok, got := e.login(dev, map[string]any{"email": a, "password": "password-1"})
		if got != id {
			t.Fatalf("recovered %d, want %d", got, id)
		}
		e.me(dev, tok).want(t, 200, "")

		// Unregister again; after 31 days the address is free: a code login
		// creates a new account.
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: dev, token: tok}).want(t, 200, "")
		e.clock.Advance(31 * 24 * time.Hour)
		e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "password": "password-1"}}).want(t, 404, "USER_NOT_FOUND")
		tok2, id2 := e.register(e.ssaid("d-new"), a, "")
		if id2 == id {
			t.Fatal("the expired account was revived")
		}
		if m := e.me(e.ssaid("d-new"), tok2).want(t, 200, ""); m.data["passwordSet"] != false {
			t.Fatalf("the new account inherited the password: %v", m.data)
		}
	})
}

func TestAnonymousUnregisterIsolated(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		// Registration-time sessions of other users (nicot bug B2).
		tokA, _ := e.register(e.ssaid("a"), e.email("a"), "")
		tokB, _ := e.register(e.ssaid("b"), e.email("b"), "")
		anon := e.ssaid("anon")
		id := e.me(anon, "").want(t, 200, "").num("id")
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: anon}).want(t, 200, "")
		e.me(e.ssaid("a"), tokA).want(t, 200, "")
		e.me(e.ssaid("b"), tokB).want(t, 200, "")
		// The anonymous user is gone; the ssaid gets a fresh one.
		if got := e.me(anon, "").want(t, 200, "").num("id"); got == id {
			t.Fatal("anonymous user survived unregister")
		}
	})
}

func TestUnregisterWithCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		uw := func(body any) *res { return e.do(rq{method: "POST", path: "/login/unregister-with-code", body: body}) }
		uw(map[string]any{"email": a}).want(t, 400, "INVALID_INPUT")
		uw(map[string]any{"email": a, "code": "1"}).want(t, 403, "INVALID_CODE")

		tok, _ := e.register(e.ssaid("d"), a, "")
		code := e.sendCode(a, "Unregister")
		uw(map[string]any{"email": a, "code": "x" + code}).want(t, 403, "INVALID_CODE")
		uw(map[string]any{"email": a, "code": code}).want(t, 200, "").noData(t)
		e.me(e.ssaid("d"), tok).want(t, 401, "INVALID_TOKEN")
		uw(map[string]any{"email": a, "code": code}).want(t, 403, "INVALID_CODE") // consumed
		// Already unregistered: success.
		e.clock.Advance(time.Minute)
		code = e.sendCode(a, "Unregister")
		uw(map[string]any{"email": a, "code": code}).want(t, 200, "")
	})
}

func TestPanicInAppHookIsEnveloped(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) {
		o.MeFields = func(context.Context, *user.User) (map[string]any, error) { panic("app bug") }
	}))
	r := e.me(e.ssaid("d"), "").want(t, 500, "INTERNAL")
	if r.message != "Internal server error" {
		t.Fatalf("message %q", r.message)
	}
}
