package user

import (
	"net/mail"
	"strings"
)

// MaxEmailLength is the longest accepted address (RFC 5321 path limit).
const MaxEmailLength = 254

// ValidEmail reports whether email (after trimming) is a plain address
// "local@domain": at most 254 bytes, a local part of at most 64, no display
// name, and a domain with a dot-separated TLD.
func ValidEmail(email string) bool {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > MaxEmailLength {
		return false
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:at], email[at+1:]
	if len(local) > 64 || len(domain) > 253 {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && !isDigits(tld)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
