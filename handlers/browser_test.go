package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// The default cookie names (Secure cookies).
const (
	sessionCookieName = "__Host-simpleuser_session"
	deviceCookieName  = "__Host-simpleuser_device"
)

func cookieModeOn(c *simpleuser.Config) { c.Browser.CookieMode = true }

// browser plays a browser on one origin against the env: it keeps the
// cookies the answers set (dropping expired ones) and sends them, with the
// Fetch Metadata and Origin headers of its site, on every request. It
// sends no identity header of its own.
type browser struct {
	e       *env
	cookies map[string]string
	site    string // Sec-Fetch-Site
	origin  string // Origin, sent on requests other than GET and HEAD
}

func newBrowser(e *env) *browser {
	return &browser{e: e, cookies: map[string]string{}, site: "same-origin", origin: "https://app.example"}
}

// from returns a browser sharing b's cookies whose requests come from
// another site (a page of origin on that site sends them).
func (b *browser) from(site, origin string) *browser {
	return &browser{e: b.e, cookies: b.cookies, site: site, origin: origin}
}

func (b *browser) do(r rq) *res {
	b.e.t.Helper()
	h := map[string]string{"Sec-Fetch-Site": b.site}
	if r.method != "GET" && r.method != "HEAD" {
		h["Origin"] = b.origin
	}
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		h["Cookie"] = strings.Join(parts, "; ")
	}
	for k, v := range r.header {
		h[k] = v
	}
	r.header = h
	out := b.e.do(r)
	for _, c := range (&http.Response{Header: out.header}).Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return out
}

// me is GET /user-center/me with the browser's cookies only.
func (b *browser) me() *res { return b.do(rq{method: "GET", path: "/user-center/me"}) }

// sessionSet returns the session cookie an answer sets (nil: none).
func sessionSet(r *res) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookieName {
			return c
		}
	}
	return nil
}

// wantSessionCookie asserts that r sets the session cookie to token, with
// the attributes of cookie mode and the session's lifetime.
func wantSessionCookie(t *testing.T, e *env, r *res, token string) {
	t.Helper()
	c := sessionSet(r)
	life := e.svc.Config().SessionLifetime
	if c == nil || c.Value != token || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" ||
		time.Duration(c.MaxAge)*time.Second > life || time.Duration(c.MaxAge)*time.Second < life-2*time.Second {
		t.Fatalf("session cookie %+v (want token %q, lifetime %v): %v", c, token, life, r.header["Set-Cookie"])
	}
	if exp, err := time.Parse(time.RFC3339, r.str("tokenExpiresAt")); err != nil || exp.Sub(c.Expires).Abs() > time.Second {
		t.Fatalf("cookie expires %v, token %s", c.Expires, r.str("tokenExpiresAt"))
	}
}

// wantPageSessionCookie asserts that r (a redirect, which carries no
// token) sets the session cookie with the attributes of cookie mode and
// the session's lifetime, and that the body does not hold its token.
func wantPageSessionCookie(t *testing.T, e *env, r *res) {
	t.Helper()
	c := sessionSet(r)
	life := e.svc.Config().SessionLifetime
	if c == nil || len(c.Value) != 64 || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		time.Duration(c.MaxAge)*time.Second > life || time.Duration(c.MaxAge)*time.Second < life-2*time.Second {
		t.Fatalf("session cookie %+v: %v", c, r.header["Set-Cookie"])
	}
	if strings.Contains(string(r.raw), c.Value) {
		t.Fatalf("the answer holds the token: %s", r.raw)
	}
}

// wantCleared asserts that r clears the session cookie.
func wantCleared(t *testing.T, r *res) {
	t.Helper()
	if c := sessionSet(r); c == nil || c.MaxAge >= 0 || c.Value != "" || !c.Secure || !c.HttpOnly || c.Path != "/" {
		t.Fatalf("session cookie not cleared: %v", r.header["Set-Cookie"])
	}
}

