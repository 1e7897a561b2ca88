package simpleuser

import (
	"net/netip"
	"strings"
)

// Client identifies who is calling: the device id, the address and the
// session token. The middleware fills it from the request; Go callers fill
// it themselves (any field may be empty).
type Client struct {
	SSAID     string     // x-client-ssaid: device/anonymous-user id
	IP        netip.Addr // client address (IPv4-mapped IPv6 unmapped)
	UserAgent string
	Token     string // the session token (x-client-token, Authorization: Bearer or the session cookie), if any
	// AcceptLanguage is the request's Accept-Language header (RFC 9110
	// §12.5.4), handed to the SendCode hook
	// (hooks.SendCodeRequest.AcceptLanguage, cut to MaxAcceptLanguageLength
	// bytes) so that a code is mailed in the reader's language. "" means no
	// preference.
	AcceptLanguage string

	// CookieToken reports that Token came from the session cookie (cookie
	// mode, Config.Browser), not from a header. A browser attaches the
	// cookie by itself, so such a request is what cross-site request
	// forgery abuses: middleware.CSRF checks its origin.
	CookieToken bool
	// CookieSSAID reports that SSAID came from the device cookie, or was
	// minted into it for this request (cookie mode); CSRF checks a
	// token-less request identified that way too (login CSRF).
	CookieSSAID bool
	// TrustedDevice is the device token of "trust this device" (the
	// x-client-trusted-device header, or in cookie mode the trusted-device
	// cookie), if any: a sign-in with a valid one skips the second factor.
	TrustedDevice string
}

// check refuses (400) a malformed ssaid: Go callers fill Client
// themselves, and an ssaid reaches the user store.
func (c Client) check() error {
	if c.SSAID != "" && !ValidSSAID(c.SSAID) {
		return ErrInvalidSSAID
	}
	return nil
}

// MaxAcceptLanguageLength is the longest Accept-Language value the
// SendCode hook receives, in bytes: a longer Client.AcceptLanguage is cut
// after its last whole language range that fits (a range is at most a few
// dozen bytes; 256 leave room for about twenty).
const MaxAcceptLanguageLength = 256

// acceptLanguage returns v cut to MaxAcceptLanguageLength bytes at a comma,
// so that no language range is truncated into another one ("de-CH" into
// "de-C").
func acceptLanguage(v string) string {
	if len(v) <= MaxAcceptLanguageLength {
		return v
	}
	v = v[:MaxAcceptLanguageLength+1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[:i]
	}
	return ""
}

// MaxSSAIDLength is the longest accepted ssaid.
const MaxSSAIDLength = 128

// ValidSSAID reports whether s is a well-formed ssaid: 1 to 128 printable
// ASCII characters (0x21-0x7e; no spaces or control characters).
func ValidSSAID(s string) bool {
	if len(s) == 0 || len(s) > MaxSSAIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// IPBucket is the rate-limit identity of an address: the IPv4 address
// itself, or the /64 prefix of an IPv6 address (one customer usually holds a
// whole /64). An invalid address gives "".
func IPBucket(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
