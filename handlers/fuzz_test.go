package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/textcheck"
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

// FuzzOAuthSSAIDCookie: a valid ssaid survives the ssaid cookie exactly
// (written by net/http's SetCookie, parsed back as a browser's Cookie
// header by net/http); any other cookie value decodes to a valid ssaid or
// is refused, and never panics.
func FuzzOAuthSSAIDCookie(f *testing.F) {
	for _, s := range []string{"dev-1", `a"b`, "a;b", `a\b`, "a,b", "a b", "", "ZGV2aWNl", "%22", strings.Repeat("~", 128)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := ssaidFromCookie(s); ok && !simpleuser.ValidSSAID(got) {
			t.Fatalf("cookie %q decoded to invalid ssaid %q", s, got)
		}
		if !simpleuser.ValidSSAID(s) {
			return
		}
		w := httptest.NewRecorder()
		http.SetCookie(w, &http.Cookie{Name: oauthSSAIDCookie, Value: cookieSSAID(s), Path: "/api/oauth/"})
		set := w.Result().Cookies()
		if len(set) != 1 {
			t.Fatalf("ssaid %q: Set-Cookie %v", s, w.Header()["Set-Cookie"])
		}
		r := httptest.NewRequest("GET", "/api/oauth/google/callback", nil)
		r.Header.Set("Cookie", (&http.Cookie{Name: set[0].Name, Value: set[0].Value}).String())
		ck, err := r.Cookie(oauthSSAIDCookie)
		if err != nil {
			t.Fatalf("ssaid %q: cookie %q not read back: %v", s, r.Header.Get("Cookie"), err)
		}
		if got, ok := ssaidFromCookie(ck.Value); !ok || got != s {
			t.Fatalf("ssaid %q came back as %q (ok %v)", s, got, ok)
		}
	})
}

// FuzzRequestPath: any request path under (or outside) the prefix, with
// any method, answers the envelope (or, for OPTIONS on a route, 204 with
// Allow), never a redirect or a 5xx; a path that is not clean is 404
// NOT_FOUND.
func FuzzRequestPath(f *testing.F) {
	e := newMemoryEnv(f)
	for _, s := range []string{"/api/login", "/api//login", "/api/x/../login", "/api/./user-center/me", "/api/user-center/me/.",
		"/api/oauth/%2e%2e/start", "/api/login%2F..%2Fx", "/api/user-center/identities/../identities", "//", "/api/", "*"} {
		f.Add("GET", s)
		f.Add("POST", s)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		default:
			method = "GET"
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" || u.Scheme != "" {
			return
		}
		req := httptest.NewRequest(method, "/", nil)
		req.URL, req.RequestURI = u, target
		req.Header.Set("x-client-ssaid", "fuzz-path")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if method == "OPTIONS" && w.Code == http.StatusNoContent { // a known path: no body
			if w.Header().Get("Allow") == "" || w.Body.Len() != 0 {
				t.Fatalf("OPTIONS %q: 204 with Allow %q and body %q", target, w.Header().Get("Allow"), w.Body)
			}
			return
		}
		r := checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), method+" "+target)
		if r.code >= 300 && r.code < 400 || r.code >= 500 {
			t.Fatalf("%s %q: %d %s", method, target, r.code, r.raw)
		}
		if p := u.EscapedPath(); p != cleanPath(p) && (r.code != 404 || r.dataCode() != "NOT_FOUND") {
			t.Fatalf("%s %q (not clean): %d %s", method, target, r.code, r.raw)
		}
	})
}

// FuzzLoginForm posts arbitrary form bodies to POST /login: every answer
// is an envelope below 500, and whatever decodeForm accepts holds only
// text every backend can store (textcheck.String).
func FuzzLoginForm(f *testing.F) {
	e := newMemoryEnv(f)
	for _, s := range []string{
		``, `email=a%40example.com&code=123456`, `email=a@example.com&password=password-1&nickname=%C3%89`,
		`email=a@example.com&email=b@example.com`, `email=a@example.com&code=1;x=2`, `email=%zz`, `%00=%FF`,
		`email=a@example.com&code=1&x=%00`, `=&&=&a`, `email=a@example.com&code=%2B1+2`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b loginBody
		if extra, errs, err := decodeForm([]byte(body), &b); err == nil && len(errs) == 0 {
			for _, s := range []string{b.Email, b.Password, b.SetPassword} {
				if !textcheck.String(s) {
					t.Fatalf("%q: decoded unstorable text %q", body, s)
				}
			}
			for k, v := range extra {
				if !textcheck.String(k) || !textcheck.JSON(v) {
					t.Fatalf("%q: extra %q=%s", body, k, v)
				}
			}
		}
		r := doOn(t, e.h, e.prefix, rq{method: "POST", path: "/login", body: body, ip: "203.0.113.9",
			header: map[string]string{"x-client-ssaid": "fuzz-form", "Content-Type": formCT}})
		if r.code >= 500 {
			t.Fatalf("status %d for %q: %s", r.code, body, r.raw)
		}
	})
}
