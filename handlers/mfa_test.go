package handlers

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/softauthn"
	"github.com/simpleuser/simpleuser/mfa"
)

// events records the kit's events of an env.
type events struct {
	mu   sync.Mutex
	list []hooks.Event
}

func (ev *events) hook(_ context.Context, e hooks.Event) error {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.list = append(ev.list, e)
	return nil
}

func (ev *events) count(typ string) int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	n := 0
	for _, e := range ev.list {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func withEvents(ev *events) envOption {
	return withConfig(func(c *simpleuser.Config) { c.Hooks.OnEvent = ev.hook })
}

// totp is the current TOTP code of secret on the env's clock.
func (e *env) totp(secret []byte) string {
	e.t.Helper()
	c, err := mfa.TOTPCode(secret, mfa.TOTPStep(e.clock.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// nextStep moves the clock to the next TOTP time step.
func (e *env) nextStep() { e.clock.Advance(mfa.TOTPPeriod * time.Second) }

// enrolTOTP adds and confirms an authenticator for the session; it returns
// its secret and the recovery codes the confirmation answered.
func (e *env) enrolTOTP(ssaid, token, name string) ([]byte, []string) {
	e.t.Helper()
	r := e.do(rq{method: "POST", path: "/user-center/mfa/totp", ssaid: ssaid, token: token, body: map[string]any{"name": name}}).want(e.t, 200, "")
	if !strings.HasPrefix(r.str("qr"), "data:image/png;base64,") || !strings.HasPrefix(r.str("uri"), "otpauth://totp/") {
		e.t.Fatalf("enrolment answer: %s", r.raw)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.str("secret"))
	if err != nil {
		e.t.Fatal(err)
	}
	id := r.str("id")
	e.do(rq{method: "POST", path: "/user-center/mfa/totp/" + id + "/confirm", ssaid: ssaid, token: token, body: map[string]any{"code": "000000"}}).want(e.t, 403, mfa.CodeInvalidFactor)
	r = e.do(rq{method: "POST", path: "/user-center/mfa/totp/" + id + "/confirm", ssaid: ssaid, token: token, body: map[string]any{"code": e.totp(secret)}}).want(e.t, 200, "")
	return secret, r.strs("recoveryCodes") // none when MFA was on already
}

// strs returns data[key] as a list of strings.
func (r *res) strs(key string) []string {
	var out []string
	list, _ := r.data[key].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// challenge logs in by password and asserts a challenge answer listing factors.
func (e *env) challenge(ssaid, email, pw string, factors ...string) string {
	e.t.Helper()
	r := e.do(rq{method: "POST", path: "/login", ssaid: ssaid, body: map[string]any{"email": email, "password": pw}}).want(e.t, 200, "")
	if r.data["mfaRequired"] != true || !slices.Equal(r.strs("factors"), factors) {
		e.t.Fatalf("login of an account with MFA on: %s; want mfaRequired and factors %v", r.raw, factors)
	}
	return r.str("token")
}

func TestMFASignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		ev := &events{}
		e := newEnv(t, withBackend(b), withEvents(ev))
		email, dev, pw := e.email("mfa"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)

		// Without MFA the login answer is nicot's, byte for byte: three fields.
		r := e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		if len(r.data) != 3 || r.data["token"] == nil || r.data["tokenExpiresAt"] == nil || r.data["userId"] == nil {
			t.Fatalf("login answer without MFA: %s", r.raw)
		}
		tok = r.str("token")
		if m := e.me(dev, tok).want(t, 200, ""); m.data["mfaEnabled"] != false || len(m.strs("factors")) != 0 {
			t.Fatalf("/me before MFA: %s", m.raw)
		}

		secret, codes := e.enrolTOTP(dev, tok, "Phone")
		if len(codes) != 10 || ev.count(hooks.MFAEnabled) != 1 || ev.count(hooks.FactorAdded) != 1 {
			t.Fatalf("confirmation: %d recovery codes, events %+v", len(codes), ev.list)
		}
		// The enrolling session learnt the new factors without a new login.
		if m := e.me(dev, tok).want(t, 200, ""); m.data["mfaEnabled"] != true || !slices.Equal(m.strs("factors"), []string{"totp", "recovery"}) {
			t.Fatalf("/me after enabling: %s", m.raw)
		}

		ch := e.challenge(dev, email, pw, "totp", "recovery")
		// The challenge session opens nothing but the factor endpoints and logout.
		for _, q := range []rq{
			{method: "GET", path: "/user-center/me"},
			{method: "GET", path: "/user-center/session"},
			{method: "GET", path: "/user-center/sessions"},
			{method: "GET", path: "/user-center/mfa"},
			{method: "POST", path: "/user-center/change-password", body: map[string]any{"newPassword": "another password", "currentPassword": pw}},
			{method: "POST", path: "/user-center/reauth", body: map[string]any{"factor": "password", "code": pw}},
		} {
			q.ssaid, q.token = dev, ch
			r := e.do(q).want(t, 403, mfa.CodeMFARequired)
			if !slices.Equal(r.strs("factors"), []string{"totp", "recovery"}) {
				t.Fatalf("%s %s: factors %s", q.method, q.path, r.raw)
			}
		}
		// The code spent by the confirmation is refused (replay in its window).
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "totp", "code": e.totp(secret)}}).want(t, 403, mfa.CodeInvalidFactor)
		e.nextStep()
		code := e.totp(secret)
		r = e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "totp", "code": code}}).want(t, 200, "")
		full := r.str("token")
		if len(full) != 64 || full == ch || r.data["mfaRequired"] != nil {
			t.Fatalf("challenge answer: %s", r.raw)
		}
		e.me(dev, ch).want(t, 401, simpleuser.CodeInvalidToken) // no fixation: the challenge token is dead
		d, err := e.svc.Sessions().Get(context.Background(), full)
		if err != nil || d.Stage != "" || !slices.Equal(d.AMR, []string{"pwd", "otp", "mfa"}) || !d.AuthAt.Equal(e.clock.Now().UTC().Truncate(time.Millisecond)) {
			t.Fatalf("completed session: %+v, %v", d, err)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: full, body: map[string]any{"factor": "totp", "code": code}}).want(t, 409, mfa.CodeNotInChallenge)
		if m := e.me(dev, full).want(t, 200, ""); m.data["mfaEnabled"] != true {
			t.Fatalf("/me of the completed session: %s", m.raw)
		}
		e.do(rq{method: "GET", path: "/user-center/session", ssaid: dev, token: full}).want(t, 200, "")
		// The same code cannot complete another challenge.
		ch2 := e.challenge(dev, email, pw, "totp", "recovery")
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch2, body: map[string]any{"factor": "totp", "code": code}}).want(t, 403, mfa.CodeInvalidFactor)
		// Logout works in the challenge stage.
		e.do(rq{method: "POST", path: "/user-center/logout", ssaid: dev, token: ch2}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch2, body: map[string]any{"factor": "totp", "code": code}}).want(t, 401, simpleuser.CodeInvalidToken)

		// A code login is challenged too.
		e.clock.Advance(time.Minute) // the registration's send cooldown
		c := e.sendCode(email, "Login")
		r = e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "code": c}}).want(t, 200, "")
		if r.data["mfaRequired"] != true {
			t.Fatalf("code login: %s", r.raw)
		}
	})
}

func TestMFARecoveryCodeSingleUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		ev := &events{}
		e := newEnv(t, withBackend(b), withEvents(ev))
		email, dev, pw := e.email("rec"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		_, codes := e.enrolTOTP(dev, tok, "Phone")

		ch := e.challenge(dev, email, pw, "totp", "recovery")
		typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
		full := e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "recovery", "code": typed}}).want(t, 200, "").str("token")
		if n := ev.count(hooks.RecoveryCodeUsed); n != 1 {
			t.Fatalf("%d RecoveryCodeUsed events, want 1", n)
		}
		ch = e.challenge(dev, email, pw, "totp", "recovery")
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "recovery", "code": codes[3]}}).want(t, 403, mfa.CodeInvalidFactor)
		st := e.do(rq{method: "GET", path: "/user-center/mfa", ssaid: dev, token: full}).want(t, 200, "")
		if st.num("recoveryCodesLeft") != 9 || st.data["enabled"] != true {
			t.Fatalf("status: %s", st.raw)
		}
		// Regenerating voids the old set.
		fresh := e.do(rq{method: "POST", path: "/user-center/mfa/recovery-codes", ssaid: dev, token: full}).want(t, 200, "").strs("recoveryCodes")
		if len(fresh) != 10 {
			t.Fatalf("regenerated %v", fresh)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "recovery", "code": codes[4]}}).want(t, 403, mfa.CodeInvalidFactor)
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "recovery", "code": fresh[0]}}).want(t, 200, "")
		if n := ev.count(hooks.RecoveryCodeUsed); n != 2 {
			t.Fatalf("%d RecoveryCodeUsed events, want 2", n)
		}
	})
}

