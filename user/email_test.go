package user_test

import (
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/user"
)

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"ada@example.com":                        true,
		"  Ada.Lovelace+tag@Example.co.uk ":      true,
		"a@b.io":                                 true,
		"":                                       false,
		"ada":                                    false,
		"ada@":                                   false,
		"@example.com":                           false,
		"ada@localhost":                          false, // no TLD
		"ada@example.c":                          false, // one-letter TLD
		"ada@123.123.123.123":                    false, // IP domain, numeric TLD
		"ada@[127.0.0.1]":                        false,
		"Ada <ada@example.com>":                  false, // display name
		"ada@exa_mple.com":                       false,
		"ada@-example.com":                       false,
		"ada@example..com":                       false,
		"a b@example.com":                        false,
		strings.Repeat("a", 65) + "@example.com": false, // local part > 64
		"ada@" + strings.Repeat("a", 250) + ".com": false, // > 254
	} {
		if got := user.ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestEmailKey(t *testing.T) {
	if user.EmailKey("  Ada@Example.COM ") != "ada@example.com" || user.NormalizeEmail("  Ada@Example.COM ") != "Ada@Example.COM" {
		t.Fatal("EmailKey must trim and lower-case; NormalizeEmail only trim")
	}
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"ada@example.com", "a@b", "\"quoted\"@example.com", "ada@ex\u00e4mple.com", "<a@b.c>", "a@b.c\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !user.ValidEmail(s) {
			return
		}
		e := strings.TrimSpace(s)
		at := strings.LastIndexByte(e, '@')
		if len(e) > user.MaxEmailLength || at <= 0 || at > 64 || strings.ContainsAny(e, " \t\r\n<>") {
			t.Fatalf("accepted %q", s)
		}
		if !strings.Contains(e[at+1:], ".") {
			t.Fatalf("accepted a domain without a dot: %q", s)
		}
	})
}
