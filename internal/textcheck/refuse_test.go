package textcheck

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRefusals: each check names the rule a value broke, "" when it is
// storable.
func TestRefusals(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	deepObj := map[string]any{}
	for i, m := 0, deepObj; i < MaxDepth; i++ {
		next := map[string]any{}
		m["a"], m = next, next
	}
	for _, c := range []struct {
		name, got, want string
	}{
		{"payload ok", Payload(map[string]json.RawMessage{"nick": json.RawMessage(`"ada"`)}), ""},
		{"payload NUL", Payload(map[string]json.RawMessage{"nick": json.RawMessage(`"a\u0000"`)}), "The request body must be valid UTF-8 text without NUL characters"},
		{"payload name", Payload(map[string]json.RawMessage{"a\x00": json.RawMessage(`1`)}), "The request body must be valid UTF-8 text without NUL characters"},
		{"payload deep", Payload(map[string]json.RawMessage{"x": json.RawMessage(deep)}), "The request body must nest objects and arrays at most 32 levels deep"},
		{"object ok", Object("metadata", map[string]any{"a": []any{"b"}}), ""},
		{"object NUL", Object("metadata", map[string]any{"a": "b\x00"}), "metadata must be valid UTF-8 text without NUL characters"},
		{"object not JSON", Object("metadata", map[string]any{"f": func() {}}), "metadata must be encodable as JSON"},
		{"object deep", Object("metadata", deepObj), "metadata must nest objects and arrays at most 32 levels deep"},
		{"settings nil", Settings(nil, 10), "settings must be a JSON object"},
		{"settings ok", Settings(map[string]any{"a": 1}, 10), ""},
		{"settings big", Settings(map[string]any{"a": "0123456789"}, 10), "settings must be at most 10 bytes of JSON (got 18)"},
		{"settings NUL", Settings(map[string]any{"a": "\x00"}, 100), "settings must be valid UTF-8 text without NUL characters"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}