func TestMFAAttemptsLimited(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		email, dev, pw := e.email("lim"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		secret, _ := e.enrolTOTP(dev, tok, "Phone")
		e.nextStep()
		ch := e.challenge(dev, email, pw, "totp", "recovery")
		for i := 0; i < mfa.DefaultMaxAttempts; i++ {
			e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "recovery", "code": "aaaaa-aaaaa"}}).want(t, 403, mfa.CodeInvalidFactor)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "totp", "code": e.totp(secret)}}).wait(t, mfa.CodeFactorBlocked)
		e.clock.Advance(mfa.DefaultAttemptWindow)
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "totp", "code": e.totp(secret)}}).want(t, 401, simpleuser.CodeInvalidToken) // the challenge session expired meanwhile (10 min)
	})
}

func TestStepUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		email, dev, pw := e.email("step"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		e.do(rq{method: "POST", path: "/user-center/mfa/totp", ssaid: dev, token: tok, body: map[string]any{"name": "Phone"}}).want(t, 200, "")
		e.clock.Advance(11 * time.Minute)
		for _, q := range []rq{
			{method: "POST", path: "/user-center/mfa/totp", body: map[string]any{"name": "Tablet"}},
			{method: "POST", path: "/user-center/logout-all"},
			{method: "POST", path: "/user-center/change-email", body: map[string]any{"email": e.email("new"), "code": "123456"}},
			{method: "POST", path: "/user-center/unregister"},
		} {
			q.ssaid, q.token = dev, tok
			r := e.do(q).want(t, 403, mfa.CodeReauthRequired)
			if !slices.Equal(r.strs("factors"), []string{"password", "email"}) {
				t.Fatalf("%s: factors %s", q.path, r.raw)
			}
		}
		// A wrong password does not re-authenticate; the right one does.
		e.do(rq{method: "POST", path: "/user-center/reauth", ssaid: dev, token: tok, body: map[string]any{"factor": "password", "code": "wrong password"}}).want(t, 403, simpleuser.CodeInvalidPassword)
		e.do(rq{method: "POST", path: "/user-center/reauth", ssaid: dev, token: tok, body: map[string]any{"factor": "totp", "code": "123456"}}).want(t, 400, mfa.CodeFactorUnavailable)
		at := e.do(rq{method: "POST", path: "/user-center/reauth", ssaid: dev, token: tok, body: map[string]any{"factor": "password", "code": pw}}).want(t, 200, "").str("authAt")
		if at != formatTime(e.clock.Now()) {
			t.Fatalf("authAt %s, want now", at)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/totp", ssaid: dev, token: tok, body: map[string]any{"name": "Tablet"}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/logout-all", ssaid: dev, token: tok}).want(t, 200, "")
		// Re-authenticating by an email code (SecondFactor) works too.
		e.clock.Advance(11 * time.Minute)
		e.do(rq{method: "POST", path: "/user-center/logout-all", ssaid: dev, token: tok}).want(t, 403, mfa.CodeReauthRequired)
		e.do(rq{method: "POST", path: "/user-center/mfa/send-code", ssaid: dev, token: tok}).want(t, 200, "")
		c := e.lastCode(email, hooks.PurposeSecondFactor)
		e.do(rq{method: "POST", path: "/user-center/reauth", ssaid: dev, token: tok, body: map[string]any{"factor": "email", "code": c}}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/logout-all", ssaid: dev, token: tok}).want(t, 200, "")
		// The current password is a fresh authentication for change-password.
		e.clock.Advance(11 * time.Minute)
		e.do(rq{method: "POST", path: "/user-center/change-password", ssaid: dev, token: tok, body: map[string]any{"newPassword": "new password!", "currentPassword": pw}}).want(t, 200, "")
	})
}

