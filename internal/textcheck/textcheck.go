// Package textcheck tells whether text can be stored by every backend of
// the kit: valid UTF-8 without NUL characters (U+0000) or unpaired UTF-16
// surrogate escapes.
//
// PostgreSQL's text and jsonb refuse a NUL (SQLSTATE 22021 for text, 22P05
// for jsonb's \u0000) and invalid UTF-8 (22021), and jsonb refuses an
// unpaired surrogate escape such as "\ud800"; the in-memory stores take
// anything, and encoding/json silently turns invalid UTF-8 and unpaired
// surrogates into U+FFFD. So the kit refuses such text at its edge (SPEC §3:
// 400 INVALID_INPUT, nothing written, no code consumed), and every backend
// answers alike.
package textcheck

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String reports whether s is valid UTF-8 without a NUL character.
func String(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// JSON reports whether the JSON text b is valid UTF-8, holds no raw NUL
// byte, and has no string (member name or value) whose \u escapes decode
// to a NUL or an unpaired UTF-16 surrogate (RFC 8259 §7, §8.2). It does not
// otherwise check that b is valid JSON: the decoder does that.
func JSON(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		// Outside strings a backslash is a syntax error the decoder
		// reports; inside one it starts an escape.
		if i+1 >= len(b) {
			return true
		}
		if b[i+1] != 'u' {
			i++ // \" \\ \/ \b ...: skip the escaped character
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			return true // malformed: the decoder reports it
		}
		switch {
		case r == 0:
			return false
		case r >= 0xDC00 && r <= 0xDFFF: // a low surrogate without its high one
			return false
		case r >= 0xD800 && r <= 0xDBFF: // a high surrogate: a low one must follow
			if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return false
			}
			lo, ok := hex4(b, i+8)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Value reports whether every string in v passes String: v itself when it
// is a string, and, recursively, every member name and value of a
// map[string]any and every element of a []any (the shapes encoding/json
// decodes into). Other types pass.
func Value(v any) bool {
	switch t := v.(type) {
	case string:
		return String(t)
	case map[string]any:
		for k, e := range t {
			if !String(k) || !Value(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !Value(e) {
				return false
			}
		}
	case []string:
		for _, e := range t {
			if !String(e) {
				return false
			}
		}
	case map[string]string:
		for k, e := range t {
			if !String(k) || !String(e) {
				return false
			}
		}
	}
	return true
}

// MaxUserAgent is the longest user agent kept in a session, in bytes
// (middleware.MaxUserAgentLength cuts HTTP requests' to the same length).
const MaxUserAgent = 512

// UserAgent makes a client's user agent storable: cut to
// MaxUserAgent bytes on a character boundary, invalid UTF-8 replaced
// with U+FFFD and control characters dropped. It is informational (shown
// in a user's list of sessions), so it is tidied rather than refused.
func UserAgent(ua string) string {
	if len(ua) > MaxUserAgent {
		cut := MaxUserAgent
		for cut > 0 && !utf8.RuneStart(ua[cut]) {
			cut--
		}
		ua = ua[:cut]
	}
	if String(ua) && !strings.ContainsFunc(ua, isControl) {
		return ua
	}
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, ua)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Name checks a name a user gives to a thing of theirs (an authenticator,
// a passkey) and returns it trimmed of surrounding white space. It
// reports false for invalid UTF-8, more than max characters (code points,
// as JSON Schema's maxLength counts them) or any control, format or
// separator character other than the space: the invisible ones
// (zero-width space U+200B, the bidirectional overrides U+202A–U+202E,
// U+0085) would let two names that look the same coexist, or make one
// look like another when listed.
func Name(name string, max int) (string, bool) {
	name = strings.TrimSpace(name)
	if !String(name) || utf8.RuneCountInString(name) > max {
		return "", false
	}
	for _, r := range name {
		if r != ' ' && (unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || unicode.IsSpace(r)) {
			return "", false
		}
	}
	return name, true
}

// MaxDepth is how deeply the JSON the kit stores for users (metadata,
// settings, the signup payload) may nest objects and arrays: deep enough
// for any real document, shallow enough that every JSON tool reads it back
// (jq, for one, stops at 10,000 levels; many parsers far sooner).
const MaxDepth = 32

// Depth returns how deeply the JSON text b nests objects and arrays: 0 for
// a scalar, 1 for {"a":1}, 2 for {"a":[1]}. b must be valid JSON.
func Depth(b []byte) int {
	depth, max, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++ // the escaped character
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}