// TestCookieModeBrowser: a plain page, with cookies and no custom header:
// the first visit gets a device cookie and an anonymous user; sign-up by
// code and login by password set the session cookie (the anonymous user
// becomes the account); the cookie alone authenticates; logout clears it,
// and the dead cookie gets a 401 that clears it. Both backends.
func TestCookieModeBrowser(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(cookieModeOn))
		br := newBrowser(e)
		anon := br.me().want(t, 200, "")
		if br.cookies[deviceCookieName] == "" || anon.data["registered"] != false {
			t.Fatalf("first visit: cookies %v, me %s", br.cookies, anon.raw)
		}
		email := e.email("page")
		br.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		r := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "code": e.lastCode(email, "Login"), "setPassword": "password-1"}}).want(t, 200, "")
		wantSessionCookie(t, e, r, r.str("token"))
		if r.num("userId") != anon.num("id") {
			t.Fatalf("signed up as %d, want the device's anonymous user %d", r.num("userId"), anon.num("id"))
		}
		me := br.me().want(t, 200, "")
		if me.num("id") != anon.num("id") || me.data["registered"] != true {
			t.Fatalf("/me by cookie: %s", me.raw)
		}
		first := r.str("token")

		// Login by password replaces the cookie and ends the session it held.
		r = br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "password": "password-1"}}).want(t, 200, "")
		wantSessionCookie(t, e, r, r.str("token"))
		e.me(e.ssaid("x"), first).want(t, 401, "INVALID_TOKEN")
		br.me().want(t, 200, "")

		// Logout by the cookie clears it; the session is gone.
		second := r.str("token")
		wantCleared(t, br.do(rq{method: "POST", path: "/user-center/logout"}).want(t, 200, ""))
		e.me(e.ssaid("x"), second).want(t, 401, "INVALID_TOKEN")
		if _, ok := br.cookies[sessionCookieName]; ok {
			t.Fatal("the browser kept the session cookie")
		}
		// Back to the device's (new) anonymous user.
		if me := br.me().want(t, 200, ""); me.data["registered"] != false {
			t.Fatalf("after logout: %s", me.raw)
		}

		// A stale cookie (revoked elsewhere) gets 401 and is cleared, on the
		// API's own routes and on logout alike.
		r = br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "password": "password-1"}}).want(t, 200, "")
		stale := map[string]string{sessionCookieName: r.str("token"), deviceCookieName: br.cookies[deviceCookieName]}
		if err := e.svc.Logout(t.Context(), r.str("token")); err != nil {
			t.Fatal(err)
		}
		for _, rr := range []rq{
			{method: "GET", path: "/user-center/me"},
			{method: "GET", path: "/user-center/session"},
			{method: "POST", path: "/user-center/logout"},
			{method: "PATCH", path: "/user-center/settings", body: `{"a":1}`},
		} {
			br.cookies = map[string]string{}
			for k, v := range stale {
				br.cookies[k] = v
			}
			wantCleared(t, br.do(rr).want(t, 401, "INVALID_TOKEN"))
		}
	})
}

