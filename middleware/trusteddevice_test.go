package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
)

// TestTrustedDeviceCookie: the trusted-device token comes from the
// x-client-trusted-device header first, else (cookie mode only) from the
// cookie, whose name drops the __Host- prefix with insecure cookies; the
// cookie is set with the session cookie's attributes until the device's
// expiry and cleared only when the request sent one; outside cookie mode
// nothing is set.
func TestTrustedDeviceCookie(t *testing.T) {
	insecure := func(c *simpleuser.Config) { c.Browser.CookieMode, c.Browser.InsecureCookies = true, true }
	for _, tc := range []struct {
		name   string
		mod    func(*simpleuser.Config)
		cookie string
		secure bool
	}{
		{"secure", cookieMode, "__Host-simpleuser_trusted_device", true},
		{"insecure", insecure, "simpleuser_trusted_device", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t, tc.mod).svc
			if got := TrustedDeviceCookieName(svc); got != tc.cookie {
				t.Fatalf("name %q", got)
			}
			r := httptest.NewRequest("POST", "/", nil)
			if TrustedDevice(r, svc) != "" {
				t.Fatal("a token from nowhere")
			}
			r.AddCookie(&http.Cookie{Name: tc.cookie, Value: "from-cookie"})
			if got := TrustedDevice(r, svc); got != "from-cookie" {
				t.Fatalf("cookie: %q", got)
			}
			r.Header.Set(TrustedDeviceHeader, "from-header")
			if got := TrustedDevice(r, svc); got != "from-header" {
				t.Fatalf("header first: %q", got)
			}

			w := httptest.NewRecorder()
			exp := svc.Config().Now().Add(30 * 24 * time.Hour)
			SetTrustedDeviceCookie(w, svc, "tok", exp)
			c := setCookies(w)[tc.cookie]
			if c == nil || c.Value != "tok" || !c.HttpOnly || c.Secure != tc.secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 30*24*3600 {
				t.Fatalf("set: %+v", c)
			}
			w = httptest.NewRecorder()
			ClearTrustedDeviceCookie(w, httptest.NewRequest("POST", "/", nil), svc)
			if len(w.Result().Cookies()) != 0 {
				t.Fatal("cleared a cookie the request did not send")
			}
			w = httptest.NewRecorder()
			ClearTrustedDeviceCookie(w, r, svc)
			if c := setCookies(w)[tc.cookie]; c == nil || c.MaxAge != -1 || c.Value != "" {
				t.Fatalf("clear: %#v", c)
			}
		})
	}
	off := newService(t).svc
	r := httptest.NewRequest("POST", "/", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-simpleuser_trusted_device", Value: "from-cookie"})
	if got := TrustedDevice(r, off); got != "" {
		t.Fatalf("cookie read outside cookie mode: %q", got)
	}
	w := httptest.NewRecorder()
	SetTrustedDeviceCookie(w, off, "tok", time.Now().Add(time.Hour))
	ClearTrustedDeviceCookie(w, r, off)
	if len(w.Result().Cookies()) != 0 {
		t.Fatal("cookies set outside cookie mode")
	}
}
