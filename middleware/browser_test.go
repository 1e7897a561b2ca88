package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/realbackends"
)

// cookieMode turns cookie mode on (Secure cookies, default names).
func cookieMode(c *simpleuser.Config) { c.Browser.CookieMode = true }

// onBackends runs f on the in-memory stores and on PostgreSQL + Redis.
func onBackends(t *testing.T, f func(t *testing.T, real func(*simpleuser.Config))) {
	t.Run("memory", func(t *testing.T) { f(t, func(*simpleuser.Config) {}) })
	t.Run("postgres+redis", func(t *testing.T) {
		f(t, func(c *simpleuser.Config) { realbackends.Configure(t, c) })
	})
}

// setCookies returns the cookies w sets, by name.
func setCookies(w *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		out[c.Name] = c
	}
	return out
}

// clientOf serves one request through Identity(svc) and returns the client
// the handler saw and the recorder.
func clientOf(t *testing.T, svc *simpleuser.Service, method string, hdr map[string]string) (simpleuser.Client, *httptest.ResponseRecorder) {
	t.Helper()
	var got simpleuser.Client
	h := Identity(svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = simpleuser.ClientFrom(r.Context())
	}))
	r := httptest.NewRequest(method, "/", nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return got, w
}

const (
	sessionCookie = "__Host-simpleuser_session"
	deviceCookie  = "__Host-simpleuser_device"
)

// TestTokenOrder: x-client-token, then Authorization: Bearer, then (in
// cookie mode only) the session cookie; CookieToken says which.
func TestTokenOrder(t *testing.T) {
	on := newService(t, cookieMode).svc
	off := newService(t).svc
	ck := sessionCookie + "=C"
	for _, tc := range []struct {
		name       string
		svc        *simpleuser.Service
		hdr        map[string]string
		token      string
		fromCookie bool
	}{
		{"header wins over bearer and cookie", on, map[string]string{"x-client-token": "H", "Authorization": "Bearer B", "Cookie": ck}, "H", false},
		{"bearer wins over cookie", on, map[string]string{"Authorization": "Bearer B", "Cookie": ck}, "B", false},
		{"cookie last", on, map[string]string{"Cookie": ck}, "C", true},
		{"empty header falls through", on, map[string]string{"x-client-token": "", "Cookie": ck}, "C", true},
		{"scheme in any case, several spaces", on, map[string]string{"Authorization": "bEaReR   B2  "}, "B2", false},
		{"another scheme is not a token", on, map[string]string{"Authorization": "Basic dTpw", "Cookie": ck}, "C", true},
		{"bearer without token", on, map[string]string{"Authorization": "Bearer ", "Cookie": ck}, "C", true},
		{"no space after the scheme", on, map[string]string{"Authorization": "BearerB"}, "", false},
		{"cookie mode off: cookie ignored", off, map[string]string{"Cookie": ck}, "", false},
		{"cookie mode off: bearer read", off, map[string]string{"Authorization": "Bearer B"}, "B", false},
		{"another cookie name", on, map[string]string{"Cookie": "simpleuser_session=C"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := clientOf(t, tc.svc, "GET", tc.hdr)
			if c.Token != tc.token || c.CookieToken != tc.fromCookie {
				t.Fatalf("token %q (cookie %v), want %q (cookie %v)", c.Token, c.CookieToken, tc.token, tc.fromCookie)
			}
		})
	}
}