// TestCookieModeHeaderClients: in cookie mode an API client sending
// headers keeps SPEC §1 (no ssaid → 400, no device cookie minted); its
// login sets the cookie too; logging out a header token leaves a cookie
// holding another session alone.
func TestCookieModeHeaderClients(t *testing.T) {
	e := newEnv(t, withConfig(cookieModeOn))
	e.do(rq{method: "GET", path: "/user-center/me"}).want(t, 400, "SSAID_REQUIRED")
	dev := e.ssaid("api")
	r := e.do(rq{method: "POST", path: "/send-code/send", ssaid: dev, body: map[string]any{"email": e.email("api"), "codePurpose": "Login"}}).want(t, 200, "")
	if len(r.header["Set-Cookie"]) != 0 {
		t.Fatalf("a header client got cookies: %v", r.header["Set-Cookie"])
	}
	r = e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": e.email("api"), "code": e.lastCode(e.email("api"), "Login")}}).want(t, 200, "")
	wantSessionCookie(t, e, r, r.str("token"))
	tok1 := r.str("token")
	e.clock.Advance(time.Minute) // the send cooldown of the address
	tok2, _ := e.login(dev, map[string]any{"email": e.email("api"), "code": e.sendCode(e.email("api"), "Login")})

	// Bearer works like x-client-token.
	e.do(rq{method: "GET", path: "/user-center/me", ssaid: dev, header: map[string]string{"Authorization": "Bearer " + tok1}}).want(t, 200, "")
	// Logging out tok1 by header while the cookie holds tok2: the cookie stays.
	r = e.do(rq{method: "POST", path: "/user-center/logout", ssaid: dev, token: tok1, header: map[string]string{"Cookie": sessionCookieName + "=" + tok2}}).want(t, 200, "")
	if len(r.header["Set-Cookie"]) != 0 {
		t.Fatalf("logout of another session touched the cookie: %v", r.header["Set-Cookie"])
	}
	// Logging out by bearer the session the cookie holds: cleared.
	r = e.do(rq{method: "POST", path: "/user-center/logout", ssaid: dev, header: map[string]string{"Authorization": "Bearer " + tok2, "Cookie": sessionCookieName + "=" + tok2}}).want(t, 200, "")
	wantCleared(t, r)
}

// TestCookieModeOff: without cookie mode no answer sets a cookie and the
// session cookie is not a credential.
func TestCookieModeOff(t *testing.T) {
	e := newEnv(t)
	dev := e.ssaid("d")
	email := e.email("off")
	code := e.sendCode(email, "Login")
	r := e.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "code": code}, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}).want(t, 200, "")
	if len(r.header["Set-Cookie"]) != 0 {
		t.Fatalf("Set-Cookie %v", r.header["Set-Cookie"])
	}
	me := e.do(rq{method: "GET", path: "/user-center/me", ssaid: dev, header: map[string]string{"Cookie": sessionCookieName + "=" + r.str("token")}}).want(t, 200, "")
	if me.data["registered"] != false {
		t.Fatalf("the cookie authenticated with cookie mode off: %s", me.raw)
	}
}

// TestCookieModeUnregister: unregistering by the cookie ends every session
// and clears the cookie.
func TestCookieModeUnregister(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(cookieModeOn))
		br := newBrowser(e)
		email := e.email("bye")
		br.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		tok := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "code": e.lastCode(email, "Login")}}).want(t, 200, "").str("token")
		wantCleared(t, br.do(rq{method: "POST", path: "/user-center/unregister"}).want(t, 200, ""))
		e.me(e.ssaid("x"), tok).want(t, 401, "INVALID_TOKEN")
	})
}

// TestCookieModeOAuthCallback: a sign-in with a provider in redirect mode,
// run by a browser with a device cookie, ends with 303 to the configured
// page (default /) and the session cookie set by the callback, the token
// nowhere in the answer; the device cookie names the device (the
// anonymous user upgraded), over a page's ssaid parameter at start.
func TestCookieModeOAuthCallback(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b, cookieModeOn)
		br := newBrowser(o.env)
		anon := br.me().want(t, 200, "").num("id") // the device cookie's anonymous user
		pageSSAID := o.ssaid("page")
		pageAnon := o.me(pageSSAID, "").want(t, 200, "").num("id")
		o.fakes[oauthtest.Google].SetUser(oauthtest.User{Subject: "sub-cookie", Email: o.email("g"), EmailVerified: true})
		r := br.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
			"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": pageSSAID}}).want(t, http.StatusFound, "")
		code, state, err := o.fakes[oauthtest.Google].Authorize(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		cb := br.from("cross-site", "https://accounts.google.example").do(rq{method: "GET", path: "/oauth/google/callback",
			query: map[string]string{"code": code, "state": state}}).want(t, http.StatusSeeOther, "")
		cb.noData(t)
		if loc := cb.header.Get("Location"); loc != "/" {
			t.Fatalf("Location %q, want the default page /", loc)
		}
		wantPageSessionCookie(t, o.env, cb)
		if me := br.me().want(t, 200, ""); me.num("id") != anon || me.data["registered"] != true {
			t.Fatalf("/me by cookie after the callback: %s (device's anonymous user %d)", me.raw, anon)
		}
		if me := o.me(pageSSAID, "").want(t, 200, ""); me.num("id") != pageAnon || me.data["registered"] != false {
			t.Fatalf("the page's ssaid was signed in: %s", me.raw)
		}
	})
}

