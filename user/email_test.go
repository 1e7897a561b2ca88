package user_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/simpleuser/simpleuser/user"
)

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"ada@example.com":                          true,
		"  Ada.Lovelace+tag@Example.co.uk ":        true,
		"a@b.io":                                   true,
		"josé@example.com":                         true,
		"jose\u0301@example.com":                   true, // NFD
		"ada@bücher.example":                       true,
		"ada@xn--bcher-kva.example":                true,
		"ada@ab--cd.com":                           true, // a valid host name (RFC 1123)
		"用户@例子.广告":                                 true,
		"アリス@example.jp":                           true,
		"ひらがなカタカナ漢字abc@example.jp":                 true, // Latin + Han + Hiragana + Katakana
		"иван@пример.рф":                           true,
		"ivan.иванов@example.com":                  true, // scripts differ between parts, not within one
		"user@maİl.example.com":                    true, // U+0130: a different host, not an error
		"İsmail@example.com":                       true, // U+0130 in the local part: its own address
		"":                                         false,
		"ada":                                      false,
		"ada@":                                     false,
		"@example.com":                             false,
		"ada@localhost":                            false, // no TLD
		"ada@example.c":                            false, // one-letter TLD
		"ada@123.123.123.123":                      false, // IP domain, numeric TLD
		"ada@[127.0.0.1]":                          false,
		"Ada <ada@example.com>":                    false, // display name
		"\"ada\"@example.com":                      false, // quoted local part
		"ada@exa_mple.com":                         false,
		"ada@-example.com":                         false,
		"ada@example-.com":                         false,
		"ada@example..com":                         false,
		"ada@example.com.":                         false,
		"a b@example.com":                          false,
		"ada@xn--abc.com":                          false, // not valid punycode
		"ada@exa\u200dmple.com":                    false, // ZWJ outside its context (RFC 5892)
		"ada@xn--xn--00-00a.example":               false, // decodes to a label beginning with xn--
		strings.Repeat("a", 65) + "@example.com":   false, // local part > 64
		"ada@" + strings.Repeat("a", 250) + ".com": false, // > 254
		"\u212Aate@example.com":                    false, // KELVIN SIGN: NFC makes it K
		"ｋate@example.com":                         false, // fullwidth
		"ﬁle@example.com":                          false, // ligature
		"ad\u200ba@example.com":                    false, // zero-width space
		"ad\u00ada@example.com":                    false, // soft hyphen (format)
		"ada\ufe0f@example.com":                    false, // variation selector
		"ada\ue000@example.com":                    false, // private use
		"pаypal@example.com":                       false, // Cyrillic а among Latin
		"ada@pаypal.com":                           false, // ... in the domain
		"ada@xn--pypal-4ve.com":                    false, // ... typed as punycode
		"αlpha@example.com":                        false, // Greek α among Latin
		"ada\x00@example.com":                      false,
		"ada\xff@example.com":                      false,
	} {
		if got := user.ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v (CheckEmail: %v)", in, got, want, user.CheckEmail(in))
		}
		if got := user.EmailKey(in) != ""; got != want {
			t.Errorf("EmailKey(%q) = %q: has a key %v, want %v", in, user.EmailKey(in), got, want)
		}
	}
}

func TestCheckEmailErrors(t *testing.T) {
	for in, want := range map[string]error{
		"ada@example.com":       nil,
		"ada@localhost":         user.ErrInvalidEmail,
		"\u212Aate@example.com": user.ErrEmailCharacter,
		"ad\u200ba@example.com": user.ErrEmailCharacter,
		"pаypal@example.com":    user.ErrEmailMixedScript,
		"ada@pаypal.com":        user.ErrEmailMixedScript,
	} {
		err := user.CheckEmail(in)
		if want == nil {
			if err != nil {
				t.Errorf("CheckEmail(%q) = %v, want nil", in, err)
			}
			continue
		}
		if !errors.Is(err, want) || !errors.Is(err, user.ErrInvalidEmail) {
			t.Errorf("CheckEmail(%q) = %v, want %v (and ErrInvalidEmail)", in, err, want)
		}
		if strings.Contains(err.Error(), strings.Split(in, "@")[0]) {
			t.Errorf("CheckEmail(%q) = %q quotes the address", in, err)
		}
	}
	if err := user.CheckEmail("pаypal@example.com"); !strings.Contains(err.Error(), "Cyrillic and Latin") {
		t.Errorf("mixed-script error %q does not name the scripts", err)
	}
	if errors.Is(user.CheckEmail("ada@localhost"), user.ErrEmailMixedScript) {
		t.Error("a syntax error is reported as mixed scripts")
	}
}

