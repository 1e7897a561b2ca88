package handlers

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// fuzzBody posts body to path and asserts an envelope below 500.
func fuzzBody(f *testing.F, path string, seeds []string) {
	e := newMemoryEnv(f) // shared by every input
	for _, s := range seeds {
		f.Add(s, "dev-1")
	}
	f.Fuzz(func(t *testing.T, body, ssaid string) {
		r := doOn(t, e.h, e.prefix, rq{method: "POST", path: path, body: body, ip: "203.0.113.7",
			header: map[string]string{"x-client-ssaid": headerSafe(ssaid)}})
		if r.code >= 500 {
			t.Fatalf("status %d for %q: %s", r.code, body, r.raw)
		}
	})
}

// headerSafe drops what net/http would refuse in a header value.
func headerSafe(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\r' && c != '\n' && c != 0 {
			b = append(b, c)
		}
	}
	return string(b)
}

func FuzzLoginBody(f *testing.F) {
	fuzzBody(f, "/login", []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"email":"a@example.com","code":"123456"}`,
		`{"email":"a@example.com","password":"password-1"}`,
		`{"email":"a@example.com","code":123456,"setPassword":"pw-123456"}`,
		`{"email":"a@example.com","code":null,"password":""}`,
		`{"email":1,"code":{},"password":[],"setPassword":true,"x":{"y":[1,2,{}]}}`,
		`{"email":"a@example.com","code":"1"}{"trailing":1}`,
		`{"email":"\u0000@example.com","code":"\ud800"}`,
		`{"email":"a@example.com","code":1e999}`,
		`{"email":"a@example.com","email":"b@example.com","code":"1"}`,
	})
}

func FuzzSendCodeBody(f *testing.F) {
	fuzzBody(f, "/send-code/send", []string{
		``, `{}`, `{"email":"a@example.com","codePurpose":"Login"}`,
		`{"email":"a@example.com","codePurpose":"Nope"}`,
		`{"email":"   ","codePurpose":""}`,
		`{"email":["a@example.com"],"codePurpose":{"Login":1}}`,
		`{"email":"` + "a\"b@example.com" + `","codePurpose":"ResetPassword"}`,
		`{"email":-0.0e-0,"codePurpose":12}`,
		`{`, `}`, `{"a":`,
	})
}

// FuzzSettingsPatch sends arbitrary merge patches: every answer is an
// envelope below 500, and a success leaves an object of at most 16 KiB.
func FuzzSettingsPatch(f *testing.F) {
	e := newMemoryEnv(f)
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"a":1}`, `{"a":null}`, `{"a":{"b":{"c":null}}}`,
		`{"a":[1,{"b":null}]}`, `{"a":1}{}`, `{"a":1e999}`, `{"\u0000":"\ud800"}`, `{"a":{"a":{"a":{"a":{}}}}}`,
	} {
		f.Add(s)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body string) {
		// A fresh anonymous user per input: the outcome depends on the input
		// alone, which keeps coverage (and so minimization) deterministic.
		ssaid := fmt.Sprintf("fuzz-settings-%d", n.Add(1))
		r := doOn(t, e.h, e.prefix, rq{method: "PATCH", path: "/user-center/settings", body: body, ip: "203.0.113.8",
			header: map[string]string{"x-client-ssaid": ssaid, "Content-Type": "application/merge-patch+json"}})
		if r.code >= 500 {
			t.Fatalf("status %d for %q: %s", r.code, body, r.raw)
		}
		if r.code == 200 {
			if _, ok := r.data["settings"].(map[string]any); !ok || len(r.raw) > 17<<10 {
				t.Fatalf("settings after %q: %s", body, r.raw)
			}
		}
	})
}
