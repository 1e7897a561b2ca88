package handlers

import (
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