// TestCookieModeOAuthLoginCSRF: in cookie mode a page on another site
// cannot sign the victim's browser in to the attacker's provider account.
// The attacker starts a flow for a device id of its choosing and consents
// with its own account; then makes the victim's browser start a flow with
// that device id in the link (or plants the flow cookie naming it, as a
// sibling subdomain can) and open the callback with the attacker's code
// and state. The victim's device cookie names the device, so the state
// does not match: OAUTH_STATE, no session set.
func TestCookieModeOAuthLoginCSRF(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b, cookieModeOn)
		google := o.fakes[oauthtest.Google]
		attackerDev := o.ssaid("attacker")
		for _, plant := range []bool{false, true} {
			google.SetUser(oauthtest.User{Subject: "sub-attacker"})
			code, state, err := google.Authorize(o.start(t, attackerDev, oauthtest.Google))
			if err != nil {
				t.Fatal(err)
			}
			victim := newBrowser(o.env)
			victim.me().want(t, 200, "")
			evil := victim.from("cross-site", "https://evil.example")
			evil.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
				"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": attackerDev}}).want(t, http.StatusFound, "")
			if plant {
				victim.cookies[oauthSSAIDCookie] = flowCookieValue(attackerDev, "")
			}
			cb := evil.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state}}).want(t, http.StatusSeeOther, "")
			if loc := cb.header.Get("Location"); loc != "/?error=OAUTH_STATE" || sessionSet(cb) != nil {
				t.Fatalf("planted %v: Location %q, cookies %v", plant, loc, cb.header["Set-Cookie"])
			}
			if me := victim.me().want(t, 200, ""); me.data["registered"] != false {
				t.Fatalf("planted %v: the victim is signed in: %s", plant, me.raw)
			}
		}
	})
}

