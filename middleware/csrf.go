package middleware

import (
	"net/http"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
)

// CSRF returns middleware that refuses cross-site request forgery: a
// state-changing request (any method but GET, HEAD and OPTIONS: POST,
// PUT, PATCH, DELETE...) that the kit's cookies identify and that comes
// from another origin is answered 403 with data.code CSRF
// (simpleuser.ErrCrossOrigin), and next does not run, so nothing changes.
//
// The origin check is net/http's CrossOriginProtection (the browser's
// Sec-Fetch-Site header, else Origin against Host; requests with neither
// come from no browser and pass), trusting the origins in svc's
// Config.Browser.TrustedOrigins. It applies to the requests that cookies
// identify, as Identity recorded (it must run inside Identity):
//
//   - a token from the session cookie (Client.CookieToken): the browser
//     attached the victim's session by itself;
//   - no token at all and the ssaid from the device cookie, present or
//     just minted (Client.CookieSSAID): a cross-site POST /login with the
//     attacker's credentials would otherwise sign the victim's browser into
//     the attacker's account and set its session cookie (login CSRF, OWASP
//     CSRF Prevention Cheat Sheet), or send codes and cooldowns in the
//     victim device's name.
//
// A request carrying its token in x-client-token or Authorization: Bearer,
// or its ssaid in x-client-ssaid without a cookie token, is left alone: a
// page on another origin can only send such headers after a CORS preflight
// that the API answered for a trusted origin (middleware.CORS), so they
// prove the request is not forged. Outside Identity (no client in the
// context) every state-changing request is checked. With cookie mode off
// no request is identified by cookies, and CSRF lets everything through.
//
// The JSON API (handlers.New) mounts it by itself in cookie mode; an app
// mounts it, inside Identity, around its own state-changing routes.
func CSRF(svc *simpleuser.Service) func(http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range svc.Config().Browser.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			panic("middleware: CSRF: " + err.Error()) // unreachable: simpleuser.New checked every origin
		}
	}
	log := svc.Config().Logger
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, ok := simpleuser.ClientFrom(r.Context()); !ok || c.CookieToken || (c.Token == "" && c.CookieSSAID) {
				if err := cop.Check(r); err != nil {
					envelope.Error(w, r, log, simpleuser.ErrCrossOrigin)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
