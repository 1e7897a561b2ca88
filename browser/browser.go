// Package browser holds the configuration shared by the HTTP edges that
// serve browsers (simpleuser.Config.Browser): cookie mode, the session and
// device cookies, and the origins trusted for CORS and the CSRF check. The
// identity middleware, the JSON API and the CSRF and CORS middleware all
// read it from the Service, so they cannot disagree. See
// docs/browser-apps.md.
package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config configures how browsers use the kit: cookie mode and the
// origins of browser apps served from other origins. It lives in Config
// because several HTTP edges must agree on it: the identity middleware
// reads the cookies, the JSON API's login endpoints set them, and the CSRF
// and CORS middleware (package middleware) read the origins; each of them
// takes it from Service.Config, so an app that mounts the middleware
// around its own routes and the JSON API inside them cannot configure two
// different sets of names or origins.
type Config struct {
	// CookieMode turns cookie mode on. Every login (code, password,
	// provider callback) then also sets the session token in the session
	// cookie (HttpOnly, SameSite=Lax, Path=/, Secure unless
	// InsecureCookies; it expires with the session); the middleware takes
	// the token from the cookie when neither x-client-token nor
	// Authorization: Bearer carries one; logging out, and any request
	// whose cookie token is unknown, expired or revoked, clear it; and a
	// browser that sends no x-client-ssaid gets a device id in the device
	// cookie (see DeviceCookie). State-changing requests authenticated by
	// these cookies are then checked against cross-origin forgery
	// (middleware.CSRF). Default false: tokens travel in headers only.
	CookieMode bool
	// InsecureCookies drops the Secure attribute of the kit's cookies, so
	// that a browser keeps them over plain http. For development on
	// http://localhost only: a Secure-less session cookie is sent over
	// any plain-http connection to the host, where anyone on the path can
	// read it. Default false: Secure, as the OWASP Session Management
	// Cheat Sheet requires.
	InsecureCookies bool
	// SessionCookie is the name of the session cookie. Default
	// "__Host-simpleuser_session", or "simpleuser_session" with
	// InsecureCookies. The __Host- prefix (RFC 6265bis §4.1.3.2) makes a
	// browser refuse the cookie unless it is Secure, host-only and Path=/,
	// so a sibling subdomain cannot plant a session of its choosing. A
	// name with the __Host- or __Secure- prefix is invalid together with
	// InsecureCookies.
	SessionCookie string
	// DeviceCookie is the name of the device-id cookie: a first-party
	// cookie (HttpOnly, SameSite=Lax, Path=/, Secure unless
	// InsecureCookies) holding a random device id (26 characters of
	// crypto/rand.Text, 130 bits), minted once by the middleware for a
	// browser request (one carrying the Fetch Metadata header
	// Sec-Fetch-Site) that sends neither x-client-ssaid nor this cookie.
	// It then serves as the request's ssaid, so anonymous users work in a
	// plain page. Default "__Host-simpleuser_device", or
	// "simpleuser_device" with InsecureCookies.
	DeviceCookie string
	// DeviceCookieMaxAge is the lifetime of the device cookie, counted from
	// when it is minted (it is not renewed). Default 400 days, the longest
	// a browser keeps a cookie (RFC 6265bis, the revision browsers follow,
	// caps Max-Age and Expires there); it is rounded down to whole seconds
	// and must be at least one.
	DeviceCookieMaxAge time.Duration
	// TrustedOrigins are the origins of browser apps served from other
	// origins that may use the API with the user's credentials, written as
	// browsers send them in the Origin header (RFC 6454 §6.2): scheme
	// "http" or "https", a lower-case host (IDNs in their xn-- form), a
	// port only when it is not the scheme's default, and nothing else
	// ("https://app.example", "http://localhost:5173"). CORS
	// (middleware.CORS, github.com/rs/cors) allows them, with credentials,
	// and no other origin; the CSRF check (middleware.CSRF, net/http's
	// CrossOriginProtection) trusts their state-changing requests. An
	// origin allowed to read the API with the user's cookies is trusted
	// with the account anyway, so one list serves both. Default none.
	TrustedOrigins []string
	// CORSMaxAge is how long a browser may cache the answer to a CORS
	// preflight (Access-Control-Max-Age, whole seconds). Default 10 min;
	// browsers cap it (Chromium at 2 h). Negative: 0, no caching.
	CORSMaxAge time.Duration
}

