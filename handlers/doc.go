// Package handlers mounts simpleuser's JSON API, wire-compatible with the
// NestJS module nicot-simple-user: the same paths, headers, bodies,
// envelope and status codes, so a frontend written for it works unchanged.
//
// New returns one http.Handler serving every endpoint under a prefix
// ("/api" by default) plus GET {prefix}/openapi.json, an OpenAPI 3.1
// document generated from the same route table that mounts the handlers,
// and GET {prefix}/docs, Swagger UI reading it (its files embedded, so it
// works offline).
//
//	POST {prefix}/send-code/send
//	GET  {prefix}/send-code/verify
//	GET  {prefix}/login/user-exists
//	POST {prefix}/login
//	POST {prefix}/login/reset-password
//	POST {prefix}/login/unregister-with-code
//	GET  {prefix}/user-center/me
//	POST {prefix}/user-center/change-password
//	POST {prefix}/user-center/change-email
//	POST {prefix}/user-center/unregister
//	POST {prefix}/user-center/logout
//	GET  {prefix}/user-center/session
//	PATCH {prefix}/user-center/settings
//	GET  {prefix}/oauth/{provider}/start
//	GET  {prefix}/oauth/{provider}/callback
//	GET  {prefix}/user-center/identities
//	POST {prefix}/user-center/identities/{provider}/link
//	DELETE {prefix}/user-center/identities/{provider}/{subject}
//	POST {prefix}/login/passkey/begin
//	POST {prefix}/login/passkey/finish
//	POST {prefix}/user-center/passkeys/register/begin
//	POST {prefix}/user-center/passkeys/register/finish
//	GET  {prefix}/user-center/passkeys
//	PATCH {prefix}/user-center/passkeys/{id}
//	DELETE {prefix}/user-center/passkeys/{id}
//	POST {prefix}/user-center/switch-tenant
//	GET  {prefix}/openapi.json
//	GET  {prefix}/docs (and {prefix}/docs/, its files under {prefix}/docs/)
//
// Mounting: the handler matches the full request path, prefix included, so
// it is mounted on the prefix's subtree of the app's mux:
//
//	mux.Handle("/api/", handlers.New(svc, handlers.Options{}))
//
// To serve the endpoints at the root ("/login", as nicot's tests do), set
// Prefix to "/" (or "-"); to put them under a path the handler does not
// know about, combine a root prefix with http.StripPrefix:
//
//	mux.Handle("/auth/", http.StripPrefix("/auth", handlers.New(svc, handlers.Options{Prefix: "/"})))
//
// The app's ServeMux cleans a path before the handler sees it: it answers
// "/api//login" or "/api/x/../login" with its own bare 307 to the cleaned
// path, which the handler cannot change. To have every path under the
// prefix answered by the handler, dispatch the prefix before the mux:
//
//	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
//			api.ServeHTTP(w, r)
//			return
//		}
//		mux.ServeHTTP(w, r)
//	})
//
// Browser apps: in cookie mode (simpleuser.Config.Browser.CookieMode) the
// login endpoints and the provider callback also set the session cookie,
// logout and unregister clear it, and state-changing requests identified
// by the cookies are refused cross-origin (403 CSRF, middleware.CSRF); the
// origins in Config.Browser.TrustedOrigins get CORS (middleware.CORS).
// A provider sign-in started in redirect mode ends with 303 See Other to
// the page to return to (the start's returnTo, else
// Options.OAuthReturnTo), the session cookie set. OPTIONS on a route answers 204 with Allow (and, for a trusted origin's
// preflight, the CORS headers). See docs/browser-apps.md.
//
// Every answer but OPTIONS's 204 is the kit's envelope (package
// envelope), errors included: unknown paths get a 404 envelope, a wrong
// method a 405 envelope with an Allow header, a path with an empty, "." or
// ".." segment a 404 envelope (never a redirect), and request bodies must
// be JSON or, for a plain HTML form, application/x-www-form-urlencoded
// (415 otherwise; the settings merge patch is JSON only), at most
// Options.MaxBodyBytes long (413 otherwise). Every answer carries
// X-Request-Id (middleware.RequestID), and every 5xx is logged with it.
//
// Healthz and Readyz are the liveness and readiness probes, separate
// handlers the app mounts where it likes (docs/operations.md). With
// simpleuser.Config.Metrics set, every request is reported to it with its
// route pattern, status and duration (metrics.Observer.Request).
package handlers
