package textcheck

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for s, want := range map[string]bool{
		"":              true,
		"plain":         true,
		"josé 日本 🙂":     true,
		"a\x00b":        false,
		"\x00":          false,
		"bad \xff byte": false,
		"cut \xe6\x97":  false, // a multi-byte sequence cut short
		"\ufffd":        true,  // the replacement character itself is fine
	} {
		if got := String(s); got != want {
			t.Errorf("String(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	for b, want := range map[string]bool{
		`{"a":"b"}`:                    true,
		`{"a":"\u0000"}`:               false,
		`{"\u0000":1}`:                 false, // a member name
		`["x\u0000y"]`:                 false,
		`{"a":"\\u0000"}`:              true, // a backslash, then the text u0000
		`{"a":"\\\u0000"}`:             false,
		`{"a":"\u00e9\u0041"}`:         true,
		`{"a":"\ud83d\ude42"}`:         true,  // a surrogate pair (🙂)
		`{"a":"\ud83d"}`:               false, // high surrogate alone
		`{"a":"\ud83dx"}`:              false,
		`{"a":"\ud83d\u0041"}`:         false, // high surrogate, then no low one
		`{"a":"\ude42"}`:               false, // low surrogate alone
		`{"a":"\uDE42"}`:               false,
		"{\"a\":\"\x00\"}":             false, // raw NUL (invalid JSON anyway)
		"{\"a\":\"\xff\"}":             false, // invalid UTF-8
		`{"a":"\u12"}`:                 true,  // malformed: left to the decoder
		`{"a":"ok\"\u0000"}`:           false,
		`{"a":"ok\\"}`:                 true,
		`{"t":"\t\n\r\"\\\/\b\f"}`:     true,
		`{"a":"\ud83d\ude42\u0000"}`:   false,
		`{"n":[1,2,{"k":"\u0001"}]}`:   true, // control characters other than NUL are stored fine
		`"trailing backslash \`:        true,
		`{"a":"\U0000"}`:               true, // not an escape JSON knows: the decoder refuses it
		`{"a":"é"}`:                    true,
		`{"a":"` + "\u2028" + `"}`:     true,
		`{"deep":{"deeper":"\u0000"}}`: false,
	} {
		if got := JSON([]byte(b)); got != want {
			t.Errorf("JSON(%s) = %v, want %v", b, got, want)
		}
	}
}

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{nil, true},
		{42.0, true},
		{"ok", true},
		{"a\x00", false},
		{map[string]any{"a": "b", "n": 1.0, "l": []any{"x", map[string]any{"k": true}}}, true},
		{map[string]any{"a\x00": "b"}, false},
		{map[string]any{"a": []any{"x", map[string]any{"k": "\xff"}}}, false},
		{[]string{"a", "b\x00"}, false},
		{map[string]string{"k": "v"}, true},
		{map[string]string{"k": "v\x00"}, false},
	} {
		if got := Value(tc.v); got != tc.want {
			t.Errorf("Value(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// FuzzJSON checks JSON against encoding/json: a JSON text that JSON
// accepts decodes (when valid) into strings String accepts, and a valid
// UTF-8 string round-trips through json.Marshal with the same verdict as
// String gives it.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `["\ud800"]`, `{"k":"\\u0000"}`, `"\ud83d\ude42"`, "x", `{"\u0000":0}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		var v any
		if JSON(b) && json.Unmarshal(b, &v) == nil && !Value(v) {
			t.Fatalf("JSON accepted %q, which decodes to %#v", s, v)
		}
		if utf8.ValidString(s) {
			enc, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if JSON(enc) != String(s) {
				t.Fatalf("JSON(%s) = %v, String(%q) = %v", enc, JSON(enc), s, String(s))
			}
		}
		if json.Valid(b) && utf8.Valid(b) && !strings.Contains(s, `\u`) && !JSON(b) {
			t.Fatalf("JSON refused valid JSON %q without \\u escapes", s)
		}
	})
}

func TestUserAgent(t *testing.T) {
	long := strings.Repeat("a", MaxUserAgent-1) + "é" // é straddles the limit
	for in, want := range map[string]string{
		"Mozilla/5.0 (X11)": "Mozilla/5.0 (X11)",
		"a\x00b\tc\x7fd\n":  "abcd",
		"bad\xffutf8":       "bad\uFFFDutf8",
		long:                strings.Repeat("a", MaxUserAgent-1),
	} {
		got := UserAgent(in)
		if got != want {
			t.Errorf("UserAgent(%.20q…) = %.20q…, want %.20q…", in, got, want)
		}
		if len(got) > MaxUserAgent || !String(got) {
			t.Errorf("UserAgent(%.20q…) is not storable: %d bytes", in, len(got))
		}
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"  Phone ":              "Phone",
		"Work laptop":           "Work laptop",
		strings.Repeat("😀", 64): strings.Repeat("😀", 64), // 64 characters, 256 bytes
		"Téléphone de Zoë":      "Téléphone de Zoë",
		"":                      "",
	} {
		if got, ok := Name(in, 64); !ok || got != want {
			t.Errorf("Name(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		strings.Repeat("a", 65),
		"Phone\u200b", "\u202eenohP", "a\u0085b", "a\tb", "a\nb", "a\x00b", "bad\xff", "a\u2028b", "a\u00a0b",
	} {
		if got, ok := Name(in, 64); ok {
			t.Errorf("Name(%q) = %q, accepted", in, got)
		}
	}
}

func TestDepth(t *testing.T) {
	for in, want := range map[string]int{
		`1`: 0, `"[{"`: 0, `{}`: 1, `{"a":[1]}`: 2, `[[[]],[]]`: 3, `{"a\"[":{"b":"]}"}}`: 2,
		strings.Repeat("[", 40) + strings.Repeat("]", 40): 40,
	} {
		if got := Depth([]byte(in)); got != want {
			t.Errorf("Depth(%.30s) = %d, want %d", in, got, want)
		}
	}
}