// Defaults of Config.
const (
	DefaultSessionCookie      = "simpleuser_session"
	DefaultDeviceCookie       = "simpleuser_device"
	DefaultDeviceCookieMaxAge = 400 * 24 * time.Hour
	DefaultCORSMaxAge         = 10 * time.Minute
	// hostPrefix is the RFC 6265bis cookie-name prefix of Secure,
	// host-only, Path=/ cookies; the default names carry it when Secure.
	hostPrefix = "__Host-"
)

// WithDefaults returns b with its defaults filled and reports each invalid
// field to bad, named as in simpleuser.Config ("Browser.SessionCookie"),
// with the reason. simpleuser.New calls it; an app need not.
func (b Config) WithDefaults(bad func(field, why string)) Config {
	name := func(field string, v *string, def string) {
		if *v == "" {
			*v = def
			if !b.InsecureCookies {
				*v = hostPrefix + def
			}
			return
		}
		if (&http.Cookie{Name: *v, Value: "x"}).Valid() != nil {
			bad(field, "must be a cookie name (an RFC 9110 token)")
			return
		}
		if b.InsecureCookies && (hasPrefixFold(*v, "__Host-") || hasPrefixFold(*v, "__Secure-")) {
			bad(field, "must not carry the __Host- or __Secure- prefix together with InsecureCookies: browsers drop such cookies without Secure")
		}
	}
	name("Browser.SessionCookie", &b.SessionCookie, DefaultSessionCookie)
	name("Browser.DeviceCookie", &b.DeviceCookie, DefaultDeviceCookie)
	if b.SessionCookie == b.DeviceCookie {
		bad("Browser.DeviceCookie", "must differ from Browser.SessionCookie")
	}
	if b.DeviceCookieMaxAge == 0 {
		b.DeviceCookieMaxAge = DefaultDeviceCookieMaxAge
	}
	if b.DeviceCookieMaxAge < time.Second {
		bad("Browser.DeviceCookieMaxAge", "must be at least 1 s")
	}
	if b.CORSMaxAge == 0 {
		b.CORSMaxAge = DefaultCORSMaxAge
	}
	b.TrustedOrigins = append([]string(nil), b.TrustedOrigins...)
	for i, o := range b.TrustedOrigins {
		if err := CheckOrigin(o); err != nil {
			bad(fmt.Sprintf("Browser.TrustedOrigins[%d]", i), err.Error())
		}
	}
	return b
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case
// (browsers match the cookie-name prefixes case-insensitively).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// CheckOrigin returns nil when o is an origin written as browsers send it
// in the Origin header (RFC 6454 §6.2): "http" or "https", "://", a
// lower-case ASCII host (an IDN in its xn-- form; an IPv6 address in
// brackets), and a port only when it is not the scheme's default; no
// user information, path (not even "/"), query, fragment or wildcard.
// Origins are compared byte for byte with the Origin header, so any other
// spelling would never match; the error says how to write it.
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %v", o, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: the scheme must be http or https", o)
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q: a host is required (scheme://host[:port])", o)
	case u.User != nil:
		return fmt.Errorf("%q: user information is not part of an origin", o)
	case u.Path != "" || u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#"):
		return fmt.Errorf("%q: an origin has no path (not even \"/\"), query or fragment", o)
	case strings.Contains(o, "*"):
		return fmt.Errorf("%q: wildcards are not supported; list each origin", o)
	}
	for i := 0; i < len(u.Host); i++ {
		if u.Host[i] >= 0x80 {
			return fmt.Errorf("%q: write an internationalised host in its ASCII (xn--) form, as browsers send it", o)
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: the port must be 1 to 65535", o)
		}
		if !(u.Scheme == "https" && n == 443) && !(u.Scheme == "http" && n == 80) {
			host += ":" + strconv.Itoa(n)
		}
	}
	if want := u.Scheme + "://" + host; want != o {
		return fmt.Errorf("%q: write it %q, as browsers send it", o, want)
	}
	return nil
}
