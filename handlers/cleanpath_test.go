package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCleanedPathsAnswerEnvelope: every kind of path ServeMux would clean
// (and answer with a bare 307) gets the kit's 404 NOT_FOUND envelope, at
// the root and under prefixes; escaped dots and slashes are no path
// structure: they stay in their segment and reach the route, or a 404.
func TestCleanedPathsAnswerEnvelope(t *testing.T) {
	for _, prefix := range []string{"/api", "/", "/auth/v1"} {
		e := newEnv(t, withOptions(func(o *Options) { o.Prefix = prefix }))
		p := e.prefix // "" at the root
		for _, tc := range []struct {
			kind, method, path string // path: full, p is the prefix
			status             int
			code               string
		}{
			{"double slash", "POST", p + "//login", 404, "NOT_FOUND"},
			{"double slash inside", "GET", p + "/user-center//me", 404, "NOT_FOUND"},
			{"double slash as a wildcard", "GET", p + "/oauth//start", 404, "NOT_FOUND"},
			{"double slash at the end", "POST", p + "/login//", 404, "NOT_FOUND"},
			{"leading double slash", "GET", "/" + p + "/user-center/me", 404, "NOT_FOUND"},
			{"dot", "POST", p + "/./login", 404, "NOT_FOUND"},
			{"dot inside", "GET", p + "/user-center/./me", 404, "NOT_FOUND"},
			{"dot as a wildcard", "GET", p + "/oauth/./start", 404, "NOT_FOUND"},
			{"trailing dot", "GET", p + "/user-center/me/.", 404, "NOT_FOUND"},
			{"trailing dot after a wildcard", "DELETE", p + "/user-center/identities/google/.", 404, "NOT_FOUND"},
			{"dot-dot to a route", "POST", p + "/x/../login", 404, "NOT_FOUND"},
			{"dot-dot out of the prefix and back", "POST", p + "/.." + p + "/login", 404, "NOT_FOUND"},
			{"dot-dot as a wildcard onto a GET route", "GET", p + "/user-center/identities/../identities", 404, "NOT_FOUND"},
			{"dot-dot as a wildcard", "DELETE", p + "/user-center/identities/../identities", 404, "NOT_FOUND"},
			{"trailing dot-dot", "GET", p + "/user-center/me/..", 404, "NOT_FOUND"},
			{"trailing dot-dot onto a route", "GET", p + "/user-center/me/x/..", 404, "NOT_FOUND"},
			{"HEAD with dot-dot", "HEAD", p + "/login/x/../user-exists", 404, "NOT_FOUND"},
			// Escaped: a segment's content, not structure.
			{"escaped dot-dot segment", "POST", p + "/x/%2e%2e/login", 404, "NOT_FOUND"},
			{"escaped dot segment", "POST", p + "/%2E/login", 404, "NOT_FOUND"},
			{"escaped slash", "POST", p + "/x%2F..%2Flogin", 404, "NOT_FOUND"},
			{"escaped slash joining a route", "GET", p + "/user-center%2Fme", 404, "NOT_FOUND"},
			{"escaped dot-dot as a provider", "GET", p + "/oauth/%2e%2e/start?redirectUri=https://a.example/cb", 404, "UNKNOWN_PROVIDER"},
			{"escaped dot as a provider", "GET", p + "/oauth/%2E/callback?code=c&state=s", 404, "UNKNOWN_PROVIDER"},
			{"escaped slash in a provider", "GET", p + "/oauth/google%2F..%2Fx/start?redirectUri=https://a.example/cb", 404, "UNKNOWN_PROVIDER"},
			{"escaped dot-dot as a subject", "DELETE", p + "/user-center/identities/google/%2e%2e", 401, "AUTH_REQUIRED"},
		} {
			t.Run(prefix+"/"+tc.kind, func(t *testing.T) {
				r := doOn(t, e.h, "", rq{method: tc.method, path: tc.path, ssaid: e.ssaid("d")}).want(t, tc.status, tc.code)
				if loc := r.header.Get("Location"); loc != "" {
					t.Fatalf("Location %q", loc)
				}
			})
		}
	}
}