// TestDeviceCookie: in cookie mode a browser request without
// x-client-ssaid gets a device id minted once into the device cookie; the
// header keeps SPEC §1's rules and wins; non-browsers get no cookie.
func TestDeviceCookie(t *testing.T) {
	svc := newService(t, cookieMode).svc
	browser := map[string]string{"Sec-Fetch-Site": "same-origin"}

	c, w := clientOf(t, svc, "GET", browser)
	dc := setCookies(w)[deviceCookie]
	if dc == nil || c.SSAID == "" || dc.Value != c.SSAID || !c.CookieSSAID || !simpleuser.ValidSSAID(c.SSAID) || len(c.SSAID) != 26 {
		t.Fatalf("client %+v, cookies %v", c, w.Header()["Set-Cookie"])
	}
	if !dc.HttpOnly || !dc.Secure || dc.SameSite != http.SameSiteLaxMode || dc.Path != "/" || dc.Domain != "" || dc.MaxAge != 400*24*3600 {
		t.Fatalf("device cookie attributes %+v", dc)
	}
	c2, w2 := clientOf(t, svc, "GET", browser)
	if c2.SSAID == c.SSAID {
		t.Fatal("two browsers got the same device id")
	}
	_ = w2

	// The cookie comes back: the same device, nothing set again.
	c, w = clientOf(t, svc, "POST", map[string]string{"Sec-Fetch-Site": "same-origin", "Cookie": deviceCookie + "=" + dc.Value})
	if c.SSAID != dc.Value || !c.CookieSSAID || len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
	// The header wins over the cookie, and nothing is minted.
	c, w = clientOf(t, svc, "GET", map[string]string{"Sec-Fetch-Site": "same-origin", "x-client-ssaid": "hdr", "Cookie": deviceCookie + "=" + dc.Value})
	if c.SSAID != "hdr" || c.CookieSSAID || len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
	// A malformed header is still 400, cookie or not.
	_, w = clientOf(t, svc, "GET", map[string]string{"Sec-Fetch-Site": "same-origin", "x-client-ssaid": "a b", "Cookie": deviceCookie + "=" + dc.Value})
	if w.Code != 400 {
		t.Fatalf("malformed header with a cookie: %d", w.Code)
	}
	// A non-browser client (no Fetch Metadata) gets no device: SSAID "".
	c, w = clientOf(t, svc, "GET", nil)
	if c.SSAID != "" || c.CookieSSAID || len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("non-browser: client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
	// ...but its device cookie, if it keeps one, is read.
	c, _ = clientOf(t, svc, "GET", map[string]string{"Cookie": deviceCookie + "=dev-1"})
	if c.SSAID != "dev-1" || !c.CookieSSAID {
		t.Fatalf("cookie of a non-browser: %+v", c)
	}
	// Preflights and other OPTIONS requests mint nothing.
	c, w = clientOf(t, svc, "OPTIONS", browser)
	if c.SSAID != "" || len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("OPTIONS: client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
	// A cookie that is not a valid ssaid is replaced by a fresh device.
	c, w = clientOf(t, svc, "GET", map[string]string{"Sec-Fetch-Site": "same-origin", "Cookie": deviceCookie + "=" + strings.Repeat("x", 129)})
	if nc := setCookies(w)[deviceCookie]; nc == nil || c.SSAID != nc.Value || len(c.SSAID) != 26 {
		t.Fatalf("invalid cookie: client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
	// Cookie mode off: nothing of the above.
	c, w = clientOf(t, newService(t).svc, "GET", map[string]string{"Sec-Fetch-Site": "same-origin", "Cookie": deviceCookie + "=dev-1"})
	if c.SSAID != "" || len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("cookie mode off: client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
}

// TestInsecureCookies: InsecureCookies drops Secure and the __Host- prefix
// of the default names; custom names and lifetimes are used as given.
func TestInsecureCookies(t *testing.T) {
	svc := newService(t, func(c *simpleuser.Config) {
		c.Browser = simpleuser.BrowserConfig{CookieMode: true, InsecureCookies: true, DeviceCookieMaxAge: 90 * time.Second}
	}).svc
	_, w := clientOf(t, svc, "GET", map[string]string{"Sec-Fetch-Site": "none"})
	dc := setCookies(w)["simpleuser_device"]
	if dc == nil || dc.Secure || !dc.HttpOnly || dc.MaxAge != 90 {
		t.Fatalf("Set-Cookie %v", w.Header()["Set-Cookie"])
	}
	named := newService(t, func(c *simpleuser.Config) {
		c.Browser = simpleuser.BrowserConfig{CookieMode: true, SessionCookie: "sid", DeviceCookie: "did"}
	}).svc
	c, w := clientOf(t, named, "GET", map[string]string{"Sec-Fetch-Site": "none", "Cookie": "sid=T"})
	if c.Token != "T" || setCookies(w)["did"] == nil || !setCookies(w)["did"].Secure {
		t.Fatalf("client %+v, Set-Cookie %v", c, w.Header()["Set-Cookie"])
	}
}

// TestDeviceCookieAnonymousUser: a plain page (cookies only, no custom
// header) is one anonymous user across requests, on both backends.
func TestDeviceCookieAnonymousUser(t *testing.T) {
	onBackends(t, func(t *testing.T, real func(*simpleuser.Config)) {
		svc := newService(t, real, cookieMode).svc
		var ids []int64
		h := Identity(svc, Options{})(RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := simpleuser.CurrentUser(r.Context())
			ids = append(ids, u.ID)
		})))
		hdr := map[string]string{"Sec-Fetch-Site": "same-origin"}
		w, _ := serve(t, h, "GET", "/", hdr)
		dc := setCookies(w)[deviceCookie]
		if w.Code != 200 || dc == nil {
			t.Fatalf("first visit: %d, Set-Cookie %v", w.Code, w.Header()["Set-Cookie"])
		}
		hdr["Cookie"] = deviceCookie + "=" + dc.Value
		for range 2 {
			if w, _ := serve(t, h, "GET", "/", hdr); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] {
			t.Fatalf("users %v: want one anonymous user", ids)
		}
		u, err := svc.Users().GetAnonymous(context.Background(), dc.Value)
		if err != nil || u.ID != ids[0] {
			t.Fatalf("anonymous user of the device: %v, %v", u, err)
		}
	})
}

// TestDeadCookieTokenCleared: a request authenticated by a session cookie
// whose session is revoked (or never existed) gets its 401 with the cookie
// cleared; a live cookie, a dead header token, and a 401 the app answers
// without looking the token up leave the cookie alone. Both backends.
func TestDeadCookieTokenCleared(t *testing.T) {
	onBackends(t, func(t *testing.T, real func(*simpleuser.Config)) {
		e := newService(t, real, cookieMode)
		tok, _ := e.register(t, "dead-cookie@example.com")
		guarded := Identity(e.svc, Options{})(RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })))
		own401 := Identity(e.svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }))
		cleared := func(w *httptest.ResponseRecorder) bool {
			c := setCookies(w)[sessionCookie]
			return c != nil && c.MaxAge < 0 && c.Value == "" && c.Secure && c.HttpOnly && c.Path == "/" && c.SameSite == http.SameSiteLaxMode
		}
		cookie := map[string]string{"Cookie": sessionCookie + "=" + tok}
		if w, _ := serve(t, guarded, "GET", "/", cookie); w.Code != 299 || len(w.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("live cookie: %d %v", w.Code, w.Header()["Set-Cookie"])
		}
		if err := e.svc.Logout(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		w, env := serve(t, guarded, "GET", "/", cookie)
		wantEnvelope(t, w, env, 401, "INVALID_TOKEN")
		if !cleared(w) {
			t.Fatalf("revoked cookie token not cleared: %v", w.Header()["Set-Cookie"])
		}
		w, env = serve(t, guarded, "GET", "/", map[string]string{"Cookie": sessionCookie + "=never-issued"})
		wantEnvelope(t, w, env, 401, "INVALID_TOKEN")
		if !cleared(w) {
			t.Fatalf("unknown cookie token not cleared: %v", w.Header()["Set-Cookie"])
		}
		// The same dead token in a header: nothing to clear.
		w, env = serve(t, guarded, "GET", "/", map[string]string{"x-client-token": tok, "Cookie": sessionCookie + "=other"})
		wantEnvelope(t, w, env, 401, "INVALID_TOKEN")
		if len(w.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("header token: Set-Cookie %v", w.Header()["Set-Cookie"])
		}
		// The app's own 401, the token never looked up: left alone.
		if w, _ := serve(t, own401, "GET", "/", cookie); w.Code != 401 || len(w.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("app 401: %d %v", w.Code, w.Header()["Set-Cookie"])
		}
		// The user's account gone (unregistered): its session cookie is dead too.
		tok2, id2 := e.register(t, "gone@example.com")
		if err := e.svc.Users().Delete(context.Background(), id2); err != nil {
			t.Fatal(err)
		}
		user := Identity(e.svc, Options{})(RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })))
		w, env = serve(t, user, "GET", "/", map[string]string{"Cookie": sessionCookie + "=" + tok2})
		wantEnvelope(t, w, env, 401, "INVALID_TOKEN")
		if !cleared(w) {
			t.Fatalf("cookie of a deleted user not cleared: %v", w.Header()["Set-Cookie"])
		}
	})
}

