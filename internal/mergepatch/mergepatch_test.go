package mergepatch

import (
	"encoding/json"
	"testing"
)

// TestRFC7386Examples runs the examples of RFC 7386 appendix A, plus
// nested nulls and the independence of the result.
func TestRFC7386Examples(t *testing.T) {
	for _, tc := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"a":{"b":1}}`, `{}`, `{"a":{"b":1}}`},
	} {
		var target, patch any
		if err := json.Unmarshal([]byte(tc.target), &target); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tc.patch), &patch); err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(target)
		got, err := json.Marshal(Apply(target, patch))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("Apply(%s, %s) = %s, want %s", tc.target, tc.patch, got, tc.want)
		}
		if after, _ := json.Marshal(target); string(after) != string(before) {
			t.Errorf("Apply modified its target: %s, was %s", after, before)
		}
	}
}

func TestResultSharesNothing(t *testing.T) {
	target := map[string]any{"keep": map[string]any{"x": 1.0}, "list": []any{1.0}}
	patch := map[string]any{"new": map[string]any{"y": 2.0}}
	out := Apply(target, patch).(map[string]any)
	out["keep"].(map[string]any)["x"] = 9.0
	out["list"].([]any)[0] = 9.0
	out["new"].(map[string]any)["y"] = 9.0
	if target["keep"].(map[string]any)["x"] != 1.0 || target["list"].([]any)[0] != 1.0 || patch["new"].(map[string]any)["y"] != 2.0 {
		t.Fatalf("the result shares memory: target %v, patch %v", target, patch)
	}
}
