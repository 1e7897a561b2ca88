package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const purposeMsg = "codePurpose must be one of the following values: Login, ResetPassword, ChangeEmail, Unregister"

func TestSendCodeInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		ok := e.email("ok")
		for i, tc := range []struct {
			name   string
			ssaid  string
			hdr    map[string]string
			body   any
			status int
			code   string
			msg    string
		}{
			{name: "missing ssaid", body: map[string]any{"email": ok, "codePurpose": "Login"}, status: 400, code: "SSAID_REQUIRED", msg: "Required parameter 'x-client-ssaid' in header is missing"},
			{name: "empty ssaid", hdr: map[string]string{"x-client-ssaid": ""}, body: map[string]any{"email": ok, "codePurpose": "Login"}, status: 400, code: "SSAID_REQUIRED"},
			{name: "129-char ssaid", ssaid: strings.Repeat("s", 129), body: map[string]any{"email": ok, "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT"},
			{name: "ssaid with a space", ssaid: "a b", body: map[string]any{"email": ok, "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT"},
			{name: "invalid email", ssaid: "s1", body: map[string]any{"email": "nope", "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "email without tld", ssaid: "s2", body: map[string]any{"email": "a@localhost", "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "email too long", ssaid: "s3", body: map[string]any{"email": strings.Repeat("a", 60) + "@" + strings.Repeat("b", 200) + ".com", "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "display name", ssaid: "s4", body: map[string]any{"email": "Bob <bob@example.com>", "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "bad purpose", ssaid: "s5", body: map[string]any{"email": ok, "codePurpose": "login"}, status: 400, code: "INVALID_INPUT", msg: purposeMsg},
			{name: "both", ssaid: "s6", body: map[string]any{"email": "x", "codePurpose": "Nope"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email; " + purposeMsg},
			{name: "empty body", ssaid: "s7", body: "", status: 400, code: "INVALID_INPUT", msg: "email must be an email; " + purposeMsg},
			{name: "email of the wrong type", ssaid: "s8", body: map[string]any{"email": true, "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be a string"},
			{name: "purpose of the wrong type", ssaid: "s9", body: map[string]any{"email": ok, "codePurpose": []string{"Login"}}, status: 400, code: "INVALID_INPUT", msg: "codePurpose must be a string"},
			{name: "case-variant key is not the field", ssaid: "s10", body: map[string]any{"EMAIL": ok, "codePurpose": "Login"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "ok, padded email, unknown fields accepted", ssaid: "s11", body: map[string]any{"email": "  " + ok + " ", "codePurpose": "Login", "extra": map[string]any{"a": 1}}, status: 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ssaid := ""
				if tc.ssaid != "" {
					ssaid = e.ssaid(tc.ssaid)
					if len(tc.ssaid) > 100 || strings.Contains(tc.ssaid, " ") {
						ssaid = tc.ssaid
					}
				}
				r := e.do(rq{method: "POST", path: "/send-code/send", ssaid: ssaid, header: tc.hdr, body: tc.body, ip: e.nextIP()})
				r.want(t, tc.status, tc.code)
				if tc.msg != "" && r.message != tc.msg {
					t.Fatalf("%d: message %q, want %q", i, r.message, tc.msg)
				}
				if tc.status == 200 {
					r.noData(t)
				}
			})
		}
		if got := e.lastCode(ok, "Login"); got == "" {
			t.Fatal("the padded address did not get a code under its trimmed form")
		}
	})
}

func TestSendCodeCooldown(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		send := func(ssaid, ip, email, purpose string) *res {
			return e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(ssaid), ip: ip,
				body: map[string]any{"email": email, "codePurpose": purpose}})
		}
		a, bb := e.email("a"), e.email("b")
		send("d1", "203.0.113.1", a, "Login").want(t, 200, "")

		// The email and the device each trigger the cooldown; the client
		// address does not (a budget, below): people behind one NAT address
		// do not block each other.
		w := send("d2", "203.0.113.2", a, "Login").wait(t, "SEND_COOLDOWN")             // same email
		send("d1", "203.0.113.3", e.email("c"), "Login").wait(t, "SEND_COOLDOWN")       // same ssaid
		send("d4", "203.0.113.4", strings.ToUpper(a), "Login").wait(t, "SEND_COOLDOWN") // case variant of the email
		send("d3", "203.0.113.1", bb, "Login").want(t, 200, "")                         // same IP, another device and address
		if w > time.Minute || w < 59*time.Second {
			t.Fatalf("wait %v, want about a minute", w)
		}
		// Other purposes have their own cooldown.
		send("d1", "203.0.113.1", a, "ResetPassword").want(t, 200, "")

		e.clock.Advance(30 * time.Second)
		w = send("d2", "203.0.113.2", a, "Login").wait(t, "SEND_COOLDOWN")
		if w > 30*time.Second || w < 29*time.Second {
			t.Fatalf("wait %v after 30 s, want about 30 s", w)
		}
		e.clock.Advance(30 * time.Second)
		send("d1", "203.0.113.1", a, "Login").want(t, 200, "")
	})
}

