package middleware

import (
	"net/http"
	"time"

	"github.com/rs/cors"
	"github.com/simpleuser/simpleuser"
)

// corsAllowedHeaders are the request headers a page on a trusted origin
// may send (Access-Control-Allow-Headers): the identity headers and the
// body's type.
var corsAllowedHeaders = []string{HeaderSSAID, HeaderToken, "Authorization", "Content-Type"}

// corsExposedHeaders are the response headers such a page may read
// (Access-Control-Expose-Headers) beyond the CORS-safelisted ones:
// Retry-After, which every 429 (and busy 503) carries.
var corsExposedHeaders = []string{"Retry-After"}

// corsMethods are the methods allowed cross-origin: the API's and the
// usual ones of an app's own routes.
var corsMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// CORS returns middleware implementing Cross-Origin Resource Sharing (the
// Fetch standard's CORS protocol) for the origins in svc's
// Config.Browser.TrustedOrigins, with github.com/rs/cors:
//
//   - a request whose Origin is listed gets Access-Control-Allow-Origin
//     (that origin, never "*"), Access-Control-Allow-Credentials: true (the
//     page may send cookies and read the answer), and
//     Access-Control-Expose-Headers: Retry-After;
//   - a preflight (OPTIONS with Access-Control-Request-Method) is answered
//     204 here, without calling next: for a listed origin with the method
//     and headers it asked for when they are allowed (methods GET, HEAD,
//     POST, PUT, PATCH, DELETE; headers x-client-ssaid, x-client-token,
//     Authorization, Content-Type) and Access-Control-Max-Age
//     (Config.Browser.CORSMaxAge); for any other origin with no CORS header
//     at all, which the browser takes as a refusal;
//   - any other origin's request gets no CORS header (the browser then
//     hides the answer from the page) and is served as usual;
//   - every answer carries Vary: Origin (and a preflight's the
//     Access-Control-Request-* names), so caches keep answers apart.
//
// With no trusted origin, CORS returns next unchanged. Mount it outside
// Identity (a preflight carries no credentials and needs no identity):
// Recover(CORS(Identity(...))). The JSON API (handlers.New) mounts it by
// itself when origins are configured; an app mounting it around its whole
// mux should put the API inside the same chain once.
func CORS(svc *simpleuser.Service) func(http.Handler) http.Handler {
	b := svc.Config().Browser
	if len(b.TrustedOrigins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	maxAge := int(b.CORSMaxAge / time.Second)
	if maxAge <= 0 {
		maxAge = -1 // rs/cors: send Access-Control-Max-Age: 0
	}
	c := cors.New(cors.Options{
		AllowedOrigins:   b.TrustedOrigins,
		AllowedMethods:   corsMethods,
		AllowedHeaders:   corsAllowedHeaders,
		ExposedHeaders:   corsExposedHeaders,
		AllowCredentials: true,
		MaxAge:           maxAge,
	})
	return c.Handler
}
