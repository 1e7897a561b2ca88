package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/browser"
)

// browserSettings are the flags of cookie mode and trusted origins
// (simpleuser.Config.Browser).
type browserSettings struct {
	cookieMode      bool
	insecureCookies bool
	trustedOrigins  string
}

func defineBrowserFlags(fs *flag.FlagSet, b *browserSettings) {
	fs.BoolVar(&b.cookieMode, "cookie-mode", envBool("SIMPLEUSER_COOKIE_MODE", true), "cookie mode: logins also set the session token in an HttpOnly cookie, browsers get a device-id cookie (SIMPLEUSER_COOKIE_MODE)")
	fs.BoolVar(&b.insecureCookies, "insecure-cookies", envBool("SIMPLEUSER_INSECURE_COOKIES", false), "drop the Secure attribute of the cookies, for plain-http development; only with a loopback -addr such as 127.0.0.1:8080 (SIMPLEUSER_INSECURE_COOKIES)")
	fs.StringVar(&b.trustedOrigins, "trusted-origins", envOr("SIMPLEUSER_TRUSTED_ORIGINS", ""), "comma-separated origins of browser apps on other origins, e.g. https://app.example: CORS with credentials, trusted by the CSRF check; default none (SIMPLEUSER_TRUSTED_ORIGINS)")
}

// configureBrowser sets cfg.Browser from the flags. Secure cookies can
// only be turned off when the server listens on loopback alone: a
// Secure-less session cookie on a reachable plain-http server would travel
// in clear text.
func configureBrowser(s settings, cfg *simpleuser.Config) error {
	b := s.browser
	if b.insecureCookies && !loopbackAddr(s.addr) {
		return fmt.Errorf("-insecure-cookies: only for a server listening on loopback (-addr 127.0.0.1:PORT, [::1]:PORT or localhost:PORT), not %q", s.addr)
	}
	var origins []string
	for _, o := range strings.Split(b.trustedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			if err := browser.CheckOrigin(o); err != nil {
				return fmt.Errorf("-trusted-origins: %w", err)
			}
			origins = append(origins, o)
		}
	}
	cfg.Browser = simpleuser.BrowserConfig{CookieMode: b.cookieMode, InsecureCookies: b.insecureCookies, TrustedOrigins: origins}
	return nil
}

// loopbackAddr reports whether the listen address addr binds loopback
// only: "localhost:PORT" or a loopback address ("" or ":PORT" listens on
// every interface).
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
