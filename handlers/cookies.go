package handlers

import (
	"net/http"
	"slices"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/middleware"
)

// setSessionCookie sets the session cookie of a login in cookie mode
// (svc's Config.Browser.CookieMode; nothing otherwise): every login
// endpoint calls it, whatever carried the request's own credentials, so a
// browser page is signed in by the answer alone.
func (c *call) setSessionCookie(res *simpleuser.LoginResult) {
	middleware.SetSessionCookie(c.w, c.s.svc, res.Token, res.ExpiresAt)
}

// sessionEnded is the hook of every endpoint that ends a session of the
// caller (logout, unregister, ending one's own session from a session
// list...): when the request's session cookie holds token (the cookie
// authenticated the request, or a header named the same session), the
// answer clears the cookie, so the browser stops sending a dead token.
// A cookie holding another session is left alone. Nothing happens outside
// cookie mode.
func (c *call) sessionEnded(token string) {
	if token != "" && middleware.SessionCookieToken(c.r, c.s.svc) == token {
		middleware.ClearSessionCookie(c.w, c.s.svc)
	}
}

// csrfDoc documents the CSRF refusal of a state-changing route in cookie mode.
const csrfDoc = "A request identified by the session or device cookie and coming from an origin other than the app's own or a trusted one (CSRF); nothing was done."

// routeErrors are the documented errors of rt: its own, plus in cookie
// mode the 403 CSRF of a state-changing route (middleware.CSRF), merged
// into the route's 403 when it has one (one response per status).
func (s *server) routeErrors(rt *route) []routeError {
	if !s.browser.CookieMode || rt.method == http.MethodGet || rt.method == http.MethodHead {
		return rt.errors
	}
	errs := slices.Clone(rt.errors)
	for i := range errs {
		if errs[i].status == http.StatusForbidden {
			errs[i].description += " " + csrfDoc
			return errs
		}
	}
	return append(errs, routeError{http.StatusForbidden, csrfDoc})
}
