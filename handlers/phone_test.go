package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/middleware"
)

// smsBox is a capturing SendSMS hook: the last code sent to each number
// and purpose, and the numbers as the hook received them.
type smsBox struct {
	mu    sync.Mutex
	n     int64
	codes map[string]string
	got   []string
}

func (b *smsBox) send(_ context.Context, req hooks.SendSMSRequest) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	c := codeFor(b.n + 500)
	b.codes[req.Phone+"/"+req.Purpose] = c
	b.got = append(b.got, req.Phone)
	return c, nil
}

func (b *smsBox) last(phone, purpose string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.codes[phone+"/"+purpose]
}

func newPhoneEnv(t *testing.T, b backendSet, opts ...envOption) (*env, *smsBox) {
	box := &smsBox{codes: map[string]string{}}
	opts = append([]envOption{withBackend(b), withConfig(func(c *simpleuser.Config) {
		c.Hooks.SendSMS = box.send
		c.Phone.DefaultRegion = "US"
	})}, opts...)
	return newEnv(t, opts...), box
}

// sendSMS asks for a code to number from a fresh device and address.
func (e *env) sendSMS(number, purpose string) {
	e.t.Helper()
	e.do(rq{method: "POST", path: "/send-code/phone", ssaid: e.ssaid(fmt.Sprintf("sms-sender%d", e.seq.Add(1))), ip: e.nextIP(),
		body: map[string]any{"phone": number, "codePurpose": purpose}}).want(e.t, 200, "").noData(e.t)
}

func TestPhoneSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b)
		dev := e.ssaid("phone-dev")
		anonID := e.me(dev, "").want(t, 200, "").num("id")

		// Typed nationally in the default region (US): keyed and sent as E.164.
		e.do(rq{method: "POST", path: "/send-code/phone", ssaid: dev, ip: e.nextIP(),
			body: map[string]any{"phone": "(415) 555-0100", "codePurpose": "Login"}}).want(t, 200, "")
		if len(box.got) != 1 || box.got[0] != "+14155550100" {
			t.Fatalf("SendSMS got %q, want [+14155550100]", box.got)
		}
		// Cooldown per number: another device, another address, same number typed differently.
		e.do(rq{method: "POST", path: "/send-code/phone", ssaid: e.ssaid("other"), ip: e.nextIP(),
			body: map[string]any{"phone": "+1 415 555 0100", "codePurpose": "Login"}}).want(t, 429, "SEND_COOLDOWN")

		code := box.last("+14155550100", "Login")
		e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
			body: map[string]any{"phone": "+14155550100", "code": "000000"}}).want(t, 403, "INVALID_CODE")
		r := e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
			body: map[string]any{"phone": "415-555-0100", "code": code, "nickname": "ann"}}).want(t, 200, "")
		tok := r.str("token")
		if r.num("userId") != anonID {
			t.Fatalf("phone sign-up made user %d, want the anonymous user %d upgraded", r.num("userId"), anonID)
		}
		me := e.me(dev, tok).want(t, 200, "")
		if me.str("phone") != "+14155550100" || !tsFormat.MatchString(me.str("phoneVerifiedAt")) ||
			me.data["email"] != nil || me.data["emailVerifiedAt"] != nil || me.data["registered"] != true {
			t.Fatalf("/me after phone sign-up: %s", me.raw)
		}
		// The code is spent.
		e.do(rq{method: "POST", path: "/login/phone", ssaid: e.ssaid("d2"),
			body: map[string]any{"phone": "+14155550100", "code": code}}).want(t, 403, "INVALID_CODE")

		// A later sign-in by phone from another device enters the same account.
		e.clock.Advance(2 * time.Minute)
		e.sendSMS("+14155550100", "Login")
		r = e.do(rq{method: "POST", path: "/login/phone", ssaid: e.ssaid("d3"),
			body: map[string]any{"phone": "+14155550100", "code": box.last("+14155550100", "Login")}}).want(t, 200, "")
		if r.num("userId") != anonID {
			t.Fatalf("second phone sign-in: user %d, want %d", r.num("userId"), anonID)
		}

		// Wrong codes are counted per number, as for email (5 by default).
		e.clock.Advance(2 * time.Minute)
		e.sendSMS("+14155550100", "Login")
		for i := 0; i < 5; i++ {
			e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
				body: map[string]any{"phone": "+14155550100", "code": "999999"}}).want(t, 403, "INVALID_CODE")
		}
		e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
			body: map[string]any{"phone": "+14155550100", "code": box.last("+14155550100", "Login")}}).want(t, 429, "TOO_MANY_CODE_ATTEMPTS")
	})
}

func TestPhoneInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b)
		dev := e.ssaid("d")
		for _, body := range []map[string]any{
			{"phone": "12", "codePurpose": "Login"},
			{"phone": "+999 123", "codePurpose": "Login"},
			{"phone": "not a number", "codePurpose": "Login"},
			{"phone": "+14155550100", "codePurpose": "ChangeEmail"},
			{"codePurpose": "Login"},
			{"phone": 12, "codePurpose": "Login"},
		} {
			if r := e.do(rq{method: "POST", path: "/send-code/phone", ssaid: dev, ip: e.nextIP(), body: body}); r.code != 400 || !strings.Contains(string(r.raw), "INVALID_INPUT") {
				t.Fatalf("%v: %s", body, r.raw)
			}
		}
		e.do(rq{method: "POST", path: "/login/phone", ssaid: dev, body: map[string]any{"phone": "+14155550100"}}).want(t, 400, "INVALID_INPUT")
		e.do(rq{method: "POST", path: "/login/phone", ssaid: dev, body: map[string]any{"phone": "nope", "code": "123456"}}).want(t, 400, "INVALID_INPUT")
		if len(box.got) != 0 {
			t.Fatalf("SendSMS called for refused input: %q", box.got)
		}

		// Without a SendSMS hook: 503 naming it; the email routes are unchanged.
		plain := newEnv(t, withBackend(b))
		plain.do(rq{method: "POST", path: "/send-code/phone", ssaid: dev,
			body: map[string]any{"phone": "+14155550100", "codePurpose": "Login"}}).want(t, 503, "SMS_UNAVAILABLE")
		plain.register(plain.ssaid("x"), plain.email("x"), "")
	})
}

func TestPhoneOnAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b)
		dev := e.ssaid("a")
		tok, id := e.register(dev, e.email("a"), "")
		me := e.me(dev, tok).want(t, 200, "")
		if !tsFormat.MatchString(me.str("emailVerifiedAt")) || me.data["phone"] != nil || me.data["phoneVerifiedAt"] != nil {
			t.Fatalf("/me after an email-code sign-up: %s", me.raw)
		}

		// Add a number, proven by a ChangePhone code sent to it.
		e.sendSMS("+33 6 12 34 56 78", "ChangePhone")
		code := box.last("+33612345678", "ChangePhone")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev, token: tok,
			body: map[string]any{"phone": "+33612345678", "code": "000000"}}).want(t, 403, "INVALID_CODE")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev, token: tok,
			body: map[string]any{"phone": "+33612345678", "code": code}}).want(t, 200, "")
		me = e.me(dev, tok).want(t, 200, "")
		if me.str("phone") != "+33612345678" || !tsFormat.MatchString(me.str("phoneVerifiedAt")) {
			t.Fatalf("/me after change-phone: %s", me.raw)
		}
		// The number now signs in to this account.
		e.sendSMS("+33612345678", "Login")
		r := e.do(rq{method: "POST", path: "/login/phone", ssaid: e.ssaid("a2"),
			body: map[string]any{"phone": "+33612345678", "code": box.last("+33612345678", "Login")}}).want(t, 200, "")
		if r.num("userId") != id {
			t.Fatalf("phone sign-in: user %d, want %d", r.num("userId"), id)
		}

		// Another account cannot take it.
		dev2 := e.ssaid("b")
		tok2, _ := e.register(dev2, e.email("b"), "")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev2, token: tok2,
			body: map[string]any{"phone": "+33612345678", "code": "123456"}}).want(t, 409, "PHONE_TAKEN")

		// Change it: the new number is verified anew, the old one freed.
		e.clock.Advance(2 * time.Minute)
		e.sendSMS("+33612345679", "ChangePhone")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev, token: tok,
			body: map[string]any{"phone": "+33612345679", "code": box.last("+33612345679", "ChangePhone")}}).want(t, 200, "")
		if got := e.me(dev, tok).want(t, 200, "").str("phone"); got != "+33612345679" {
			t.Fatalf("phone after change: %q", got)
		}
		e.sendSMS("+33612345678", "ChangePhone")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev2, token: tok2,
			body: map[string]any{"phone": "+33612345678", "code": box.last("+33612345678", "ChangePhone")}}).want(t, 200, "")

		// Remove it.
		e.do(rq{method: "POST", path: "/user-center/remove-phone", ssaid: dev, token: tok}).want(t, 200, "")
		me = e.me(dev, tok).want(t, 200, "")
		if me.data["phone"] != nil || me.data["phoneVerifiedAt"] != nil {
			t.Fatalf("/me after remove-phone: %s", me.raw)
		}

		// A phone-only account keeps its number: it is its only sign-in method.
		pdev := e.ssaid("p")
		e.clock.Advance(2 * time.Minute)
		e.sendSMS("+14155550123", "Login")
		pr := e.do(rq{method: "POST", path: "/login/phone", ssaid: pdev,
			body: map[string]any{"phone": "+14155550123", "code": box.last("+14155550123", "Login")}}).want(t, 200, "")
		ptok, pid := pr.str("token"), pr.num("userId")
		e.do(rq{method: "POST", path: "/user-center/remove-phone", ssaid: pdev, token: ptok}).want(t, 409, "LAST_SIGN_IN_METHOD")
		// Unregistered: a sign-in within the grace period recovers the
		// account; once it is over, the number makes a new account.
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: pdev, token: ptok}).want(t, 200, "")
		e.clock.Advance(2 * time.Minute)
		e.sendSMS("+14155550123", "Login")
		r = e.do(rq{method: "POST", path: "/login/phone", ssaid: pdev,
			body: map[string]any{"phone": "+14155550123", "code": box.last("+14155550123", "Login")}}).want(t, 200, "")
		if r.num("userId") != pid {
			t.Fatalf("sign-in within the grace period: user %d, want the account %d recovered", r.num("userId"), pid)
		}
		e.do(rq{method: "POST", path: "/user-center/unregister", ssaid: pdev, token: r.str("token")}).want(t, 200, "")
		e.clock.Advance(31 * 24 * time.Hour)
		e.sendSMS("+14155550123", "Login")
		ndev := e.ssaid("p-new")
		r = e.do(rq{method: "POST", path: "/login/phone", ssaid: ndev,
			body: map[string]any{"phone": "+14155550123", "code": box.last("+14155550123", "Login")}}).want(t, 200, "")
		if r.num("userId") == pid {
			t.Fatalf("sign-in after the grace period entered the unregistered account %d", pid)
		}
		// Anonymous users have no number.
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: e.ssaid("anon"),
			body: map[string]any{"phone": "+14155550124", "code": "123456"}}).want(t, 402, "ANONYMOUS_USER")
	})
}

func TestRequireVerifiedEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b, withConfig(func(c *simpleuser.Config) { c.RequireVerifiedEmail = true }))
		ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		id := middleware.Identity(e.svc, middleware.Options{})
		for name, guard := range map[string]func(http.Handler) http.Handler{
			"RequireSession": middleware.RequireSession, "RequireRegistered": middleware.RequireRegistered, "RequireUser": middleware.RequireUser,
		} {
			h := id(guard(ok))
			t.Run(name, func(t *testing.T) {
				// A phone-only account has no verified address: refused.
				pdev := e.ssaid("p-" + name)
				e.clock.Advance(2 * time.Minute)
				number := map[string]string{"RequireSession": "+14155550131", "RequireRegistered": "+14155550132", "RequireUser": "+14155550133"}[name]
				e.sendSMS(number, "Login")
				ptok := e.do(rq{method: "POST", path: "/login/phone", ssaid: pdev,
					body: map[string]any{"phone": number, "code": box.last(number, "Login")}}).want(t, 200, "").str("token")
				rec := serve(h, pdev, ptok)
				if rec.Code != http.StatusForbidden || !contains(rec.Body.String(), "EMAIL_NOT_VERIFIED") {
					t.Fatalf("phone-only session: %d %s, want 403 EMAIL_NOT_VERIFIED", rec.Code, rec.Body)
				}
				// Adding an address by its code verifies it, and the session follows at once.
				email := e.email("v-" + name)
				code := e.sendCode(email, "ChangeEmail")
				e.do(rq{method: "POST", path: "/user-center/change-email", ssaid: pdev, token: ptok,
					body: map[string]any{"email": email, "code": code}}).want(t, 200, "")
				if rec := serve(h, pdev, ptok); rec.Code != http.StatusNoContent {
					t.Fatalf("after verifying the address: %d %s", rec.Code, rec.Body)
				}
				// An email-code sign-up is verified from the start.
				tok, _ := e.register(e.ssaid("e-"+name), e.email("e-"+name), "")
				if rec := serve(h, e.ssaid("e-"+name), tok); rec.Code != http.StatusNoContent {
					t.Fatalf("email-code account: %d %s", rec.Code, rec.Body)
				}
			})
		}
	})
}

func serve(h http.Handler, ssaid, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/orders", nil)
	req.Header.Set("x-client-ssaid", ssaid)
	if tok != "" {
		req.Header.Set("x-client-token", tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestPhoneSignInWithMFA: a sign-in by SMS code into an account with MFA
// on is a challenge, completed by the second factor, as for email.
func TestPhoneSignInWithMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b)
		dev, number := e.ssaid("mfa-phone"), "+14155550150"
		e.sendSMS(number, "Login")
		tok := e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
			body: map[string]any{"phone": number, "code": box.last(number, "Login")}}).want(t, 200, "").str("token")
		secret, _ := e.enrolTOTP(dev, tok, "Phone app")

		e.clock.Advance(2 * time.Minute)
		e.sendSMS(number, "Login")
		r := e.do(rq{method: "POST", path: "/login/phone", ssaid: dev,
			body: map[string]any{"phone": number, "code": box.last(number, "Login")}}).want(t, 200, "")
		ch := r.str("token")
		if r.data["mfaRequired"] != true {
			t.Fatalf("phone sign-in with MFA on: %s", r.raw)
		}
		e.me(dev, ch).want(t, 403, "MFA_REQUIRED")
		e.nextStep()
		done := e.do(rq{method: "POST", path: "/user-center/mfa/challenge", ssaid: dev, token: ch,
			body: map[string]any{"factor": "totp", "code": e.totp(secret)}}).want(t, 200, "").str("token")
		if m := e.me(dev, done).want(t, 200, ""); m.str("phone") != number {
			t.Fatalf("/me after the challenge: %s", m.raw)
		}
	})
}