// TestEmailKey covers the cases of issue 13 point 1: look-alikes are never
// one account, canonically equivalent spellings always are.
func TestEmailKey(t *testing.T) {
	same := [][]string{
		{"  Ada@Example.COM ", "ada@example.com", "ADA@EXAMPLE.COM"},
		{"jos\u00e9@example.com", "jose\u0301@example.com", "jos\u00e9@EXAMPLE.com"},
		{"ada@bücher.example", "ada@Bücher.example", "ada@xn--bcher-kva.example", "ada@XN--BCHER-KVA.EXAMPLE", "ada@bu\u0308cher.example"},
		{"ada@ｅxample.com", "ada@example.com"}, // fullwidth in the domain: UTS #46 maps it, the mail goes to example.com
		{"J\u030c@example.com", "\u01f0@example.com", "j\u030c@example.com"},
	}
	for _, group := range same {
		k := user.EmailKey(group[0])
		if k == "" {
			t.Errorf("EmailKey(%q) = \"\"", group[0])
			continue
		}
		for _, e := range group[1:] {
			if got := user.EmailKey(e); got != k {
				t.Errorf("EmailKey(%q) = %q, want %q (the key of %q)", e, got, k, group[0])
			}
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"  Ada@Example.COM ", "ada@example.com"},
		{"jose\u0301@example.com", "jos\u00e9@example.com"},
		{"Ada@Bücher.example", "ada@xn--bcher-kva.example"},
		{"Ada@straße.de", "ada@xn--strae-oqa.de"}, // non-transitional: not strasse.de
		{"İsmail@example.com", "İsmail@example.com"},
		{"ÉMILE@example.com", "\u00c9mile@example.com"}, // only ASCII letters fold
		{"user@maİl.example.com", "user@xn--mail-swc.example.com"},
	} {
		if got := user.EmailKey(tc.in); got != tc.want {
			t.Errorf("EmailKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	distinct := [][2]string{
		{"user@maİl.example.com", "user@mail.example.com"},
		{"İsmail@example.com", "ismail@example.com"},
		{"émile@example.com", "Émile@example.com"},
		{"straße@example.com", "strasse@example.com"},
		{"ada@straße.de", "ada@strasse.de"},
		{"ΣΑΣ@example.gr", "σας@example.gr"},
	}
	for _, p := range distinct {
		a, b := user.EmailKey(p[0]), user.EmailKey(p[1])
		if a == "" || b == "" || a == b {
			t.Errorf("EmailKey(%q) = %q, EmailKey(%q) = %q: want two distinct keys", p[0], a, p[1], b)
		}
	}
	// The Kelvin sign has no key at all (NFC would make it the Latin K):
	// it can never reach kate's account.
	if k := user.EmailKey("\u212Aate@example.com"); k != "" {
		t.Errorf("EmailKey(Kelvin-K ate) = %q, want \"\"", k)
	}
	if user.NormalizeEmail("  Ada@Example.COM ") != "Ada@Example.COM" {
		t.Error("NormalizeEmail must only trim")
	}
}

// FuzzEmailKey checks the canonical form on arbitrary input:
//   - a key is a fixed point: valid, and its own key;
//   - a key is NFC, its domain ASCII lower case, its local part free of
//     ASCII capitals;
//   - spellings equal under SPEC §3's rules (NFC/NFD, ASCII case, the
//     domain as A-labels or U-labels) have the key of the original;
//   - changing one non-ASCII letter of the local part into another case
//     (Unicode simple folding) never keeps the key: only ASCII folds;
//   - two inputs with one key are equal under the rules: the same NFC
//     local part up to ASCII case, and domains with one ASCII form.
//   - the key of a printable-ASCII address is its ASCII lower case (what
//     the PostgreSQL guard assumes).
func FuzzEmailKey(f *testing.F) {
	for _, s := range []string{
		"ada@example.com", "Ada@Example.COM", "jose\u0301@example.com", "ada@bücher.example",
		"\u212Aate@example.com", "user@maİl.example.com", "İsmail@example.com", "ÉMILE@xn--bcher-kva.example",
		"J\u030c@example.com", "ΣΑΣ@example.gr", "用户@例子.广告", "a@b", "\"quoted\"@example.com", "<a@b.c>",
	} {
		f.Add(s, "ADA@EXAMPLE.COM")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		k := user.EmailKey(s)
		if (k != "") != user.ValidEmail(s) || (k != "") != (user.CheckEmail(s) == nil) {
			t.Fatalf("EmailKey(%q) = %q disagrees with ValidEmail/CheckEmail (%v)", s, k, user.CheckEmail(s))
		}
		if k == "" {
			return
		}
		if kk := user.EmailKey(k); kk != k {
			t.Fatalf("EmailKey(EmailKey(%q)) = %q, want the key %q", s, kk, k)
		}
		at := strings.LastIndexByte(k, '@')
		kl, kd := k[:at], k[at+1:]
		if !norm.NFC.IsNormalString(k) || strings.IndexFunc(kl, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0 ||
			strings.IndexFunc(kd, func(r rune) bool { return r >= utf8.RuneSelf || 'A' <= r && r <= 'Z' }) >= 0 {
			t.Fatalf("EmailKey(%q) = %q: not NFC with an ASCII lower-case domain and no ASCII capital", s, k)
		}

		e := strings.TrimSpace(s)
		// The key of a printable-ASCII address is the address with A-Z
		// lower-cased: what simpleuser_email_key_ascii computes in SQL and
		// the PostgreSQL guard checks.
		if strings.IndexFunc(e, func(r rune) bool { return r < '!' || r > '~' }) < 0 && k != asciiLower(e) {
			t.Fatalf("EmailKey(%q) = %q, want %q (an ASCII address lower-cased)", s, k, asciiLower(e))
		}
		i := strings.LastIndexByte(e, '@')
		local, domain := e[:i], e[i+1:]
		uni, _ := idna.Lookup.ToUnicode(kd)
		for _, v := range []string{
			norm.NFD.String(e), norm.NFC.String(e), swapASCIICase(norm.NFC.String(e)),
			local + "@" + kd, local + "@" + strings.ToUpper(kd), local + "@" + uni,
		} {
			kv := user.EmailKey(v)
			vl := v[:strings.LastIndexByte(v, '@')]
			if kv != k && (kv != "" || len(v) <= user.MaxEmailLength && len(vl) <= 64) {
				t.Fatalf("EmailKey(%q) = %q, want %q, the key of %q", v, kv, k, s)
			}
		}
		nfcLocal := norm.NFC.String(local)
		for j, r := range nfcLocal {
			if r < utf8.RuneSelf {
				continue
			}
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				v := nfcLocal[:j] + string(f) + nfcLocal[j+utf8.RuneLen(r):] + "@" + domain
				if norm.NFC.String(v) == norm.NFC.String(e) {
					continue
				}
				if user.EmailKey(v) == k {
					t.Fatalf("EmailKey(%q) = EmailKey(%q) = %q: a non-ASCII case change kept the key", v, s, k)
				}
			}
		}

		if user.EmailKey(other) == k {
			o := strings.TrimSpace(other)
			oi := strings.LastIndexByte(o, '@')
			od, _ := idna.Lookup.ToASCII(norm.NFC.String(o[oi+1:]))
			ol := norm.NFC.String(asciiLower(norm.NFC.String(o[:oi])))
			if ol != norm.NFC.String(asciiLower(nfcLocal)) || strings.ToLower(od) != kd {
				t.Fatalf("EmailKey(%q) = EmailKey(%q) = %q, but they differ under the rules", other, s, k)
			}
		}
	})
}

// FuzzValidEmail checks that an accepted address has the shape the
// syntax rules promise.
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
		if len(e) > user.MaxEmailLength || at <= 0 || at > 64 || strings.ContainsAny(e, " \t\r\n<>\"\x00") || !utf8.ValidString(e) {
			t.Fatalf("accepted %q", s)
		}
		k := user.EmailKey(e)
		if !strings.Contains(k[strings.LastIndexByte(k, '@'):], ".") {
			t.Fatalf("accepted a domain without a dot: %q", s)
		}
	})
}

func swapASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// BenchmarkEmailKey: the key of a typical ASCII address and of an
// internationalised one, computed on every request that names an address.
func BenchmarkEmailKey(b *testing.B) {
	for _, e := range []string{"Ada.Lovelace@Example.com", "josé.müller@bücher.example"} {
		b.Run(e, func(b *testing.B) {
			for b.Loop() {
				if user.EmailKey(e) == "" {
					b.Fatal("no key")
				}
			}
		})
	}
}