// TestCookieWriterKeepsInterfaces: the writer of a cookie-token request
// still flushes through http.ResponseController.
func TestCookieWriterKeepsInterfaces(t *testing.T) {
	svc := newService(t, cookieMode).svc
	h := Identity(svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*cookieWriter); !ok {
			t.Errorf("writer %T, want the cookie writer", w)
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", sessionCookie+"=x")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !w.Flushed {
		t.Fatal("not flushed")
	}
}

// TestSessionCookieHelpers: SetSessionCookie and ClearSessionCookie write
// the documented attributes, do nothing outside cookie mode, and a clear
// never doubles a Set-Cookie of the same name.
func TestSessionCookieHelpers(t *testing.T) {
	e := newService(t, cookieMode)
	now := e.svc.Config().Now()
	w := httptest.NewRecorder()
	SetSessionCookie(w, e.svc, "tok", now.Add(30*24*time.Hour))
	c := setCookies(w)[sessionCookie]
	if c == nil || c.Value != "tok" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		c.MaxAge != 30*24*3600 || !c.Expires.Equal(now.Add(30*24*time.Hour).Truncate(time.Second)) {
		t.Fatalf("session cookie %+v (%v)", c, w.Header()["Set-Cookie"])
	}
	ClearSessionCookie(w, e.svc)
	if n := len(w.Header()["Set-Cookie"]); n != 1 {
		t.Fatalf("clear after set doubled the cookie: %v", w.Header()["Set-Cookie"])
	}
	w = httptest.NewRecorder()
	ClearSessionCookie(w, e.svc)
	ClearSessionCookie(w, e.svc)
	if c := setCookies(w)[sessionCookie]; c == nil || c.MaxAge >= 0 || len(w.Header()["Set-Cookie"]) != 1 {
		t.Fatalf("clear: %v", w.Header()["Set-Cookie"])
	}
	off := newService(t).svc
	w = httptest.NewRecorder()
	SetSessionCookie(w, off, "tok", now.Add(time.Hour))
	ClearSessionCookie(w, off)
	if len(w.Header()["Set-Cookie"]) != 0 {
		t.Fatalf("cookie mode off: %v", w.Header()["Set-Cookie"])
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "a=b; "+sessionCookie+"=T")
	if got := SessionCookieToken(r, e.svc); got != "T" {
		t.Fatalf("SessionCookieToken %q", got)
	}
	if got := SessionCookieToken(r, off); got != "" {
		t.Fatalf("SessionCookieToken with cookie mode off: %q", got)
	}
}
