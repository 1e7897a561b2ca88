package handlers

import (
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
)

// phoneChanges returns the PhoneChanged events of ev as "old>new" for user id.
func (ev *events) phoneChanges(id int64) []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []string
	for _, e := range ev.list {
		if e.Type == hooks.PhoneChanged && e.UserID == id && e.User != nil {
			out = append(out, e.Phone+">"+e.User.Phone)
		}
	}
	return out
}

// PhoneChanged is emitted when a number is added, changed or removed, with
// the old number (Event.Phone) and the new one (Event.User.Phone); not for
// a refused change, nor for removing a number the account does not have.
func TestPhoneChangedEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		ev := &events{}
		e, box := newPhoneEnv(t, b, withEvents(ev))
		dev := e.ssaid("a")
		tok, id := e.register(dev, e.email("a"), "")
		change := func(number string) {
			t.Helper()
			e.clock.Advance(2 * time.Minute)
			e.sendSMS(number, "ChangePhone")
			e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev, token: tok,
				body: map[string]any{"phone": number, "code": box.last(number, "ChangePhone")}}).want(t, 200, "")
		}
		change("+33612345678")
		e.do(rq{method: "POST", path: "/user-center/change-phone", ssaid: dev, token: tok,
			body: map[string]any{"phone": "+33612345679", "code": "000000"}}).want(t, 403, "INVALID_CODE")
		change("+33612345679")
		change("+33612345679") // the same number again: verified anew, not a change
		e.do(rq{method: "POST", path: "/user-center/remove-phone", ssaid: dev, token: tok}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/remove-phone", ssaid: dev, token: tok}).want(t, 200, "")
		want := "[>+33612345678 +33612345678>+33612345679 +33612345679>]"
		if got := fmt.Sprint(ev.phoneChanges(id)); got != want {
			t.Fatalf("PhoneChanged events: %s, want %s", got, want)
		}
	})
}

// GET /send-code/phone/verify is GET /send-code/verify for a number: a
// right code answers 200 and stays usable, a wrong one 403 INVALID_CODE,
// too many wrong ones 429 (the same attempt window as the login's), bad
// input 400.
func TestVerifyPhoneCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e, box := newPhoneEnv(t, b)
		verify := func(phone, purpose, code string) *res {
			return e.do(rq{method: "GET", path: fmt.Sprintf("/send-code/phone/verify?phone=%s&codePurpose=%s&code=%s", phone, purpose, code)})
		}
		e.sendSMS("+14155550140", "Login")
		code := box.last("+14155550140", "Login")
		verify("%2B1%20415-555-0140", "Login", code).want(t, 200, "").noData(t) // any form the send accepts
		verify("%2B14155550140", "ChangePhone", code).want(t, 403, "INVALID_CODE")
		verify("%2B14155550140", "Login", "000000").want(t, 403, "INVALID_CODE")
		for _, q := range [][3]string{{"12", "Login", code}, {"%2B14155550140", "ChangeEmail", code}, {"%2B14155550140", "Login", ""}, {"", "Login", code}} {
			verify(q[0], q[1], q[2]).want(t, 400, "INVALID_INPUT")
		}
		// Not consumed: the login spends it.
		dev := e.ssaid("v")
		r := e.do(rq{method: "POST", path: "/login/phone", ssaid: dev, body: map[string]any{"phone": "+14155550140", "code": code}}).want(t, 200, "")
		if r.str("token") == "" {
			t.Fatalf("login after verify: %s", r.raw)
		}
		verify("%2B14155550140", "Login", code).want(t, 403, "INVALID_CODE") // spent by the login
		// Too many wrong codes: 429, as for an address.
		e.sendSMS("+14155550141", "Login")
		var last *res
		for range 20 {
			if last = verify("%2B14155550141", "Login", "000000"); last.code == 429 {
				break
			}
		}
		last.want(t, 429, "")
	})
}
