// Package middleware resolves the identity of an HTTP request for
// simpleuser: the client's device id (x-client-ssaid), session token
// (x-client-token), user agent and address, carried in the request context
// where simpleuser.CurrentUser and simpleuser.CurrentSession find them.
//
// Every middleware here is a plain func(http.Handler) http.Handler (or
// wraps one handler), as in chi and scs, so it fits net/http's ServeMux and
// any router. A typical app wraps its whole mux once:
//
//	h := middleware.RequestID(nil)(middleware.Recover(log)(middleware.Identity(svc, middleware.Options{})(mux)))
//
// RequestID gives each request an id (X-Request-Id, taken from a trusted
// proxy or generated) that every log line of the request carries
// (logging.Handler); pass it and Identity the same trusted proxies.
// and guards its own endpoints with RequireUser, RequireRegistered or
// RequireSession. Errors are answered in the kit's envelope (package
// envelope).
//
// The token is taken from x-client-token, then Authorization: Bearer,
// then (in cookie mode, simpleuser.Config.Browser) the session cookie. For
// browser apps, CSRF (net/http's CrossOriginProtection, for requests the
// cookies identify) and CORS (github.com/rs/cors, for the trusted origins)
// are middleware too, mounted around the app's own routes:
//
//	own := middleware.CORS(svc)(middleware.CSRF(svc)(mux))
//	h := middleware.RequestID(nil)(middleware.Recover(log)(middleware.Identity(svc, middleware.Options{})(own)))
//
// SetSessionCookie and ClearSessionCookie set and clear the session cookie
// for an app's own login and logout handlers (docs/browser-apps.md).
package middleware