// TestCSRFRefusesCrossOrigin: in cookie mode, a state-changing request
// authenticated by the cookie is refused from another site (403 CSRF) and
// changes nothing; the same request from the app's own origin succeeds;
// one carrying its token in a header succeeds from anywhere. Login CSRF:
// a cross-site POST /login with the victim's device cookie is refused and
// signs nobody in. Both backends.
func TestCSRFRefusesCrossOrigin(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(cookieModeOn))
		victim := newBrowser(e)
		email := e.email("victim")
		victim.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		tok := victim.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "code": e.lastCode(email, "Login"), "setPassword": "password-1"}}).want(t, 200, "").str("token")
		evil := victim.from("cross-site", "https://evil.example")
		sibling := victim.from("same-site", "https://evil.app.example")
		settings := func() string {
			b, _ := json.Marshal(victim.me().want(t, 200, "").data["settings"])
			return string(b)
		}

		// Cross-site: refused, nothing changed.
		sends := e.sends.Load()
		for _, br := range []*browser{evil, sibling} {
			br.do(rq{method: "PATCH", path: "/user-center/settings", body: `{"theme":"evil"}`}).want(t, 403, "CSRF")
			br.do(rq{method: "POST", path: "/user-center/change-password", body: map[string]any{"currentPassword": "password-1", "newPassword": "password-2"}}).want(t, 403, "CSRF")
			br.do(rq{method: "POST", path: "/user-center/logout"}).want(t, 403, "CSRF")
			br.do(rq{method: "POST", path: "/user-center/unregister"}).want(t, 403, "CSRF")
			br.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "ChangeEmail"}}).want(t, 403, "CSRF")
		}
		if got := settings(); got != "{}" {
			t.Fatalf("settings changed by a forged request: %s", got)
		}
		if e.sends.Load() != sends {
			t.Fatal("a forged request sent a code")
		}
		e.me(e.ssaid("x"), tok).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("x"), body: map[string]any{"email": email, "password": "password-1"}}).want(t, 200, "")

		// Same origin: allowed.
		victim.do(rq{method: "PATCH", path: "/user-center/settings", body: `{"theme":"dark"}`}).want(t, 200, "")
		if got := settings(); got != `{"theme":"dark"}` {
			t.Fatalf("settings after a same-origin patch: %s", got)
		}
		// A header token: allowed from anywhere, cookie or not.
		evil.do(rq{method: "PATCH", path: "/user-center/settings", token: tok, body: `{"theme":"light"}`}).want(t, 200, "")
		e.do(rq{method: "PATCH", path: "/user-center/settings", token: tok, ssaid: e.ssaid("h"), body: `{"theme":"light"}`,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://other.example"}}).want(t, 200, "")
		e.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: e.ssaid("h"), body: `{"theme":"light"}`,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://other.example", "Authorization": "Bearer " + tok}}).want(t, 200, "")

		// Login CSRF: the attacker's page posts the attacker's credentials
		// with the victim's device cookie (and no session cookie).
		attacker := e.email("attacker")
		e.register(e.ssaid("attacker"), attacker, "attacker-pw")
		fresh := newBrowser(e)
		fresh.me().want(t, 200, "")
		for _, br := range []*browser{fresh.from("cross-site", "https://evil.example"), fresh.from("same-site", "https://evil.app.example")} {
			r := br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": attacker, "password": "attacker-pw"}}).want(t, 403, "CSRF")
			if sessionSet(r) != nil {
				t.Fatalf("a forged login set a session: %v", r.header["Set-Cookie"])
			}
		}
		if _, ok := fresh.cookies[sessionCookieName]; ok {
			t.Fatal("the victim's browser holds a session")
		}
		if me := fresh.me().want(t, 200, ""); me.data["registered"] != false {
			t.Fatalf("the victim's device is signed in: %s", me.raw)
		}
		// A brand-new browser (no device cookie yet) is refused as well.
		r := newBrowser(e).from("cross-site", "https://evil.example").do(rq{method: "POST", path: "/login", body: map[string]any{"email": attacker, "password": "attacker-pw"}}).want(t, 403, "CSRF")
		if sessionSet(r) != nil {
			t.Fatal("a forged first-visit login set a session")
		}
		// The same login from the app's own page works.
		fresh.do(rq{method: "POST", path: "/login", body: map[string]any{"email": attacker, "password": "attacker-pw"}}).want(t, 200, "")
	})
}

