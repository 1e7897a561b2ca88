// Package phone parses phone numbers as people type them into E.164, the
// form the kit stores and keys codes by (ITU-T E.164: "+", country code,
// national number, at most 15 digits). Parsing and validation use
// github.com/nyaruka/phonenumbers, a port of Google's libphonenumber, so a
// number is accepted only when its country's numbering plan has it.
package phone

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// MaxInputLength bounds what Parse reads, in bytes: libphonenumber's own
// limit on a number's text (250) is larger than anything a person types.
const MaxInputLength = 64

// Errors Parse returns; each message is client-facing.
var (
	// ErrInvalid means the text is not a phone number of any numbering
	// plan, or not one that plan assigns (too short, too long, no such
	// range).
	ErrInvalid = errors.New("phone must be a valid phone number")
	// ErrNoRegion means the number has no "+" country code and no default
	// region was configured to read it in.
	ErrNoRegion = errors.New("phone must start with + and the country code")
)

// Parse reads number as typed ("+1 415-555-0100", "06 12 34 56 78"), in
// defaultRegion (an ISO 3166-1 alpha-2 code such as "FR") when it has no
// "+" country code, and returns it in E.164 ("+33612345678"). Errors:
// ErrInvalid, ErrNoRegion.
func Parse(number, defaultRegion string) (string, error) {
	number = strings.TrimSpace(number)
	if number == "" || len(number) > MaxInputLength || !utf8.ValidString(number) || strings.ContainsRune(number, 0) {
		return "", ErrInvalid
	}
	region := strings.ToUpper(defaultRegion)
	if !strings.HasPrefix(number, "+") && (region == "" || region == "ZZ") {
		return "", ErrNoRegion
	}
	if region == "" {
		region = "ZZ" // unknown: the number must carry its country code
	}
	n, err := phonenumbers.Parse(number, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// ValidRegion reports whether region is a region phonenumbers knows (an
// ISO 3166-1 alpha-2 code with a numbering plan), or "" (no default).
func ValidRegion(region string) bool {
	if region == "" {
		return true
	}
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}

// Config configures phone numbers in simpleuser.Config.Phone.
type Config struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region ("US", "FR") a number
	// typed without "+" and country code is read in; "" (default): every
	// number must carry its country code (400 otherwise).
	DefaultRegion string
}

// Key is the key under which codes, cooldowns and attempt counts of the
// number e164 are kept: distinct from every email key (those hold an
// "@", and never start with "tel:").
func Key(e164 string) string { return "tel:" + e164 }
