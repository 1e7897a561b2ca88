package handlers

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	uaFirefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaChromeWin    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

// loginFrom logs email in with a fresh Login code from a device with its
// own user agent and address; it returns the token.
func (e *env) loginFrom(ssaid, email, ua, ip string) string {
	e.t.Helper()
	code := e.advanceAndSend(email, "Login")
	r := e.do(rq{method: "POST", path: "/login", ssaid: ssaid, ip: ip, header: map[string]string{"User-Agent": ua},
		body: map[string]any{"email": email, "code": code}}).want(e.t, 200, "")
	return r.str("token")
}

func TestSessionRoutes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a, other := e.email("a"), e.email("other")
		laptop := e.loginFrom(e.ssaid("laptop"), a, uaFirefoxLinux, "203.0.113.7")
		desktop := e.loginFrom(e.ssaid("desktop"), a, uaChromeWin, "[2001:db8::7]")
		script := e.loginFrom(e.ssaid("script"), a, "curl/8.5.0", "198.51.100.7")
		theirs := e.loginFrom(e.ssaid("theirs"), other, uaFirefoxLinux, "198.51.100.8")
		list := func(token string) []map[string]any {
			t.Helper()
			r := e.do(rq{method: "GET", path: "/user-center/sessions", token: token}).want(t, 200, "")
			for _, tok := range []string{laptop, desktop, script, theirs} {
				if strings.Contains(string(r.raw), tok) {
					t.Fatalf("a token in the session list: %s", r.raw)
				}
			}
			return r.list
		}

		// Who may ask: a token is required and must be live.
		for _, r := range []rq{
			{method: "GET", path: "/user-center/sessions"},
			{method: "DELETE", path: "/user-center/sessions/" + strings.Repeat("A", 22)},
			{method: "POST", path: "/user-center/logout-all"},
		} {
			e.do(r).want(t, 401, "AUTH_REQUIRED")
			r.token = strings.Repeat("A", 64)
			e.do(r).want(t, 401, "INVALID_TOKEN")
		}

		e.clock.Advance(2 * time.Minute)
		e.me(e.ssaid("desktop"), desktop).want(t, 200, "") // used now: listed first
		got := list(laptop)
		if len(got) != 3 {
			t.Fatalf("%d sessions listed, want 3: %v", len(got), got)
		}
		keys := slices.Sorted(maps.Keys(got[0]))
		if want := []string{"createdAt", "current", "device", "expiresAt", "id", "ip", "lastSeenAt", "userAgent"}; !slices.Equal(keys, want) {
			t.Fatalf("session fields %v, want %v", keys, want)
		}
		byDevice := map[string]map[string]any{}
		for _, s := range got {
			byDevice[s["device"].(string)] = s
			for _, k := range []string{"createdAt", "lastSeenAt", "expiresAt"} {
				if !tsFormat.MatchString(s[k].(string)) {
					t.Errorf("%s %q is not an RFC 3339 UTC time with milliseconds", k, s[k])
				}
			}
			if id, _ := s["id"].(string); len(id) != 22 {
				t.Errorf("id %q: want 22 characters", id)
			}
		}
		if got[0]["device"] != "Chrome on Windows" || got[0]["ip"] != "2001:db8::7" || got[0]["userAgent"] != uaChromeWin ||
			got[0]["current"] != false || got[0]["lastSeenAt"] == got[0]["createdAt"] {
			t.Errorf("most recently used = %v, want the desktop's, seen after its login", got[0])
		}
		if l := byDevice["Firefox on Linux"]; l["current"] != true || l["ip"] != "203.0.113.7" {
			t.Errorf("the caller's session = %v", l)
		}
		if c := byDevice["curl"]; c["current"] != false || c["lastSeenAt"] != c["createdAt"] {
			t.Errorf("the unused session = %v", c)
		}

		// DELETE: another user's id or a malformed one is 404; the caller's other session ends.
		theirID := list(theirs)[0]["id"].(string)
		for _, id := range []string{theirID, "nope", strings.Repeat("A", 22)} {
			e.do(rq{method: "DELETE", path: "/user-center/sessions/" + id, token: laptop}).want(t, 404, "SESSION_NOT_FOUND")
		}
		e.do(rq{method: "DELETE", path: "/user-center/sessions/%ff", token: laptop}).want(t, 400, "INVALID_INPUT")
		e.me(e.ssaid("theirs"), theirs).want(t, 200, "")
		scriptID := byDevice["curl"]["id"].(string)
		e.do(rq{method: "DELETE", path: "/user-center/sessions/" + scriptID, token: laptop}).want(t, 200, "").noData(t)
		e.me(e.ssaid("script"), script).want(t, 401, "INVALID_TOKEN")
		e.do(rq{method: "DELETE", path: "/user-center/sessions/" + scriptID, token: laptop}).want(t, 404, "SESSION_NOT_FOUND")
		if n := len(list(laptop)); n != 2 {
			t.Errorf("%d sessions after ending one, want 2", n)
		}

		// logout-all: a wrong body is 400 and ends nothing.
		e.do(rq{method: "POST", path: "/user-center/logout-all", token: laptop, body: map[string]any{"includeCurrent": "yes"}}).want(t, 400, "INVALID_INPUT")
		e.do(rq{method: "POST", path: "/user-center/logout-all", token: laptop, body: "[]"}).want(t, 400, "INVALID_INPUT")
		e.me(e.ssaid("desktop"), desktop).want(t, 200, "")
		// Without a body: every other session ends, the caller's stays.
		r := e.do(rq{method: "POST", path: "/user-center/logout-all", token: laptop}).want(t, 200, "")
		if r.num("ended") != 1 {
			t.Errorf("logout-all: %s, want ended 1", r.raw)
		}
		e.me(e.ssaid("desktop"), desktop).want(t, 401, "INVALID_TOKEN")
		e.me(e.ssaid("laptop"), laptop).want(t, 200, "")
		e.me(e.ssaid("theirs"), theirs).want(t, 200, "")
		r = e.do(rq{method: "POST", path: "/user-center/logout-all", token: laptop, body: map[string]any{"includeCurrent": false}}).want(t, 200, "")
		if r.num("ended") != 0 {
			t.Errorf("second logout-all: %s, want ended 0", r.raw)
		}
		// includeCurrent: the caller's too.
		second := e.loginFrom(e.ssaid("desktop"), a, uaChromeWin, "[2001:db8::7]")
		r = e.do(rq{method: "POST", path: "/user-center/logout-all", token: laptop, body: map[string]any{"includeCurrent": true}}).want(t, 200, "")
		if r.num("ended") != 2 {
			t.Errorf("logout-all with includeCurrent: %s, want ended 2", r.raw)
		}
		for _, tok := range []string{laptop, second} {
			e.me(e.ssaid("laptop"), tok).want(t, 401, "INVALID_TOKEN")
		}
		e.me(e.ssaid("theirs"), theirs).want(t, 200, "")

		// A caller may end its own session by id: that is a logout.
		own := e.loginFrom(e.ssaid("laptop"), a, uaFirefoxLinux, "203.0.113.7")
		ownID := list(own)[0]["id"].(string)
		e.do(rq{method: "DELETE", path: "/user-center/sessions/" + ownID, token: own}).want(t, 200, "")
		e.me(e.ssaid("laptop"), own).want(t, 401, "INVALID_TOKEN")
	})
}

// A disabled account cannot list or end sessions (its sessions are gone).
func TestSessionRoutesDisabled(t *testing.T) {
	e := newEnv(t)
	a := e.email("a")
	tok, id := e.register(e.ssaid("d"), a, "")
	e.setDisabled(id, true) // the store alone: the session outlives it
	e.do(rq{method: "GET", path: "/user-center/sessions", token: tok}).want(t, 403, "ACCOUNT_DISABLED")
	e.do(rq{method: "POST", path: "/user-center/logout-all", token: tok}).want(t, 403, "ACCOUNT_DISABLED")
}
