package handlers

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/simpleuser/simpleuser"
)

// DefaultOAuthReturnTo is where a provider sign-in in redirect mode sends
// the browser after the callback, in cookie mode, when neither the start
// link (returnTo) nor Options.OAuthReturnTo names a page: the site's root.
const DefaultOAuthReturnTo = "/"

// maxReturnTo is the longest returnTo accepted, in bytes: it travels in
// the flow's cookie, which browsers keep up to 4096 bytes (RFC 6265 §6.1).
const maxReturnTo = 2048

// checkReturnTo returns nil when u may be the page a redirect-mode
// callback sends the browser to (303 See Other):
//
//   - a path on the app's own origin: it starts with one "/" (not "//",
//     which browsers read as another host), such as "/account?tab=1"; or
//   - an absolute http(s) URL whose origin (scheme://host[:port]) is one
//     of the trusted origins, exactly (Config.Browser.TrustedOrigins).
//
// Only printable ASCII without "\" is allowed (anything else
// percent-encoded), at most 2048 bytes: browsers read "\" as "/" and drop
// tabs and newlines, so "/\evil.example" or "/<TAB>/evil.example" would
// leave the site. Anything else would make the callback an open redirect
// (OWASP Unvalidated Redirects and Forwards Cheat Sheet), and is refused.
func checkReturnTo(u string, trusted []string) error {
	bad := func(why string) error {
		return &simpleuser.Error{Status: http.StatusBadRequest, Code: simpleuser.CodeRedirectNotAllowed,
			Message: "returnTo " + why + ": use a path on this site (such as /account) or a URL of a trusted origin"}
	}
	if u == "" || len(u) > maxReturnTo {
		return bad(fmt.Sprintf("must be 1 to %d bytes", maxReturnTo))
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return bad("holds a character that must be percent-encoded")
		}
	}
	p, err := url.Parse(u)
	if err != nil {
		return bad("is not a URL")
	}
	if u[0] == '/' {
		if strings.HasPrefix(u, "//") || p.Scheme != "" || p.Host != "" || p.User != nil {
			return bad("names another host")
		}
		return nil
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil || p.Opaque != "" ||
		!slices.Contains(trusted, p.Scheme+"://"+p.Host) {
		return bad("is not on a trusted origin")
	}
	return nil
}

// flowCookieValue is the value of the flow's cookie (oauthSSAIDCookie):
// the ssaid, then (when the start named one) "." and the page to return
// to, each base64url-encoded without padding (RFC 4648 §5), which keeps
// any printable ASCII intact in a cookie value (RFC 6265 §4.1.1
// cookie-octets).
func flowCookieValue(ssaid, returnTo string) string {
	if returnTo == "" {
		return cookieSSAID(ssaid)
	}
	return cookieSSAID(ssaid) + "." + base64.RawURLEncoding.EncodeToString([]byte(returnTo))
}

// parseFlowCookie decodes a flowCookieValue (or a bare cookieSSAID of an
// older start, without a return page). ok is false when the ssaid does
// not decode to a valid ssaid; returnTo is "" when absent or undecodable.
func parseFlowCookie(v string) (ssaid, returnTo string, ok bool) {
	id, rt, _ := strings.Cut(v, ".")
	if ssaid, ok = ssaidFromCookie(id); !ok {
		return "", "", false
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(rt); err == nil {
		returnTo = string(b)
	}
	return ssaid, returnTo, true
}

// returnPage is the page a callback returns to: returnTo when it is
// still allowed (the cookie came back from the browser, so it is checked
// again), else Options.OAuthReturnTo.
func (s *server) returnPage(returnTo string) string {
	if returnTo != "" && checkReturnTo(returnTo, s.browser.TrustedOrigins) == nil {
		return returnTo
	}
	return s.returnTo
}

// seeOther answers 303 See Other to page (the envelope carries no data:
// never the token).
func (c *call) seeOther(page string) (any, error) {
	c.w.Header().Set("Location", page)
	c.status = http.StatusSeeOther
	return nil, nil
}

// seeOtherError answers a failed redirect-mode callback with 303 to page,
// its query carrying error=<data.code>, so the page can tell the person
// what went wrong in its own words. Server-side failures (5xx) are
// logged as envelope.Error logs them.
func (c *call) seeOtherError(page string, err error) (any, error) {
	e := simpleuser.AsError(err)
	if e.Status >= 500 {
		simpleuser.ObserveError(c.r.Context(), err)
		attrs := []any{slog.Int("status", e.Status), slog.String("code", e.Code),
			slog.String("method", c.r.Method), slog.String("path", c.r.URL.Path)}
		if e.Err != nil {
			attrs = append(attrs, slog.String("cause", e.Err.Error()))
		}
		c.s.log.Error("simpleuser: request failed", attrs...)
	}
	u, perr := url.Parse(page)
	if perr != nil { // unreachable: returnPage answers checked pages only
		return nil, err
	}
	q := u.Query()
	q.Set("error", e.Code)
	u.RawQuery = q.Encode()
	return c.seeOther(u.String())
}
