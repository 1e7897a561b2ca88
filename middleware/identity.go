package middleware

import (
	"log/slog"
	"net/http"
	"net/netip"
	"unicode/utf8"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
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
	// Logger receives server-side failures. Default: slog.Default().
	Logger *slog.Logger
}

// Identity returns middleware that puts the request's simpleuser.Client in
// the request context (svc.WithClient), where simpleuser.CurrentUser,
// CurrentSession, SSAID and ClientIP find it:
//
//   - SSAID from the x-client-ssaid header. A present but malformed value
//     (more than 128 characters, or anything but printable ASCII) is answered
//     400 at once; an absent or empty header gives SSAID "" (endpoints that
//     need one answer 400 themselves).
//   - Token from x-client-token ("" means none).
//   - UserAgent (at most MaxUserAgentLength bytes) and IP = ClientIP(r, opts.TrustedProxies).
//
// Nothing is read from any store here: the current user is resolved lazily,
// on the first call of simpleuser.CurrentUser, so a request that never asks
// creates no anonymous user.
//
// When the context already carries a client (an outer Identity ran), the
// request passes through unchanged, so stacking Identity twice is harmless.
func Identity(svc *simpleuser.Service, opts Options) func(http.Handler) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	trusted := append([]netip.Prefix(nil), opts.TrustedProxies...)
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
			}
			next.ServeHTTP(w, r.WithContext(svc.WithClient(ctx, c)))
		})
	}
}

// The canonical forms of the identity headers, computed once: Header.Get
// canonicalises its argument on every call.
var (
	ssaidKey = http.CanonicalHeaderKey(HeaderSSAID)
	tokenKey = http.CanonicalHeaderKey(HeaderToken)
)

// header returns the first value of the canonical key k ("" when absent).
func header(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
