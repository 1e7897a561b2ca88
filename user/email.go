package user

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// MaxEmailLength is the longest accepted address in bytes, both as typed and
// as its key (RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, two of
// them the angle brackets).
const MaxEmailLength = 254

// maxLocalLength is the longest local part in bytes (RFC 5321 §4.5.3.1.1).
const maxLocalLength = 64

// Errors CheckEmail returns. ErrEmailMixedScript and ErrEmailCharacter wrap
// ErrInvalidEmail, so errors.Is(err, ErrInvalidEmail) holds for every
// refused address; the narrower two let an API say why.
var (
	// ErrInvalidEmail means the string is not a plain address local@domain
	// within the length limits, or its domain is not a valid internationalised
	// domain name (UTS #46). A Store returns it when asked to store an address
	// that has no key.
	ErrInvalidEmail = errors.New("user: invalid email address")
	// ErrEmailMixedScript means a dot-separated part of the local part or a
	// label of the domain mixes scripts beyond UTS #39's "Highly Restrictive"
	// level (e.g. Latin with Cyrillic or Greek, as in a look-alike "pаypal"
	// with a Cyrillic а).
	ErrEmailMixedScript = fmt.Errorf("%w: a part of the address mixes scripts", ErrInvalidEmail)
	// ErrEmailCharacter means the local part holds a character that is
	// invisible (a control or format character, a variation selector, a
	// default-ignorable code point), unassigned or private-use, or that
	// Unicode normalisation (NFKC) replaces by another, such as U+212A KELVIN
	// SIGN (which NFC turns into the Latin K), fullwidth letters or
	// ligatures: UTS #39 §3.1 restricts them (Identifier_Type Not_NFKC,
	// Default_Ignorable). Such a character either makes a look-alike of
	// another address or names a different mailbox than its normal form.
	ErrEmailCharacter = fmt.Errorf("%w: the local part holds a character that is invisible or not in normal form", ErrInvalidEmail)
)

// NormalizeEmail trims surrounding white space; the result is what is
// stored ("as typed"). It does not make addresses comparable: EmailKey does.
func NormalizeEmail(email string) string { return strings.TrimSpace(email) }

// EmailKey is the identity of an address, the one canonical form every
// comparison, look-up and rate-limit key uses (SPEC §3):
//
//   - the trimmed address in Unicode NFC (UAX #15), split at its last '@';
//   - the domain in its ASCII form (punycode A-labels, RFC 5891), mapped as
//     resolvers map it (UTS #46, see idnaProfile), and lower-cased;
//   - the local part with the ASCII letters A-Z lower-cased and nothing
//     else: no Unicode case folding, so "K" (U+212A KELVIN SIGN) or
//     "İ" (U+0130) never fold onto an ASCII letter. (RFC 5321 leaves the
//     local part to the receiving host; folding ASCII case is what nearly
//     every host does.)
//
// Addresses with one key are one account: "josé" typed in NFD or NFC, "Ada"
// and "ada", "bücher.example" and "xn--bcher-kva.example". EmailKey returns
// "" for an address CheckEmail refuses, and only for those: ValidEmail(e)
// is EmailKey(e) != "". A key is itself a valid address whose key is
// itself.
func EmailKey(email string) string {
	k, _ := emailKey(email)
	return k
}

// ValidEmail reports whether CheckEmail accepts email.
func ValidEmail(email string) bool {
	_, err := emailKey(email)
	return err == nil
}

// CheckEmail reports why email (after trimming) is not an acceptable
// address, or nil. It accepts a plain address local@domain (RFC 5322
// addr-spec without a display name, a quoted local part or a domain
// literal; UTF-8 allowed as RFC 6532 allows) where:
//
//   - the address is at most 254 bytes and the local part at most 64, both
//     as typed and as EmailKey's form;
//   - the domain is a valid internationalised domain name under UTS #46
//     (non-transitional, STD3 rules, Bidi and ContextJ rules, DNS lengths),
//     whose ASCII form has at least two labels, each of letters, digits and
//     inner hyphens, and a top-level label of two or more characters, not
//     all digits;
//   - the local part holds no invisible, unassigned, private-use or
//     compatibility character (ErrEmailCharacter);
//   - no dot-separated part of the local part and no label of the domain
//     mixes scripts beyond UTS #39 §5.2 "Highly Restrictive": one script,
//     or Latin with Han and Hiragana/Katakana, Han and Bopomofo, or Han and
//     Hangul; characters of the Common and Inherited scripts (digits,
//     punctuation, combining marks) go with any (ErrEmailMixedScript).
//
// Errors wrap ErrInvalidEmail; the narrower ErrEmailCharacter and
// ErrEmailMixedScript name those two rules. The messages never quote the
// address.
func CheckEmail(email string) error {
	_, err := emailKey(email)
	return err
}