// options serves OPTIONS path with headers (no envelope: 204).
func options(e *env, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("OPTIONS", e.prefix+path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func accessControl(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// TestOptionsAndPreflight: OPTIONS on a route answers 204 with Allow (it
// was a 405); without trusted origins a preflight gets the same answer and
// no CORS header; an unknown path stays 404.
func TestOptionsAndPreflight(t *testing.T) {
	e := newEnv(t)
	for path, allow := range map[string]string{
		"/login":                         "OPTIONS, POST",
		"/user-center/me":                "GET, HEAD, OPTIONS",
		"/user-center/settings":          "OPTIONS, PATCH",
		"/user-center/identities/g/sub1": "DELETE, OPTIONS",
		"/openapi.json":                  "GET, HEAD, OPTIONS",
	} {
		for _, hdr := range []map[string]string{nil, {"Origin": "https://spa.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}} {
			w := options(e, path, hdr)
			if w.Code != 204 || w.Header().Get("Allow") != allow || w.Body.Len() != 0 || len(accessControl(w.Header())) != 0 {
				t.Fatalf("OPTIONS %s (%v): %d Allow %q %v %q", path, hdr, w.Code, w.Header().Get("Allow"), w.Header(), w.Body)
			}
		}
	}
	r := httptest.NewRequest("OPTIONS", "/api/nope", nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), "OPTIONS /api/nope").want(t, 404, "NOT_FOUND")
}

// TestCORSTrustedOrigins: with trusted origins the API answers their
// preflights (204, methods, the identity headers, credentials) and their
// requests (credentials, Retry-After exposed), and nothing to other
// origins; a trusted origin's cookie-authenticated POST passes the CSRF
// check. Both backends.
func TestCORSTrustedOrigins(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		spa := "https://spa.example"
		e := newEnv(t, withBackend(b), withConfig(func(c *simpleuser.Config) {
			c.Browser.CookieMode = true
			c.Browser.TrustedOrigins = []string{spa}
		}))
		pre := map[string]string{"Origin": spa, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,x-client-ssaid,x-client-token"}
		w := options(e, "/login", pre)
		h := w.Header()
		if w.Code != 204 || h.Get("Access-Control-Allow-Origin") != spa || h.Get("Access-Control-Allow-Credentials") != "true" ||
			h.Get("Access-Control-Allow-Methods") != "POST" || h.Get("Access-Control-Allow-Headers") != pre["Access-Control-Request-Headers"] || h.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("preflight of a trusted origin: %d %v", w.Code, h)
		}
		pre["Origin"] = "https://evil.example"
		if w := options(e, "/login", pre); w.Code != 204 || len(accessControl(w.Header())) != 0 {
			t.Fatalf("preflight of another origin: %d %v", w.Code, w.Header())
		}

		// The SPA's requests: credentials allowed, Retry-After readable.
		dev := e.ssaid("spa")
		email := e.email("spa")
		send := func(origin string) *res {
			return e.do(rq{method: "POST", path: "/send-code/send", ssaid: dev, body: map[string]any{"email": email, "codePurpose": "Login"},
				header: map[string]string{"Origin": origin, "Sec-Fetch-Site": "cross-site"}})
		}
		r := send(spa).want(t, 200, "")
		if r.header.Get("Access-Control-Allow-Origin") != spa || r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("Access-Control-Expose-Headers") != "Retry-After" {
			t.Fatalf("request of a trusted origin: %v", r.header)
		}
		r = send(spa)
		r.wait(t, "SEND_COOLDOWN")
		if r.header.Get("Access-Control-Expose-Headers") != "Retry-After" || r.header.Get("Access-Control-Allow-Origin") != spa {
			t.Fatalf("429 to a trusted origin: %v", r.header)
		}
		if r := send("https://evil.example").want(t, 429, "SEND_COOLDOWN"); len(accessControl(r.header)) != 0 {
			t.Fatalf("request of another origin: %v", r.header)
		}

		// The SPA, signed in by cookie, posts with credentials: CSRF trusts it.
		br := newBrowser(e).from("cross-site", spa)
		code := e.lastCode(email, "Login")
		br.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": email, "code": code}}).want(t, 200, "")
		br.do(rq{method: "PATCH", path: "/user-center/settings", body: `{"theme":"spa"}`}).want(t, 200, "")
		br.from("cross-site", "https://evil.example").do(rq{method: "PATCH", path: "/user-center/settings", body: `{"theme":"evil"}`}).want(t, 403, "CSRF")
	})
}

// TestOpenAPICSRF: in cookie mode the document gives every state-changing
// route its 403 CSRF (merged into a 403 the route already documents), and
// safe routes none; without cookie mode nothing is added.
func TestOpenAPICSRF(t *testing.T) {
	docOf := func(e *env) map[string]any {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, httptest.NewRequest("GET", e.prefix+"/openapi.json", nil))
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Code != 200 {
			t.Fatalf("openapi.json: %d %v", w.Code, err)
		}
		return doc
	}
	forbidden := func(doc map[string]any, path, method string) string {
		r, _ := dig(t, doc, "paths", path, method, "responses").(map[string]any) // paths are relative to servers[0]
		d, _ := r["403"].(map[string]any)
		s, _ := d["description"].(string)
		return s
	}
	on := docOf(newEnv(t, withConfig(cookieModeOn)))
	off := docOf(newEnv(t))
	for _, tc := range []struct{ path, method, own string }{
		{"/login", "post", "Wrong code"},
		{"/user-center/logout", "post", ""},
		{"/user-center/settings", "patch", "ACCOUNT_DISABLED"},
		{"/user-center/identities/{provider}/{subject}", "delete", "ACCOUNT_DISABLED"},
	} {
		got := forbidden(on, tc.path, tc.method)
		if !strings.Contains(got, "(CSRF)") || !strings.Contains(got, tc.own) {
			t.Errorf("cookie mode, %s %s: 403 %q", tc.method, tc.path, got)
		}
		if got := forbidden(off, tc.path, tc.method); strings.Contains(got, "CSRF") || (tc.own == "") != (got == "") {
			t.Errorf("cookie mode off, %s %s: 403 %q", tc.method, tc.path, got)
		}
	}
	if got := forbidden(on, "/user-center/me", "get"); strings.Contains(got, "CSRF") {
		t.Errorf("GET /me documents CSRF: %q", got)
	}
}

