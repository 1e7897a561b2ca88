package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		code         string
		allow        string
	}{
		{"unknown path", "GET", "/nope", 404, "NOT_FOUND", ""},
		{"unknown path under a route", "POST", "/login/nope", 404, "NOT_FOUND", ""},
		{"trailing slash", "POST", "/login/", 404, "NOT_FOUND", ""},
		{"prefix itself", "GET", "", 404, "NOT_FOUND", ""},
		{"double slash", "POST", "//login", 404, "NOT_FOUND", ""},
		{"GET on a POST route", "GET", "/login", 405, "METHOD_NOT_ALLOWED", "POST"},
		{"DELETE on a GET route", "DELETE", "/user-center/me", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
		{"PUT on send-code", "PUT", "/send-code/send", 405, "METHOD_NOT_ALLOWED", "POST"},
		{"POST on openapi", "POST", "/openapi.json", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(rq{method: tc.method, path: tc.path, ssaid: e.ssaid("d")}).want(t, tc.status, tc.code)
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	// Outside the prefix too: the handler never lets the mux answer.
	doOn(t, e.h, "", rq{method: "GET", path: "/elsewhere"}).want(t, 404, "NOT_FOUND")
}

func TestPrefixes(t *testing.T) {
	for _, tc := range []struct {
		prefix, path string
	}{
		{"", "/api/login/user-exists"},
		{"/api", "/api/login/user-exists"},
		{"api/", "/api/login/user-exists"},
		{"/auth/v1", "/auth/v1/login/user-exists"},
		{"/", "/login/user-exists"},
		{"-", "/login/user-exists"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			e := newEnv(t, withOptions(func(o *Options) { o.Prefix = tc.prefix }))
			r := doOn(t, e.h, "", rq{method: "GET", path: tc.path, query: map[string]string{"email": e.email("a")}}).want(t, 200, "")
			if r.data["exists"] != false {
				t.Fatalf("data %v", r.data)
			}
		})
	}
}

func TestMountedUnderStripPrefix(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.Prefix = "/" }))
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", e.h))
	doOn(t, mux, "", rq{method: "GET", path: "/auth/user-center/me", ssaid: e.ssaid("d")}).want(t, 200, "")
	doOn(t, mux, "", rq{method: "GET", path: "/auth/nothing"}).want(t, 404, "NOT_FOUND")
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest("GET", "/api/openapi.json", nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if !strings.Contains(w.Body.String(), `"openapi": "3.1.0"`) {
		t.Fatalf("not an OpenAPI 3.1 document: %.200s", w.Body.String())
	}
}

func TestBodyRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withOptions(func(o *Options) { o.MaxBodyBytes = 256 }))
		valid := `{"email":"` + e.email("a") + `","codePurpose":"Login"}`
		for _, tc := range []struct {
			name   string
			path   string
			body   string
			ct     string
			status int
			code   string
		}{
			{"text/plain", "/send-code/send", valid, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"no content type", "/send-code/send", valid, "", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"form", "/login", "email=a", "application/x-www-form-urlencoded", 400, "INVALID_INPUT"},
			{"form with a charset", "/send-code/send", "email=" + url.QueryEscape(e.email("f")) + "&codePurpose=Login", "application/x-www-form-urlencoded; charset=UTF-8", 200, ""},
			{"multipart", "/login", "email=a", "multipart/form-data; boundary=x", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"json+suffix", "/login", valid, "application/merge-patch+json", 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"too large", "/send-code/send", `{"email":"` + strings.Repeat("a", 300) + `"}`, "application/json", 413, "BODY_TOO_LARGE"},
			{"too large on a body-less route", "/user-center/unregister", `{"x":"` + strings.Repeat("a", 300) + `"}`, "application/json", 413, "BODY_TOO_LARGE"},
			{"malformed", "/send-code/send", `{"email":`, "application/json", 400, "INVALID_INPUT"},
			{"not an object", "/send-code/send", `["a"]`, "application/json", 400, "INVALID_INPUT"},
			{"null", "/login", `null`, "application/json", 400, "INVALID_INPUT"},
			{"trailing data", "/send-code/send", valid + `{}`, "application/json", 400, "INVALID_INPUT"},
			{"empty body validates as {}", "/send-code/send", "", "application/json", 400, "INVALID_INPUT"},
			{"charset parameter", "/send-code/send", valid, "application/json; charset=utf-8", 200, ""},
			{"upper case type", "/login", `{"email":"` + e.email("u") + `","password":"whatever1"}`, "Application/JSON; Charset=UTF-8", 404, "USER_NOT_FOUND"},
			{"empty body on a body-less route, any type", "/user-center/unregister", "", "text/plain", 200, ""},
			{"JSON body on a body-less route is ignored", "/user-center/unregister", `{"anything":1}`, "application/json", 200, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(rq{method: "POST", path: tc.path, ssaid: e.ssaid(strings.ReplaceAll(tc.name, " ", "_")), ip: e.nextIP(), body: tc.body,
					header: map[string]string{"Content-Type": tc.ct}})
				r.want(t, tc.status, tc.code)
			})
		}
	})
}

func TestBodyCapDisabled(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.MaxBodyBytes = -1 }))
	big := `{"email":"` + e.email("a") + `","codePurpose":"Login","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid("d"), body: big}).want(t, 200, "")

	e2 := newEnv(t) // default cap: 100 KiB
	e2.do(rq{method: "POST", path: "/send-code/send", ssaid: e2.ssaid("d"), body: big}).want(t, 413, "BODY_TOO_LARGE")
}

// The default cap is 100 KiB (DefaultMaxBodyBytes): a body of exactly that
// size is read, one byte more is 413, whether or not Content-Length says so.
func TestDefaultBodyCap(t *testing.T) {
	e := newEnv(t)
	head := `{"email":"` + e.email("a") + `","codePurpose":"Login","pad":"`
	fit := head + strings.Repeat("x", DefaultMaxBodyBytes-len(head)-2) + `"}`
	if len(fit) != DefaultMaxBodyBytes {
		t.Fatalf("test body is %d bytes", len(fit))
	}
	e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid("d"), body: fit}).want(t, 200, "")
	over := head + strings.Repeat("x", DefaultMaxBodyBytes-len(head)-1) + `"}`
	e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid("d2"), body: over}).want(t, 413, "BODY_TOO_LARGE")
}

func TestHeadOnGetRoute(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest("HEAD", "/api/login/user-exists?email="+e.email("a"), nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("HEAD: %d", w.Code)
	}
}

func TestEscapedPathsAndChunkedBodies(t *testing.T) {
	e := newEnv(t, withOptions(func(o *Options) { o.MaxBodyBytes = 64 }))
	// An escaped spelling of a route reaches it; an escaped slash does not.
	req := httptest.NewRequest("GET", "/api/login/user-exist%73?email="+e.email("a"), nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), "escaped").want(t, 200, "")
	req = httptest.NewRequest("GET", "/api/login%2Fuser-exists?email="+e.email("a"), nil)
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), "escaped slash").want(t, 404, "NOT_FOUND")

	// A body of unknown length (chunked) is capped while read.
	req = httptest.NewRequest("POST", "/api/send-code/send", strings.NewReader(`{"email":"`+strings.Repeat("a", 100)+`"}`))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-client-ssaid", "d")
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), "chunked").want(t, 413, "BODY_TOO_LARGE")
}