// Per client address, sends are a budget: 20 per purpose per 10 minutes
// (IPv6 by /64), shared by every device behind it; the 21st waits for the
// oldest to age out.
func TestSendCodeAddressBudget(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		for n, ips := range [][2]string{{"198.51.100.9", "198.51.100.9"}, {"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}} {
			for i := range 20 {
				ip := ips[i%2]
				e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(fmt.Sprint("nat", n, "-", i)), ip: ip,
					body: map[string]any{"email": e.email(fmt.Sprint("nat", n, "-", i)), "codePurpose": "Login"}}).want(t, 200, "")
				e.clock.Advance(10 * time.Second)
			}
			over := func(purpose string) *res {
				return e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(fmt.Sprint("over", n, purpose)), ip: ips[1],
					body: map[string]any{"email": e.email(fmt.Sprint("over", n, purpose)), "codePurpose": purpose}})
			}
			// 200 s after the first send, the first ages out at 600 s.
			if w := over("Login").wait(t, "SEND_COOLDOWN"); w != 400*time.Second {
				t.Fatalf("%s: wait %v, want 400s (the oldest send's age-out)", ips[0], w)
			}
			over("ResetPassword").want(t, 200, "") // each purpose has its own budget
			e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(fmt.Sprint("elsewhere", n)), ip: "192.0.2.77",
				body: map[string]any{"email": e.email(fmt.Sprint("elsewhere", n)), "codePurpose": "Login"}}).want(t, 200, "")
			e.clock.Advance(400 * time.Second)
			over("Login").want(t, 200, "")
			e.clock.Advance(time.Hour)
		}
	})
}

func TestSendCodeDeliveryFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		old := e.sendCode(a, "Login")
		e.clock.Advance(time.Minute)

		e.failSend.Store(true)
		e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid("d"), ip: e.nextIP(),
			body: map[string]any{"email": a, "codePurpose": "Login"}}).want(t, http.StatusBadGateway, "SEND_FAILED")
		e.failSend.Store(false)

		// The would-be next code was never stored: the hook's counter shows
		// which code the failed send would have produced.
		wouldBe := e.sendCodeHookPreview()
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: map[string]any{"email": a, "code": wouldBe}}).want(t, 403, "INVALID_CODE")
		// The earlier code was not replaced by the failed send either.
		e.login(e.ssaid("d"), map[string]any{"email": a, "code": old})
	})
}

// sendCodeHookPreview is the code the next successful send will deliver.
func (e *env) sendCodeHookPreview() string {
	n := e.sends.Load() + 1
	return codeFor(n)
}