func TestTrustedDevice(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		email, dev, pw := e.email("trust"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		secret, _ := e.enrolTOTP(dev, tok, "Phone")
		e.nextStep()
		ch := e.challenge(dev, email, pw, "totp", "recovery")
		r := e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "totp", "code": e.totp(secret), "trustDevice": true}}).want(t, 200, "")
		device, full := r.str("deviceToken"), r.str("token")
		if len(device) != 92 || r.str("deviceTokenExpiresAt") != formatTime(e.clock.Now().Add(mfa.DefaultTrustDeviceFor)) {
			t.Fatalf("trusted answer: %s", r.raw)
		}
		login := func() *res {
			return e.do(rq{method: "POST", path: "/login", ssaid: dev, header: map[string]string{"x-client-trusted-device": device},
				body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		}
		if r := login(); r.data["mfaRequired"] != nil {
			t.Fatalf("login from the trusted device was challenged: %s", r.raw)
		} else {
			e.me(dev, r.str("token")).want(t, 200, "")
		}
		// A forged token does not skip it.
		forged := device[:91] + "A"
		if forged == device {
			forged = device[:91] + "B"
		}
		bad := e.do(rq{method: "POST", path: "/login", ssaid: dev, header: map[string]string{"x-client-trusted-device": forged},
			body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		if bad.data["mfaRequired"] != true {
			t.Fatalf("a forged device token skipped the challenge: %s", bad.raw)
		}
		st := e.do(rq{method: "GET", path: "/user-center/mfa", ssaid: dev, token: full}).want(t, 200, "")
		if devs, _ := st.data["trustedDevices"].([]any); len(devs) != 1 {
			t.Fatalf("status: %s", st.raw)
		}
		if n := e.do(rq{method: "DELETE", path: "/user-center/mfa/devices", ssaid: dev, token: full}).want(t, 200, "").num("revoked"); n != 1 {
			t.Fatalf("revoked %d", n)
		}
		if r := login(); r.data["mfaRequired"] != true {
			t.Fatalf("a revoked device skipped the challenge: %s", r.raw)
		}
	})
}

func TestDisableNeedsFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		ev := &events{}
		e := newEnv(t, withBackend(b), withEvents(ev))
		email, dev, pw := e.email("off"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		secret, _ := e.enrolTOTP(dev, tok, "Phone")
		e.nextStep()
		e.do(rq{method: "POST", path: "/user-center/mfa/disable", ssaid: dev, token: tok, body: map[string]any{"factor": "totp", "code": "000000"}}).want(t, 403, mfa.CodeInvalidFactor)
		// The last factor cannot be removed while MFA is on.
		id := e.do(rq{method: "GET", path: "/user-center/mfa", ssaid: dev, token: tok}).want(t, 200, "").data["authenticators"].([]any)[0].(map[string]any)["id"].(string)
		e.do(rq{method: "DELETE", path: "/user-center/mfa/totp/" + id, ssaid: dev, token: tok}).want(t, 409, mfa.CodeLastFactor)
		e.do(rq{method: "POST", path: "/user-center/mfa/disable", ssaid: dev, token: tok, body: map[string]any{"factor": "totp", "code": e.totp(secret)}}).want(t, 200, "")
		if ev.count(hooks.MFADisabled) != 1 {
			t.Fatalf("events %+v", ev.list)
		}
		r := e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		if len(r.data) != 3 {
			t.Fatalf("login after disabling: %s", r.raw)
		}
		if m := e.me(dev, tok).want(t, 200, ""); m.data["mfaEnabled"] != false || len(m.strs("factors")) != 0 {
			t.Fatalf("/me after disabling: %s", m.raw)
		}
	})
}

func TestEmailFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		email, dev, pw := e.email("em"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		r := e.do(rq{method: "POST", path: "/user-center/mfa/email", ssaid: dev, token: tok, body: map[string]any{"enabled": true}}).want(t, 200, "")
		if r.data["mfaEnabled"] != true || len(r.strs("recoveryCodes")) != 10 {
			t.Fatalf("email factor on: %s", r.raw)
		}
		ch := e.challenge(dev, email, pw, "recovery", "email")
		e.do(rq{method: "POST", path: "/user-center/mfa/send-code", ssaid: dev, token: ch}).want(t, 200, "")
		c := e.lastCode(email, hooks.PurposeSecondFactor)
		// A Login code is not a SecondFactor code.
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "email", "code": "999999"}}).want(t, 403, simpleuser.CodeInvalidCode)
		e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch, body: map[string]any{"factor": "email", "code": c}}).want(t, 200, "")
		// After a code login the email code is no second factor (one
		// mailbox is one factor): with no other factor, the code login is
		// not challenged at all, rather than met with a recovery code at
		// every sign-in until none is left (a lockout).
		for i := range 12 { // more sign-ins than recovery codes
			e.clock.Advance(time.Minute) // the send cooldown
			lc := e.sendCode(email, "Login")
			r = e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "code": lc}}).want(t, 200, "")
			if r.data["mfaRequired"] != nil {
				t.Fatalf("code login %d of an email-factor-only account was challenged: %s", i, r.raw)
			}
		}
		if m := e.me(dev, r.str("token")).want(t, 200, ""); m.data["mfaEnabled"] != true {
			t.Fatalf("/me after a code login: %s", m.raw)
		}
		// With an authenticator as well, a code login is challenged, and
		// only by the authenticator (or a recovery code).
		e.enrolTOTP(dev, r.str("token"), "Phone")
		e.clock.Advance(time.Minute)
		lc := e.sendCode(email, "Login")
		r = e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "code": lc}}).want(t, 200, "")
		if r.data["mfaRequired"] != true || !slices.Equal(r.strs("factors"), []string{"totp", "recovery"}) {
			t.Fatalf("code login of an account with email and TOTP factors: %s", r.raw)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/send-code", ssaid: dev, token: r.str("token")}).want(t, 400, mfa.CodeFactorUnavailable)
	})
}

// In cookie mode a browser completes the challenge with its cookies alone:
// the challenge answer replaces the session cookie with the full session's
// and sets the trusted-device cookie, which then skips the challenge; a
// cross-origin challenge is refused (CSRF).
func TestMFACookieMode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(cookieModeOn))
		br := newBrowser(e)
		email, pw := e.email("page"), "password-1"
		br.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		r := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "code": e.lastCode(email, "Login"), "setPassword": pw}}).want(t, 200, "")
		secret, _ := e.enrolTOTP(e.ssaid("api"), r.str("token"), "Phone")
		e.nextStep()

		ch := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		if ch.data["mfaRequired"] != true {
			t.Fatalf("login: %s", ch.raw)
		}
		if c := sessionSet(ch); c == nil || c.Value != ch.str("token") || c.MaxAge != int(mfa.DefaultChallengeTTL/time.Second) || !c.HttpOnly {
			t.Fatalf("challenge session cookie %+v, want the challenge's lifetime", c)
		}
		br.me().want(t, 403, mfa.CodeMFARequired)
		body := map[string]any{"factor": "totp", "code": e.totp(secret), "trustDevice": true}
		br.from("cross-site", "https://evil.example").do(rq{method: "POST", path: "/user-center/mfa/challenge", body: body}).want(t, 403, simpleuser.CodeCSRF)
		done := br.do(rq{method: "POST", path: "/user-center/mfa/challenge", body: body}).want(t, 200, "")
		wantSessionCookie(t, e, done, done.str("token"))
		if br.cookies["__Host-simpleuser_trusted_device"] != done.str("deviceToken") || done.str("deviceToken") == "" {
			t.Fatalf("trusted-device cookie: %v; answer %s", br.cookies, done.raw)
		}
		if m := br.me().want(t, 200, ""); m.data["mfaEnabled"] != true {
			t.Fatalf("/me: %s", m.raw)
		}
		again := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "password": pw}}).want(t, 200, "")
		if again.data["mfaRequired"] != nil {
			t.Fatalf("a login with the trusted-device cookie was challenged: %s", again.raw)
		}
		// Revoking every device clears the cookie.
		br.do(rq{method: "DELETE", path: "/user-center/mfa/devices"}).want(t, 200, "")
		if _, ok := br.cookies["__Host-simpleuser_trusted_device"]; ok {
			t.Fatalf("the trusted-device cookie survived its revocation: %v", br.cookies)
		}
	})
}

