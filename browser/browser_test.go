package browser_test

import (
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/browser"
)

// TestCheckOrigin: origins are accepted only as browsers serialise them
// in the Origin header, so a configured origin can match byte for byte.
func TestCheckOrigin(t *testing.T) {
	for _, o := range []string{"https://app.example", "http://localhost:5173", "https://xn--bcher-kva.example", "http://127.0.0.1:8080", "https://[2001:db8::1]:8443", "http://[::1]"} {
		if err := browser.CheckOrigin(o); err != nil {
			t.Errorf("%q refused: %v", o, err)
		}
	}
	for o, hint := range map[string]string{
		"":                               "scheme",
		"app.example":                    "scheme",
		"ftp://app.example":              "scheme",
		"https://":                       "host",
		"https://app.example/":           "path",
		"https://app.example/x":          "path",
		"https://app.example?":           "query",
		"https://app.example?a=1":        "query",
		"https://app.example#":           "fragment",
		"https://u:p@app.example":        "user",
		"https://App.Example":            `"https://app.example"`,
		"HTTPS://app.example":            `"https://app.example"`,
		"https://app.example:443":        `"https://app.example"`,
		"http://app.example:80":          `"http://app.example"`,
		"https://app.example:":           `"https://app.example"`,
		"https://app.example:08080":      `"https://app.example:8080"`,
		"https://app.example:70000":      "port",
		"https://*.app.example":          "wildcard",
		"*":                              "scheme",
		"https://bücher.example":         "xn--",
		"https://[2001:DB8::1]":          `"https://[2001:db8::1]"`,
		"mailto:a@app.example":           "scheme",
		"https:app.example":              "host",
		"https://app.example https://b.": "URL",
	} {
		err := browser.CheckOrigin(o)
		if err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("%q: error %v, want one mentioning %s", o, err, hint)
		}
	}
}
