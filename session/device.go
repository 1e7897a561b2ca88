package session

import (
	"strings"
	"unicode/utf8"

	"github.com/mileusna/useragent"
)

// maxDevice is the longest Device label, in bytes.
const maxDevice = 48

// Device returns a short label of the client a user agent names, for a
// person choosing which session to end: "Firefox on Linux", "Safari on
// iOS", "Chrome on Android", or the client alone when no operating system
// is named ("curl", "okhttp"); "" for an empty user agent. The browser and
// system names are github.com/mileusna/useragent's. An unrecognised user
// agent gives its first words, cut to 48 bytes (with "…"), never invalid
// UTF-8 or control characters.
func Device(userAgent string) string {
	if strings.TrimSpace(userAgent) == "" {
		return ""
	}
	ua := useragent.Parse(userAgent)
	name, os := clean(ua.Name), clean(ua.OS)
	label := name
	switch {
	case name == "":
		label = os
	case os != "":
		label = name + " on " + os
	}
	if len(label) > maxDevice {
		cut := maxDevice - len("…")
		for cut > 0 && !utf8.RuneStart(label[cut]) {
			cut--
		}
		label = strings.TrimSpace(label[:cut]) + "…"
	}
	return label
}

// clean drops invalid UTF-8 and control characters and trims s.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return strings.TrimSpace(s)
}
