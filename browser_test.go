package simpleuser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
)

func browserService(b simpleuser.BrowserConfig) (*simpleuser.Service, error) {
	return simpleuser.New(simpleuser.Config{
		Hooks:   hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "1", nil }},
		Browser: b,
	})
}

// TestBrowserConfigDefaults: the cookie names carry the __Host- prefix
// while the cookies are Secure and lose it with InsecureCookies; the
// device cookie lives 400 days and preflights are cached 10 minutes.
func TestBrowserConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		in             simpleuser.BrowserConfig
		session, dev   string
		maxAge, preAge time.Duration
	}{
		{simpleuser.BrowserConfig{}, "__Host-simpleuser_session", "__Host-simpleuser_device", 400 * 24 * time.Hour, 10 * time.Minute},
		{simpleuser.BrowserConfig{CookieMode: true, InsecureCookies: true}, "simpleuser_session", "simpleuser_device", 400 * 24 * time.Hour, 10 * time.Minute},
		{simpleuser.BrowserConfig{SessionCookie: "sid", DeviceCookie: "__Host-did", DeviceCookieMaxAge: time.Hour, CORSMaxAge: -1}, "sid", "__Host-did", time.Hour, -1},
	} {
		svc, err := browserService(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		b := svc.Config().Browser
		if b.SessionCookie != tc.session || b.DeviceCookie != tc.dev || b.DeviceCookieMaxAge != tc.maxAge || b.CORSMaxAge != tc.preAge {
			t.Fatalf("%+v: got %+v", tc.in, b)
		}
	}
}

// TestBrowserConfigValidation: every invalid field is named.
func TestBrowserConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    simpleuser.BrowserConfig
		field string
	}{
		{"bad cookie name", simpleuser.BrowserConfig{SessionCookie: "a b"}, "Config.Browser.SessionCookie"},
		{"bad device cookie name", simpleuser.BrowserConfig{DeviceCookie: "a;b"}, "Config.Browser.DeviceCookie"},
		{"__Host- without Secure", simpleuser.BrowserConfig{InsecureCookies: true, SessionCookie: "__Host-sid"}, "Config.Browser.SessionCookie"},
		{"__Secure- without Secure", simpleuser.BrowserConfig{InsecureCookies: true, DeviceCookie: "__secure-did"}, "Config.Browser.DeviceCookie"},
		{"one name for both", simpleuser.BrowserConfig{SessionCookie: "x", DeviceCookie: "x"}, "Config.Browser.DeviceCookie"},
		{"sub-second device lifetime", simpleuser.BrowserConfig{DeviceCookieMaxAge: time.Millisecond}, "Config.Browser.DeviceCookieMaxAge"},
		{"negative device lifetime", simpleuser.BrowserConfig{DeviceCookieMaxAge: -time.Hour}, "Config.Browser.DeviceCookieMaxAge"},
		{"bad origin", simpleuser.BrowserConfig{TrustedOrigins: []string{"https://ok.example", "https://ok.example/"}}, "Config.Browser.TrustedOrigins[1]"},
	} {
		_, err := browserService(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Fatalf("%s: error %v, want one naming %s", tc.name, err, tc.field)
		}
	}
}
