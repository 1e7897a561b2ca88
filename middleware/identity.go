package middleware

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
)

// Request headers read by Identity.
const (
	HeaderSSAID = "x-client-ssaid"
	HeaderToken = "x-client-token"
)

// MaxUserAgentLength is the longest user agent kept in the client (and so
// in a session), in bytes; longer values are cut at a character boundary.
const MaxUserAgentLength = 512

// Options configures Identity.
type Options struct {
	// TrustedProxies are the networks of the reverse proxies in front of the
	// app. X-Forwarded-For and X-Real-IP are honoured only when the TCP peer
	// is inside one of them (see ClientIP). Default: none.
	TrustedProxies []netip.Prefix
	// Logger receives server-side failures, each line with its request id
	// (logging.Handler). Default: slog.Default().
	Logger *slog.Logger
}

// Identity returns middleware that puts the request's simpleuser.Client in
// the request context (svc.WithClient), where simpleuser.CurrentUser,
// CurrentSession, SSAID and ClientIP find it:
//
//   - SSAID from the x-client-ssaid header. A present but malformed value
//     (more than 128 characters, or anything but printable ASCII) is answered
//     400 at once; an absent or empty header gives SSAID "" (endpoints that
//     need one answer 400 themselves), except in cookie mode (below).
//   - Token, from the first of these that carries one: the x-client-token
//     header, then an Authorization header with the Bearer scheme (RFC 6750
//     §2.1; the scheme name in any case), then, in cookie mode, the session
//     cookie. "" means none. A header always wins over the cookie, so an
//     API client's explicit token is never overridden by a cookie its
//     browser happens to hold.
//   - UserAgent (at most MaxUserAgentLength bytes) and IP = ClientIP(r, opts.TrustedProxies).
//   - AcceptLanguage, the Accept-Language header, for the language of the
//     codes mailed (hooks.SendCodeRequest.AcceptLanguage).
//
// In cookie mode (svc's Config.Browser.CookieMode), a request without
// x-client-ssaid takes its ssaid from the device cookie; a browser request
// (one carrying Sec-Fetch-Site) with neither gets a new device id, minted
// here once and set in the device cookie. Client.CookieToken and
// CookieSSAID record where the credentials came from (CSRF checks those
// from cookies), and a response to a request whose cookie token was looked
// up and refused (401 INVALID_TOKEN) also clears the session cookie.
//
// Nothing is read from any store here: the current user is resolved lazily,
// on the first call of simpleuser.CurrentUser, so a request that never asks
// creates no anonymous user.
//
// When the context already carries a client (an outer Identity ran), the
// request passes through unchanged, so stacking Identity twice is harmless.
func Identity(svc *simpleuser.Service, opts Options) func(http.Handler) http.Handler {
	log := logging.Logger(opts.Logger)
	trusted := append([]netip.Prefix(nil), opts.TrustedProxies...)
	browser := svc.Config().Browser
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if _, ok := simpleuser.ClientFrom(ctx); ok {
				next.ServeHTTP(w, r)
				return
			}
			ssaid := header(r.Header, ssaidKey)
			if ssaid != "" && !simpleuser.ValidSSAID(ssaid) {
				envelope.Error(w, r, log, simpleuser.ErrInvalidSSAID)
				return
			}
			ua := r.UserAgent()
			if len(ua) > MaxUserAgentLength {
				cut := MaxUserAgentLength
				for cut > 0 && !utf8.RuneStart(ua[cut]) {
					cut-- // never split a character
				}
				ua = ua[:cut]
			}
			c := simpleuser.Client{
				SSAID:     ssaid,
				Token:     header(r.Header, tokenKey),
				UserAgent: ua,
				IP:        ClientIP(r, trusted),
				// For the SendCode hook's choice of language.
				AcceptLanguage: header(r.Header, acceptLanguageKey),
			}
			if c.Token == "" {
				c.Token = bearerToken(r.Header)
			}
			if browser.CookieMode {
				fromCookies(w, r, &browser, &c)
			}
			r = r.WithContext(svc.WithClient(ctx, c))
			if c.CookieToken {
				w = &cookieWriter{ResponseWriter: w, r: r, svc: svc}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// The canonical forms of the identity headers, computed once: Header.Get
// canonicalises its argument on every call.
var (
	ssaidKey = http.CanonicalHeaderKey(HeaderSSAID)
	tokenKey = http.CanonicalHeaderKey(HeaderToken)

	acceptLanguageKey = http.CanonicalHeaderKey("Accept-Language")
)

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (RFC 6750 §2.1: the scheme name is case-insensitive, RFC 9110
// §11.1, and one or more spaces follow it), or "" when the header is
// absent, uses another scheme (Basic...) or carries no token.
func bearerToken(h http.Header) string {
	v := header(h, "Authorization")
	const scheme = "Bearer"
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) || v[len(scheme)] != ' ' {
		return ""
	}
	return strings.TrimRight(strings.TrimLeft(v[len(scheme):], " "), " ")
}

// header returns the first value of the canonical key k ("" when absent).
func header(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
