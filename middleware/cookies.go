package middleware

import (
	"bufio"
	"crypto/rand"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser"
)

// The kit's cookies in cookie mode (simpleuser.Config.Browser): the
// session cookie holds the session token, the device cookie a device id
// standing for x-client-ssaid. Both are HttpOnly (no script reads them),
// SameSite=Lax (a browser attaches them to same-site requests and to
// top-level GET navigations from other sites, never to another site's
// POST or fetch), Path=/ and host-only (no Domain), and Secure unless
// Config.Browser.InsecureCookies; these are the attributes OWASP's Session
// Management Cheat Sheet asks for, and the ones the __Host- name prefix
// of the default names requires.

// SetSessionCookie sets the session cookie of cookie mode on w: token,
// valid until expires (a login's LoginResult.ExpiresAt). It does nothing
// when cookie mode is off. The JSON API's login endpoints call it; an app
// that logs users in through svc.Login in its own handler calls it too.
func SetSessionCookie(w http.ResponseWriter, svc *simpleuser.Service, token string, expires time.Time) {
	cfg := svc.Config()
	if !cfg.Browser.CookieMode {
		return
	}
	maxAge := int(expires.Sub(cfg.Now()) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: cfg.Browser.SessionCookie, Value: token, Path: "/",
		Expires: expires.UTC(), MaxAge: maxAge,
		HttpOnly: true, Secure: !cfg.Browser.InsecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to drop the session cookie (an
// expired cookie of the same name, path and attributes, RFC 6265 §3.1). It
// does nothing when cookie mode is off or when the response already sets
// that cookie. The JSON API calls it on logout, when the caller's own
// session ends, and the middleware when a cookie token is refused (401).
func ClearSessionCookie(w http.ResponseWriter, svc *simpleuser.Service) {
	b := svc.Config().Browser
	if !b.CookieMode || setsCookie(w.Header(), b.SessionCookie) {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: b.SessionCookie, Value: "", Path: "/",
		Expires: time.Unix(0, 0).UTC(), MaxAge: -1,
		HttpOnly: true, Secure: !b.InsecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// SessionCookieToken returns the token in r's session cookie ("" when
// cookie mode is off or r has none).
func SessionCookieToken(r *http.Request, svc *simpleuser.Service) string {
	b := svc.Config().Browser
	if !b.CookieMode {
		return ""
	}
	return cookieValue(r, b.SessionCookie)
}

// TrustedDeviceHeader is the header that carries a trusted-device token
// (docs/factors.md, "Trusting a device") outside cookie mode.
const TrustedDeviceHeader = "x-client-trusted-device"

// TrustedDeviceCookieName is the name of the trusted-device cookie of
// cookie mode: "__Host-simpleuser_trusted_device", or
// "simpleuser_trusted_device" with Config.Browser.InsecureCookies (the
// __Host- prefix needs Secure), as for the session cookie.
func TrustedDeviceCookieName(svc *simpleuser.Service) string {
	return trustedDeviceCookie(svc.Config().Browser.InsecureCookies)
}

// trustedDeviceCookie is the trusted-device cookie's name: with the
// __Host- prefix unless the cookies are insecure (plain http).
func trustedDeviceCookie(insecure bool) string {
	if insecure {
		return "simpleuser_trusted_device"
	}
	return "__Host-simpleuser_trusted_device"
}

// TrustedDevice returns r's trusted-device token ("trust this device"):
// the x-client-trusted-device header, else in cookie mode the
// trusted-device cookie; "" when r carries none. An app that signs users
// in through svc.Login in its own handler puts it in
// simpleuser.Client.TrustedDevice, as the JSON API does, so that a trusted
// browser skips the second factor.
func TrustedDevice(r *http.Request, svc *simpleuser.Service) string {
	if v := header(r.Header, trustedDeviceKey); v != "" {
		return v
	}
	b := svc.Config().Browser // one copy of the Config, not two: this runs on every API request
	if !b.CookieMode {
		return ""
	}
	return cookieValue(r, trustedDeviceCookie(b.InsecureCookies))
}

// trustedDeviceKey is TrustedDeviceHeader in its canonical form: Header.Get
// would canonicalise it (and allocate) on every call.
var trustedDeviceKey = http.CanonicalHeaderKey(TrustedDeviceHeader)

// SetTrustedDeviceCookie sets the trusted-device cookie of cookie mode on
// w: token (mfa.Completion.DeviceToken), valid until expires
// (DeviceExpiresAt). HttpOnly, SameSite=Lax, Path=/, Secure unless
// InsecureCookies, like the session cookie. It does nothing when cookie
// mode is off or token is "".
func SetTrustedDeviceCookie(w http.ResponseWriter, svc *simpleuser.Service, token string, expires time.Time) {
	cfg := svc.Config()
	if !cfg.Browser.CookieMode || token == "" {
		return
	}
	maxAge := int(expires.Sub(cfg.Now()) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: TrustedDeviceCookieName(svc), Value: token, Path: "/",
		Expires: expires.UTC(), MaxAge: maxAge,
		HttpOnly: true, Secure: !cfg.Browser.InsecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// ClearTrustedDeviceCookie drops r's trusted-device cookie (cookie mode)
// once the trust it carried was revoked (MFA turned off, the devices
// revoked). It does nothing when r sends no such cookie.
func ClearTrustedDeviceCookie(w http.ResponseWriter, r *http.Request, svc *simpleuser.Service) {
	b := svc.Config().Browser
	name := TrustedDeviceCookieName(svc)
	if !b.CookieMode || cookieValue(r, name) == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/",
		Expires: time.Unix(0, 0).UTC(), MaxAge: -1,
		HttpOnly: true, Secure: !b.InsecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// setsCookie reports whether h already has a Set-Cookie for name.
func setsCookie(h http.Header, name string) bool {
	for _, v := range h["Set-Cookie"] {
		if strings.HasPrefix(v, name) && len(v) > len(name) && v[len(name)] == '=' {
			return true
		}
	}
	return false
}

// cookieValue returns the value of r's first cookie called name ("" when
// none).
func cookieValue(r *http.Request, name string) string {
	if len(r.Header["Cookie"]) == 0 {
		return ""
	}
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// fromCookies completes c from r's cookies in cookie mode. The ssaid
// comes from the device cookie when no x-client-ssaid was sent; a browser
// request with neither gets a fresh device id, set in the device cookie on
// w. The token comes from the session cookie when no header carried one.
func fromCookies(w http.ResponseWriter, r *http.Request, b *simpleuser.BrowserConfig, c *simpleuser.Client) {
	if c.SSAID == "" {
		if v := cookieValue(r, b.DeviceCookie); simpleuser.ValidSSAID(v) {
			c.SSAID, c.CookieSSAID = v, true
		} else if isBrowser(r) {
			c.SSAID, c.CookieSSAID = rand.Text(), true
			http.SetCookie(w, &http.Cookie{
				Name: b.DeviceCookie, Value: c.SSAID, Path: "/",
				MaxAge:   int(b.DeviceCookieMaxAge / time.Second),
				HttpOnly: true, Secure: !b.InsecureCookies, SameSite: http.SameSiteLaxMode,
			})
		}
	}
	if c.Token == "" {
		if v := cookieValue(r, b.SessionCookie); v != "" {
			c.Token, c.CookieToken = v, true
		}
	}
}

// isBrowser reports whether r comes from a browser that should get a
// device cookie: it carries Sec-Fetch-Site (W3C Fetch Metadata, sent on
// every request by every current browser, to https and localhost origins)
// and is not a CORS preflight or other OPTIONS request (whose Set-Cookie
// a browser ignores). A non-browser client (curl, a mobile app, a server)
// sends no such header: it keeps SPEC §1's rule, no x-client-ssaid → 400,
// instead of getting a new device, and so a new anonymous user, on each
// request.
func isBrowser(r *http.Request) bool {
	return r.Method != http.MethodOptions && len(r.Header["Sec-Fetch-Site"]) > 0
}

// cookieWriter is the writer of a request authenticated by the session
// cookie: when the response starts, it adds a clearing Set-Cookie if the
// request's token was looked up and refused (simpleuser.TokenRejected),
// so a browser drops a revoked or expired session's cookie at its first
// 401 instead of sending it forever.
type cookieWriter struct {
	http.ResponseWriter
	r       *http.Request // carries the request's client
	svc     *simpleuser.Service
	started bool
}

func (cw *cookieWriter) start() {
	if cw.started {
		return
	}
	cw.started = true
	if simpleuser.TokenRejected(cw.r.Context()) {
		ClearSessionCookie(cw.ResponseWriter, cw.svc)
	}
}

// WriteHeader clears a dead session cookie first (1xx answers excepted).
func (cw *cookieWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		cw.start()
	}
	cw.ResponseWriter.WriteHeader(code)
}

// Write clears a dead session cookie first.
func (cw *cookieWriter) Write(b []byte) (int, error) {
	cw.start()
	return cw.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (cw *cookieWriter) Flush() {
	cw.start()
	_ = http.NewResponseController(cw.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the underlying writer does.
func (cw *cookieWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	cw.started = true
	return http.NewResponseController(cw.ResponseWriter).Hijack()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (cw *cookieWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
