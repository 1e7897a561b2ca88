package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBrowserFlags: cookie mode is on by default with Secure cookies;
// -insecure-cookies is accepted for a loopback -addr only; trusted origins
// must be written as browsers send them.
func TestBrowserFlags(t *testing.T) {
	a := newTestApp(t)
	if b := a.Service.Config().Browser; !b.CookieMode || b.InsecureCookies || b.SessionCookie != "__Host-simpleuser_session" || len(b.TrustedOrigins) != 0 {
		t.Fatalf("defaults: %+v", b)
	}
	a = newTestApp(t, "-addr", "127.0.0.1:8080", "-insecure-cookies", "-trusted-origins", " https://spa.example, http://localhost:5173 ")
	if b := a.Service.Config().Browser; !b.InsecureCookies || b.SessionCookie != "simpleuser_session" || strings.Join(b.TrustedOrigins, " ") != "https://spa.example http://localhost:5173" {
		t.Fatalf("insecure, origins: %+v", b)
	}
	for _, addr := range []string{"localhost:8080", "[::1]:8080"} {
		newTestApp(t, "-addr", addr, "-insecure-cookies")
	}
	if b := newTestApp(t, "-cookie-mode=false").Service.Config().Browser; b.CookieMode {
		t.Fatal("-cookie-mode=false ignored")
	}
	for _, args := range [][]string{
		{"-insecure-cookies"}, // the default :8080 listens on every interface
		{"-addr", ":8080", "-insecure-cookies"},
		{"-addr", "0.0.0.0:8080", "-insecure-cookies"},
		{"-addr", "192.0.2.1:8080", "-insecure-cookies"},
		{"-trusted-origins", "https://spa.example/"},
		{"-trusted-origins", "*"},
	} {
		s, err := parseFlags(args)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

// TestExampleAppBrowser: the example app in cookie mode serves a plain
// page: device cookie on the first visit, sign-up by code sets the session
// cookie, the cookie alone reaches the API and the app's own routes, a
// forged cross-site POST is refused, and a trusted origin's preflights are
// answered on the API and the app's routes alike.
func TestExampleAppBrowser(t *testing.T) {
	a := newTestApp(t, "-addr", "127.0.0.1:8080", "-insecure-cookies", "-trusted-origins", "https://spa.example")
	jar := map[string]string{}
	do := func(method, path, site string, body any) *httptest.ResponseRecorder {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		r := httptest.NewRequest(method, path, rd)
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Set("Sec-Fetch-Site", site)
		for k, v := range jar {
			r.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		w := httptest.NewRecorder()
		a.Handler.ServeHTTP(w, r)
		for _, c := range w.Result().Cookies() {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		return w
	}
	if w := do("GET", "/", "none", nil); w.Code != 200 || jar["simpleuser_device"] == "" {
		t.Fatalf("first visit: %d, cookies %v", w.Code, jar)
	}
	email := "page@example.com"
	if w := do("POST", "/api/send-code/send", "same-origin", map[string]any{"email": email, "codePurpose": "Login"}); w.Code != 200 {
		t.Fatalf("send: %d %s", w.Code, w.Body)
	}
	if w := do("POST", "/api/login", "same-origin", map[string]any{"email": email, "code": "123456"}); w.Code != 200 || jar["simpleuser_session"] == "" {
		t.Fatalf("login: %d %s, cookies %v", w.Code, w.Body, jar)
	}
	if w := do("GET", "/app/whoami", "same-origin", nil); w.Code != 200 {
		t.Fatalf("whoami by cookie: %d %s", w.Code, w.Body)
	}
	if w := do("POST", "/api/user-center/logout", "cross-site", nil); w.Code != 403 || !strings.Contains(w.Body.String(), `"code":"CSRF"`) {
		t.Fatalf("forged logout: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/api/user-center/me", "same-origin", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"registered":true`) {
		t.Fatalf("/me after the forged logout: %d %s", w.Code, w.Body)
	}
	for _, path := range []string{"/api/login", "/app/whoami"} {
		r := httptest.NewRequest("OPTIONS", path, nil)
		r.Header.Set("Origin", "https://spa.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type,x-client-ssaid")
		w := httptest.NewRecorder()
		a.Handler.ServeHTTP(w, r)
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://spa.example" || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("preflight %s: %d %v", path, w.Code, w.Header())
		}
	}
	if w := do("POST", "/api/user-center/logout", "same-origin", nil); w.Code != 200 || jar["simpleuser_session"] != "" {
		t.Fatalf("logout: %d %s, cookies %v", w.Code, w.Body, jar)
	}
}