func TestVerify(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		code := e.sendCode(a, "Login")
		verify := func(q map[string]string) *res {
			return e.do(rq{method: "GET", path: "/send-code/verify", query: q})
		}
		for _, tc := range []struct {
			name   string
			q      map[string]string
			raw    string
			status int
			code   string
			msg    string
		}{
			{name: "correct, no ssaid needed", q: map[string]string{"email": a, "codePurpose": "Login", "code": code}, status: 200},
			{name: "correct again: not consumed", q: map[string]string{"email": strings.ToUpper(a), "codePurpose": "Login", "code": code}, status: 200},
			{name: "wrong code", q: map[string]string{"email": a, "codePurpose": "Login", "code": "x" + code}, status: 403, code: "INVALID_CODE", msg: "Invalid email code"},
			{name: "other purpose", q: map[string]string{"email": a, "codePurpose": "ResetPassword", "code": code}, status: 403, code: "INVALID_CODE"},
			{name: "empty code", q: map[string]string{"email": a, "codePurpose": "Login", "code": ""}, status: 400, code: "INVALID_INPUT", msg: "code should not be empty"},
			{name: "nothing", q: map[string]string{}, status: 400, code: "INVALID_INPUT", msg: "email must be an email; " + purposeMsg + "; code should not be empty"},
			{name: "bad email", q: map[string]string{"email": "a@", "codePurpose": "Login", "code": "1"}, status: 400, code: "INVALID_INPUT", msg: "email must be an email"},
			{name: "repeated parameter", raw: "email=" + a + "&email=" + a + "&codePurpose=Login&code=1", status: 400, code: "INVALID_INPUT", msg: "email must be a string"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var r *res
				if tc.raw != "" {
					r = e.do(rq{method: "GET", path: "/send-code/verify", rawQuery: tc.raw})
				} else {
					r = verify(tc.q)
				}
				r.want(t, tc.status, tc.code)
				if tc.msg != "" && r.message != tc.msg {
					t.Fatalf("message %q, want %q", r.message, tc.msg)
				}
				if tc.status == 200 {
					r.noData(t)
				}
			})
		}
		// verify did not consume: the code still logs in.
		e.login(e.ssaid("d"), map[string]any{"email": a, "code": code})
	})
}

func TestVerifyAttemptLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		code := e.sendCode(a, "Login")
		q := func(c string) map[string]string {
			return map[string]string{"email": a, "codePurpose": "Login", "code": c}
		}
		for i := 0; i < 5; i++ {
			e.clock.Advance(time.Second)
			e.do(rq{method: "GET", path: "/send-code/verify", query: q("bad")}).want(t, 403, "INVALID_CODE")
		}
		// Blocked, even for the right code, until the oldest attempt ages out.
		w := e.do(rq{method: "GET", path: "/send-code/verify", query: q(code)}).wait(t, "TOO_MANY_CODE_ATTEMPTS")
		if w > 15*time.Minute || w < 14*time.Minute {
			t.Fatalf("wait %v", w)
		}
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("d"), body: map[string]any{"email": a, "code": code}}).wait(t, "TOO_MANY_CODE_ATTEMPTS")
		e.clock.Advance(w)
		code = e.sendCode(a, "Login") // the first one expired meanwhile (10 min TTL)
		e.do(rq{method: "GET", path: "/send-code/verify", query: q(code)}).want(t, 200, "")
		// The success cleared the failures: five more wrong tries are 403s.
		for i := 0; i < 5; i++ {
			e.do(rq{method: "GET", path: "/send-code/verify", query: q("bad")}).want(t, 403, "INVALID_CODE")
		}
	})
}

func TestUserExists(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		exists := func(email string) bool {
			r := e.do(rq{method: "GET", path: "/login/user-exists", query: map[string]string{"email": email}}).want(t, 200, "")
			v, ok := r.data["exists"].(bool)
			if !ok || len(r.data) != 1 {
				t.Fatalf("data %v", r.data)
			}
			return v
		}
		if exists(a) {
			t.Fatal("exists before registration")
		}
		e.register(e.ssaid("d"), a, "")
		if !exists(a) || !exists(strings.ToUpper(a)) {
			t.Fatal("registered address not found")
		}
		for _, bad := range []string{"", "nope", "a@b", strings.Repeat("x", 250) + "@example.com"} {
			r := e.do(rq{method: "GET", path: "/login/user-exists", query: map[string]string{"email": bad}}).want(t, 400, "INVALID_INPUT")
			if r.message != "email must be an email" {
				t.Fatalf("message %q", r.message)
			}
		}
	})
}