// TestNoPathVariantRedirects: for every route, every method, and every way
// of adding an empty, "." or ".." segment to its path (or of replacing one
// segment by one), the answer is an envelope, never a redirect; an unclean
// path is 404 NOT_FOUND.
func TestNoPathVariantRedirects(t *testing.T) {
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	for _, prefix := range []string{"/api", "/"} {
		e := newEnv(t, withOptions(func(o *Options) { o.Prefix = prefix }))
		paths := []string{"/openapi.json"}
		for _, rt := range routes {
			if strings.HasSuffix(rt.path, "/") {
				t.Fatalf("route %s ends in a slash: ServeMux would redirect the path without it", rt.path)
			}
			paths = append(paths, rt.path)
		}
		n := 0
		for _, rp := range paths {
			full := strings.NewReplacer("{provider}", "google", "{subject}", "sub-1").Replace(e.prefix + rp)
			segs := strings.Split(full, "/")[1:]
			var variants []string
			for i := 0; i <= len(segs); i++ {
				for _, extra := range []string{"", ".", ".."} {
					v := append(append(append([]string{}, segs[:i]...), extra), segs[i:]...)
					variants = append(variants, "/"+strings.Join(v, "/"))
				}
			}
			for i := range segs {
				for _, repl := range []string{"", ".", ".."} {
					v := append([]string{}, segs...)
					v[i] = repl
					variants = append(variants, "/"+strings.Join(v, "/"))
				}
			}
			for _, v := range variants {
				for _, m := range methods {
					n++
					req := httptest.NewRequest(m, "http://app.example"+v, nil)
					req.Header.Set("x-client-ssaid", e.ssaid("d"))
					w := httptest.NewRecorder()
					e.h.ServeHTTP(w, req)
					if m == http.MethodHead {
						if w.Code >= 300 && w.Code < 400 {
							t.Fatalf("HEAD %s: %d", v, w.Code)
						}
						continue
					}
					r := checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), m+" "+v)
					if r.code >= 300 && r.code < 400 {
						t.Fatalf("%s %s: %d (Location %q)", m, v, r.code, r.header.Get("Location"))
					}
					if v != cleanPath(v) && (r.code != 404 || r.dataCode() != "NOT_FOUND") {
						t.Fatalf("%s %s (not clean): %d %s", m, v, r.code, r.raw)
					}
				}
			}
		}
		if n < 1000 {
			t.Fatalf("only %d requests", n)
		}
	}
}

// TestMountedUnderServeMux: what the kit controls when the app mounts it
// on its own ServeMux. The app's mux cleans the path before the kit sees
// it, so mux.Handle("/api/", h) answers "/api//login" with the mux's own
// bare 307: the kit cannot change that. Dispatching the prefix before the
// mux (as docs/http-api.md shows) leaves every path under it to the kit.
func TestMountedUnderServeMux(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/api/", e.h)
	req := httptest.NewRequest("POST", "/api//login", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "/api/login" {
		t.Fatalf("the outer ServeMux answered %d %q: update docs/http-api.md (Mounting)", w.Code, w.Header().Get("Location"))
	}

	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("home")) })
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			e.h.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})
	for _, p := range []string{"/api//login", "/api/./login", "/api/x/../login", "/api/login/.", "/api/x/%2e%2e/login"} {
		doOn(t, root, "", rq{method: "POST", path: p, ssaid: e.ssaid("d")}).want(t, 404, "NOT_FOUND")
	}
	doOn(t, root, "", rq{method: "GET", path: "/api/user-center/me", ssaid: e.ssaid("d")}).want(t, 200, "")
	w = httptest.NewRecorder()
	root.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Body.String() != "home" {
		t.Fatalf("the app's own route: %d %q", w.Code, w.Body.String())
	}
}

// TestPrefixCleaned: Options.Prefix is cleaned as path.Clean does; a
// character the mux, browsers or the cookie Path would read otherwise
// makes New panic, naming it.
func TestPrefixCleaned(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"/api//v1/", "/api/v1"}, {"auth/./v1", "/auth/v1"}, {"/a/../b", "/b"}, {"//", ""}, {"/..", ""},
		{"/v1:beta/@me/~x/a-b_c.d/!$&'()*+,=", "/v1:beta/@me/~x/a-b_c.d/!$&'()*+,="},
	} {
		e := newEnv(t, withOptions(func(o *Options) { o.Prefix = tc.prefix }))
		if e.prefix != tc.want {
			t.Fatalf("Prefix %q -> %q, want %q", tc.prefix, e.prefix, tc.want)
		}
		doOn(t, e.h, "", rq{method: "GET", path: tc.want + "/user-center/me", ssaid: e.ssaid("d")}).want(t, 200, "")
	}
	for _, bad := range []string{"/a b", "/a%2Fb", "/a/{x}", "/a;b", "/a?b", "/a#b", "/é", "/a\tb"} {
		func() {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, "Options.Prefix") {
					t.Fatalf("Prefix %q: recovered %v, want a panic naming Options.Prefix", bad, v)
				}
			}()
			newEnv(t, withOptions(func(o *Options) { o.Prefix = bad }))
		}()
	}
}
