package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// TestNicotScenario replays nicot-simple-user's test/app-e2e.spec.ts
// (steps 1-7 and 13-15; 8-12 exercise its demo resource) on the handler
// alone; exampleapp's TestNicotE2E replays it word for word against the
// example server. Change-password keeps the caller's session (the
// registration token here) and ends the others, so step 7 runs with the
// registration token, as in nicot.
func TestNicotScenario(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withOptions(func(o *Options) {
			o.UserFields = testUserFields{}
			o.MeFields = func(context.Context, *user.User) (map[string]any, error) { return map[string]any{"age": 18}, nil }
		}))
		ssaid := e.ssaid("e2e")
		email, email2 := e.email("e2e"), e.email("e2e-new")

		// 1. user-exists for a brand-new email.
		r := e.do(rq{method: "GET", path: "/login/user-exists", query: map[string]string{"email": email}}).want(t, 200, "")
		if r.data["exists"] != false {
			t.Fatalf("1: %s", r.raw)
		}

		// 2. send a Login code.
		e.do(rq{method: "POST", path: "/send-code/send", ssaid: ssaid, body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		code := e.lastCode(email, "Login")

		// 3. verify: right code 200, wrong code 403 (not consumed).
		e.do(rq{method: "GET", path: "/send-code/verify", query: map[string]string{"email": email, "codePurpose": "Login", "code": code}}).want(t, 200, "")
		e.do(rq{method: "GET", path: "/send-code/verify", query: map[string]string{"email": email, "codePurpose": "Login", "code": "x" + code}}).want(t, 403, "INVALID_CODE")

		// 4. code login registers.
		regToken, userID := e.login(ssaid, map[string]any{"email": email, "code": code})

		// 5. /me.
		me := e.me(ssaid, regToken).want(t, 200, "")
		if me.str("email") != email || me.num("id") != userID || me.data["age"] != float64(18) {
			t.Fatalf("5: %s", me.raw)
		}
		if _, ok := me.data["passwordSet"].(bool); !ok {
			t.Fatalf("5: passwordSet %v", me.data["passwordSet"])
		}

		// 6. first password set without currentPassword; password login; wrong password 403.
		e.do(rq{method: "POST", path: "/user-center/change-password", ssaid: ssaid, token: regToken, body: map[string]any{"newPassword": "123456789"}}).want(t, 200, "")
		e.login(ssaid, map[string]any{"email": email, "password": "123456789"})
		e.do(rq{method: "POST", path: "/login", ssaid: ssaid, body: map[string]any{"email": email, "password": "987654321"}}).want(t, 403, "INVALID_PASSWORD")

		// 7. change-email with the registration token (the password change
		// kept the caller's session), then log in with the new email.
		e.do(rq{method: "POST", path: "/send-code/send", ssaid: ssaid, body: map[string]any{"email": email2, "codePurpose": "ChangeEmail"}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/change-email", ssaid: ssaid, token: regToken,
			body: map[string]any{"email": email2, "code": e.lastCode(email2, "ChangeEmail")}}).want(t, 200, "")
		if _, id := e.login(ssaid, map[string]any{"email": email2, "password": "123456789"}); id != userID {
			t.Fatalf("7: id %d want %d", id, userID)
		}

		// 13. reset-password; old password 403, new 200.
		e.do(rq{method: "POST", path: "/send-code/send", ssaid: ssaid, body: map[string]any{"email": email2, "codePurpose": "ResetPassword"}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login/reset-password",
			body: map[string]any{"email": email2, "code": e.lastCode(email2, "ResetPassword"), "newPassword": "abcdefghi"}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login", ssaid: ssaid, body: map[string]any{"email": email2, "password": "123456789"}}).want(t, 403, "INVALID_PASSWORD")
		e.login(ssaid, map[string]any{"email": email2, "password": "abcdefghi"})

		// 14. password login, unregister, /me with that token 401.
		tok, _ := e.login(ssaid, map[string]any{"email": email2, "password": "abcdefghi"})
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: ssaid, token: tok}).want(t, 200, "")
		e.me(ssaid, tok).want(t, 401, "INVALID_TOKEN")

		// 15. unregister-with-code for the already-unregistered email: 200.
		e.do(rq{method: "POST", path: "/send-code/send", ssaid: ssaid, body: map[string]any{"email": email2, "codePurpose": "Unregister"}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login/unregister-with-code",
			body: map[string]any{"email": email2, "code": e.lastCode(email2, "Unregister")}}).want(t, 200, "")

		// And it is recoverable within the grace period.
		e.clock.Advance(24 * time.Hour)
		if _, id := e.login(ssaid, map[string]any{"email": email2, "password": "abcdefghi"}); id != userID {
			t.Fatalf("recovery: id %d want %d", id, userID)
		}
	})
}