// In cookie mode, ending the caller's own session through the session
// routes (DELETE /user-center/sessions/{id} of the current session,
// logout-all with includeCurrent) clears the session cookie; ending
// another session leaves it.
func TestCookieModeEndOwnSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(cookieModeOn))
		br := newBrowser(e)
		br.me().want(t, 200, "")
		email := e.email("own")
		br.do(rq{method: "POST", path: "/send-code/send", body: map[string]any{"email": email, "codePurpose": "Login"}}).want(t, 200, "")
		br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "code": e.lastCode(email, "Login"), "setPassword": "password-1"}}).want(t, 200, "")
		other, _ := e.login(e.ssaid("other"), map[string]any{"email": email, "password": "password-1"})

		ids := func() (mine, theirs string) {
			list := br.do(rq{method: "GET", path: "/user-center/sessions"}).want(t, 200, "")
			var items []map[string]any
			if err := json.Unmarshal(list.env["data"], &items); err != nil || len(items) != 2 {
				t.Fatalf("sessions: %s (%v)", list.raw, err)
			}
			for _, it := range items {
				if it["current"] == true {
					mine = it["id"].(string)
				} else {
					theirs = it["id"].(string)
				}
			}
			return mine, theirs
		}
		mine, theirs := ids()
		r := br.do(rq{method: "DELETE", path: "/user-center/sessions/" + theirs}).want(t, 200, "")
		if len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("ending another session set cookies: %v", r.header.Values("Set-Cookie"))
		}
		e.me(e.ssaid("other"), other).want(t, 401, "INVALID_TOKEN")
		wantCleared(t, br.do(rq{method: "DELETE", path: "/user-center/sessions/" + mine}).want(t, 200, ""))
		if me := br.me().want(t, 200, ""); me.data["registered"] != false {
			t.Fatalf("after ending its own session: %s", me.raw)
		}

		br.do(rq{method: "POST", path: "/login", body: map[string]any{"email": email, "password": "password-1"}}).want(t, 200, "")
		wantCleared(t, br.do(rq{method: "POST", path: "/user-center/logout-all", body: map[string]any{"includeCurrent": true}}).want(t, 200, ""))
		if me := br.me().want(t, 200, ""); me.data["registered"] != false {
			t.Fatalf("after logout-all with includeCurrent: %s", me.raw)
		}
	})
}