// idnaProfile maps and checks a domain the way a resolver looking it up
// does (UTS #46 processing, as idna.Lookup): so the key names the host the
// mail really goes to, and two spellings of one host ("Bücher.example",
// "xn--bcher-kva.example", fullwidth letters) are one account while a
// different host ("maİl.example.com", whose U+0130 maps to "i̇", not to
// "i") is not. Deliberate differences from idna.Lookup:
//
//   - non-transitional (as Lookup today, spelled out): "ß" and "ς" stay
//     themselves, as IDNA2008 and current browsers have them, instead of
//     becoming "ss" and "σ", which name other hosts;
//   - CheckHyphens off: a label like "ab--cd" is a valid host name (RFC
//     1123) that mail can reach; the leading and trailing hyphen rules are
//     enforced on the ASCII form by validDomain instead;
//   - VerifyDNSLength on: a domain whose ASCII form cannot be looked up (a
//     label over 63 bytes, a name over 253) is not an address.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.VerifyDNSLength(true),
)

// emailKey computes EmailKey and CheckEmail's answer.
func emailKey(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	}
	if len(email) > MaxEmailLength || !utf8.ValidString(email) {
		return "", fmt.Errorf("%w: longer than %d bytes or not UTF-8", ErrInvalidEmail, MaxEmailLength)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return "", fmt.Errorf("%w: not a plain address local@domain", ErrInvalidEmail)
	}
	at := strings.LastIndexByte(email, '@')
	local := email[:at]
	if len(local) > maxLocalLength {
		return "", fmt.Errorf("%w: local part longer than %d bytes", ErrInvalidEmail, maxLocalLength)
	}
	if !allowedLocal(local) {
		return "", ErrEmailCharacter
	}

	// The key. NFC first, so canonically equivalent spellings meet; then
	// the ASCII letters of the local part are lower-cased, and NFC applied
	// again, because a lower-cased letter may compose with a following mark
	// where the capital did not ("J" + U+030C has no precomposed form, "j"
	// + U+030C is "ǰ").
	nfc := norm.NFC.String(email)
	at = strings.LastIndexByte(nfc, '@')
	keyLocal := norm.NFC.String(asciiLower(nfc[:at]))
	keyDomain, err := idnaProfile.ToASCII(nfc[at+1:])
	if err != nil {
		return "", fmt.Errorf("%w: the domain is not a valid domain name", ErrInvalidEmail)
	}
	keyDomain = asciiLower(keyDomain)
	if !validDomain(keyDomain) {
		return "", fmt.Errorf("%w: the domain is not a valid host name with a top-level domain", ErrInvalidEmail)
	}
	key := keyLocal + "@" + keyDomain
	if len(keyLocal) > maxLocalLength || len(key) > MaxEmailLength {
		return "", fmt.Errorf("%w: longer than %d bytes in canonical form", ErrInvalidEmail, MaxEmailLength)
	}

	// Scripts: each dot-separated part of the local part, and each label
	// of the domain as a reader sees it (the Unicode form of the key's
	// domain, after UTS #46 mapping).
	for part := range strings.SplitSeq(keyLocal, ".") {
		if err := checkScripts(part); err != nil {
			return "", err
		}
	}
	if strings.Contains(keyDomain, "xn--") {
		uni, err := idnaProfile.ToUnicode(keyDomain)
		if err != nil { // cannot happen: keyDomain came out of ToASCII
			return "", fmt.Errorf("%w: the domain is not a valid domain name", ErrInvalidEmail)
		}
		for label := range strings.SplitSeq(uni, ".") {
			// UTS #46 §4.1 step 2: without CheckHyphens, a label may
			// still not begin with "xn--" once decoded (it would decode
			// again, so its two forms would not be one domain).
			if strings.HasPrefix(label, "xn--") {
				return "", fmt.Errorf("%w: the domain is not a valid domain name", ErrInvalidEmail)
			}
			if err := checkScripts(label); err != nil {
				return "", err
			}
		}
	}
	return key, nil
}

// asciiLower lower-cases the ASCII letters A-Z of s and nothing else.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// allowedLocal reports whether every non-ASCII character of the local part
// is visible and stable under normalisation: printable (so not a control,
// format, private-use or unassigned code point, nor a space other than
// U+0020), not a default-ignorable code point or variation selector, and
// unchanged by NFKC on its own (UTS #39 Identifier_Type Not_NFKC: U+212A
// KELVIN SIGN, U+2126 OHM SIGN, fullwidth forms, ligatures, superscripts,
// CJK compatibility ideographs...). Combining marks pass: NFD-typed text is
// accepted and composed.
func allowedLocal(local string) bool {
	for _, r := range local {
		if r < utf8.RuneSelf {
			continue // net/mail already allowed only atext and dots
		}
		if !unicode.IsPrint(r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
			unicode.Is(unicode.Variation_Selector, r) {
			return false
		}
		var buf [utf8.UTFMax]byte
		s := buf[:utf8.EncodeRune(buf[:], r)]
		if !norm.NFKC.IsNormal(s) {
			return false
		}
	}
	return true
}

// validDomain reports whether d, an ASCII domain, has two or more labels of
// letters, digits and hyphens (RFC 1123 §2.1), none starting or ending with
// a hyphen, and a top-level label of two or more characters that are not
// all digits (so no IP address and no bare host).
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
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
