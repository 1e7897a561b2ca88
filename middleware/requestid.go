package middleware

import (
	"crypto/rand"
	"net/http"
	"net/netip"

	"github.com/simpleuser/simpleuser/logging"
)

// HeaderRequestID is the header that carries a request's id: read from
// requests sent by a trusted proxy, written on every response.
const HeaderRequestID = "X-Request-Id"

// MaxRequestIDLength is the longest request id taken from a proxy, in
// bytes: room for the ids proxies and platforms generate (a UUID is 36,
// nginx's $request_id 32, Heroku's up to 200).
const MaxRequestIDLength = 200

var requestIDKey = http.CanonicalHeaderKey(HeaderRequestID)

// RequestID returns middleware that gives every request an id, puts it in
// the request context (logging.RequestID reads it, and
// logging.Handler adds it to every line logged with that context as
// request_id) and sets it on the response as X-Request-Id, before next
// runs.
//
// The id is the request's X-Request-Id header when the TCP peer is inside
// one of the trusted proxy prefixes (the same rule as ClientIP: only a
// proxy the app trusts may name the request, so its id matches the
// proxy's own logs) and the value is well formed (ValidRequestID).
// Otherwise, and always for a peer outside trusted, a new id is generated:
// 128 bits from crypto/rand written as 26 base32 characters
// (crypto/rand.Text). A client can thus never choose the id its request
// is logged under.
//
// When the context already carries an id (an outer RequestID ran), the
// request passes through unchanged, so stacking it is harmless:
// handlers.New mounts it, and an app mounts it outermost, around Recover,
// so that every line of a request, panics included, carries the id.
func RequestID(trusted []netip.Prefix) func(http.Handler) http.Handler {
	trusted = append([]netip.Prefix(nil), trusted...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if logging.RequestID(ctx) != "" {
				next.ServeHTTP(w, r)
				return
			}
			id := ""
			if v := header(r.Header, requestIDKey); v != "" && ValidRequestID(v) && len(trusted) > 0 {
				if peer := parsePeer(r.RemoteAddr); peer.IsValid() && contains(trusted, peer) {
					id = v
				}
			}
			if id == "" {
				id = rand.Text()
			}
			w.Header().Set(HeaderRequestID, id)
			next.ServeHTTP(w, r.WithContext(logging.WithRequestID(ctx, id)))
		})
	}
}

// ValidRequestID reports whether s may be taken as a request id: 1 to
// MaxRequestIDLength bytes of visible ASCII (0x21 to 0x7E; no space or
// control character), so it can be logged and echoed in a header as it is.
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