// A passkey is a second factor: it completes the challenge of a password
// sign-in and re-authenticates a session; a usernameless passkey sign-in
// is one strong step, never challenged; registering a passkey needs a
// recent authentication.
func TestPasskeyAsSecondFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(passkeysOn))
		email, dev, pw := e.email("pk"), e.ssaid("dev"), "correct horse"
		tok, _ := e.register(dev, email, pw)
		a := softauthn.New(softauthn.Options{})
		e.addPasskey(t, dev, tok, a, "Laptop").want(t, 200, "")
		if m := e.me(dev, tok).want(t, 200, ""); !slices.Equal(m.strs("factors"), []string{"passkey"}) || m.data["mfaEnabled"] != false {
			t.Fatalf("/me after adding a passkey: %s", m.raw)
		}
		e.do(rq{method: "POST", path: "/user-center/mfa/email", ssaid: dev, token: tok, body: map[string]any{"enabled": true}}).want(t, 200, "")

		ch := e.challenge(dev, email, pw, "recovery", "email", "passkey")
		begin := func(token string) *res {
			return e.do(rq{method: "POST", path: "/user-center/mfa/passkey/begin", ssaid: dev, token: token}).want(t, 200, "")
		}
		bg := begin(ch)
		r := e.do(rq{method: "POST", path: "/user-center/mfa/passkey/challenge", ssaid: dev, token: ch, body: map[string]any{
			"challengeId": bg.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, bg)))}}).want(t, 200, "")
		full := r.str("token")
		e.me(dev, ch).want(t, 401, simpleuser.CodeInvalidToken)
		if d, err := e.svc.Sessions().Get(context.Background(), full); err != nil || !slices.Equal(d.AMR, []string{"pwd", "hwk", "mfa"}) {
			t.Fatalf("completed session: %+v, %v", d, err)
		}

		// A usernameless passkey sign-in into the MFA account is not challenged.
		if s := e.passkeySignIn(t, e.ssaid("phone"), a, page).want(t, 200, ""); s.data["mfaRequired"] != nil {
			t.Fatalf("passkey sign-in was challenged: %s", s.raw)
		}

		// Step-up: a passkey re-authenticates; registering another passkey needs it.
		e.clock.Advance(11 * time.Minute)
		e.do(rq{method: "POST", path: "/user-center/passkeys/register/begin", ssaid: dev, token: full}).want(t, 403, mfa.CodeReauthRequired)
		bg = begin(full)
		e.do(rq{method: "POST", path: "/user-center/reauth/passkey", ssaid: dev, token: full, body: map[string]any{
			"challengeId": bg.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, bg)))}}).want(t, 200, "")
		e.addPasskey(t, dev, full, softauthn.New(softauthn.Options{}), "Phone").want(t, 200, "")
		// The challenge endpoint refuses a full session.
		bg = begin(full)
		e.do(rq{method: "POST", path: "/user-center/mfa/passkey/challenge", ssaid: dev, token: full, body: map[string]any{
			"challengeId": bg.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, bg)))}}).want(t, 409, mfa.CodeNotInChallenge)
	})
}

// Authenticator names are counted in characters, as the OpenAPI document's
// maxLength says, and invisible characters are refused, so that two names
// looking alike cannot coexist.
func TestFactorNames(t *testing.T) {
	e := newEnv(t)
	dev := e.ssaid("dev")
	tok, _ := e.register(dev, e.email("names"), "correct horse")
	enrol := func(name string) *res {
		return e.do(rq{method: "POST", path: "/user-center/mfa/totp", ssaid: dev, token: tok, body: map[string]any{"name": name}})
	}
	enrol(strings.Repeat("😀", 20)).want(t, 200, "") // 20 characters, 80 bytes
	for _, name := range []string{"Phone\u200b", "\u202eenohP", "a\u0085b", strings.Repeat("é", 65)} {
		enrol(name).want(t, 400, simpleuser.CodeInvalidInput)
	}
}
