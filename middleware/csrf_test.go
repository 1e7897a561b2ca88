package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// TestCSRF: which requests the CSRF middleware refuses. State-changing
// requests identified by cookies (the session cookie, or no token and the
// device cookie) are refused cross-origin unless the origin is trusted;
// header and bearer credentials, and x-client-ssaid without a cookie
// token, pass from anywhere; safe methods always pass. A refused request
// never reaches the handler.
func TestCSRF(t *testing.T) {
	svc := newService(t, func(c *simpleuser.Config) {
		c.Browser.CookieMode = true
		c.Browser.TrustedOrigins = []string{"https://spa.example"}
	}).svc
	reached := 0
	h := Identity(svc, Options{})(CSRF(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(299)
	})))
	cookieTok := sessionCookie + "=tok"
	device := deviceCookie + "=dev-1"
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	sameSite := map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.app.example"}
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://app.example"}
	trusted := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://spa.example"}
	oldCross := map[string]string{"Origin": "https://evil.example"} // a browser without Fetch Metadata
	oldSame := map[string]string{"Origin": "http://example.com"}    // httptest's Host is example.com
	navigation := map[string]string{"Sec-Fetch-Site": "none"}       // typed in the address bar
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		refuse bool
	}{
		{"cookie token, cross-site POST", "POST", with(crossSite, "Cookie", cookieTok), true},
		{"cookie token, cross-site PATCH", "PATCH", with(crossSite, "Cookie", cookieTok), true},
		{"cookie token, cross-site PUT", "PUT", with(crossSite, "Cookie", cookieTok), true},
		{"cookie token, cross-site DELETE", "DELETE", with(crossSite, "Cookie", cookieTok), true},
		{"cookie token, same-site (sibling subdomain) POST", "POST", with(sameSite, "Cookie", cookieTok), true},
		{"cookie token, old browser, foreign Origin", "POST", with(oldCross, "Cookie", cookieTok), true},
		{"cookie token + x-client-ssaid, cross-site POST", "POST", with(crossSite, "Cookie", cookieTok, "x-client-ssaid", "d"), true},
		{"login CSRF: device cookie only, cross-site POST", "POST", with(crossSite, "Cookie", device), true},
		{"login CSRF: device cookie only, same-site POST", "POST", with(sameSite, "Cookie", device), true},
		{"login CSRF: no cookie yet, cross-site POST (device minted)", "POST", crossSite, true},
		{"cookie token, same-origin POST", "POST", with(sameOrigin, "Cookie", cookieTok), false},
		{"cookie token, old browser, own Origin", "POST", with(oldSame, "Cookie", cookieTok), false},
		{"cookie token, trusted origin POST", "POST", with(trusted, "Cookie", cookieTok), false},
		{"cookie token, navigation POST (Sec-Fetch-Site none)", "POST", with(navigation, "Cookie", cookieTok), false},
		{"cookie token, cross-site GET", "GET", with(crossSite, "Cookie", cookieTok), false},
		{"cookie token, cross-site HEAD", "HEAD", with(crossSite, "Cookie", cookieTok), false},
		{"device cookie, same-origin POST", "POST", with(sameOrigin, "Cookie", device), false},
		{"header token, cross-site POST", "POST", with(crossSite, "x-client-token", "tok", "Cookie", cookieTok), false},
		{"bearer token, cross-site DELETE", "DELETE", with(crossSite, "Authorization", "Bearer tok", "Cookie", cookieTok), false},
		{"header token + device cookie, cross-site POST", "POST", with(crossSite, "x-client-token", "tok", "Cookie", device), false},
		{"x-client-ssaid, no cookie token, cross-site POST", "POST", with(crossSite, "x-client-ssaid", "d", "Cookie", device), false},
		{"no browser, no cookie", "POST", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := reached
			w, env := serve(t, h, tc.method, "/", tc.hdr)
			if tc.refuse {
				wantEnvelope(t, w, env, http.StatusForbidden, "CSRF")
				if reached != before {
					t.Fatal("a refused request reached the handler")
				}
				return
			}
			if w.Code != 299 || reached != before+1 {
				t.Fatalf("status %d (handler reached %d): %s", w.Code, reached-before, w.Body)
			}
		})
	}
}

// TestCSRFWithoutIdentity: outside Identity every state-changing
// cross-origin request is refused (fail closed); safe ones pass.
func TestCSRFWithoutIdentity(t *testing.T) {
	svc := newService(t, cookieMode).svc
	h := CSRF(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }))
	w, env := serve(t, h, "POST", "/", map[string]string{"Sec-Fetch-Site": "cross-site", "x-client-token": "tok"})
	wantEnvelope(t, w, env, http.StatusForbidden, "CSRF")
	if w, _ := serve(t, h, "GET", "/", map[string]string{"Sec-Fetch-Site": "cross-site"}); w.Code != 299 {
		t.Fatalf("GET: %d", w.Code)
	}
	if w, _ := serve(t, h, "POST", "/", map[string]string{"Sec-Fetch-Site": "same-origin"}); w.Code != 299 {
		t.Fatalf("same-origin POST: %d", w.Code)
	}
}

// TestCSRFCookieModeOff: without cookie mode no request is identified by
// cookies, so nothing is refused.
func TestCSRFCookieModeOff(t *testing.T) {
	svc := newService(t).svc
	h := Identity(svc, Options{})(CSRF(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })))
	if w, _ := serve(t, h, "POST", "/", map[string]string{"Sec-Fetch-Site": "cross-site", "Cookie": sessionCookie + "=tok"}); w.Code != 299 {
		t.Fatalf("status %d", w.Code)
	}
}

// TestCORS: listed origins get the CORS headers with credentials, their
// preflights 204 with the allowed method, headers and max age; unlisted
// origins get no CORS header at all (a preflight still 204, unanswered);
// preflights never reach the handler.
func TestCORS(t *testing.T) {
	svc := newService(t, func(c *simpleuser.Config) {
		c.Browser.TrustedOrigins = []string{"https://spa.example", "http://localhost:5173"}
	}).svc
	reached := 0
	h := CORS(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(429)
	}))
	do := func(method string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/api/login", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	preflight := func(origin, method, headers string) *httptest.ResponseRecorder {
		return do("OPTIONS", map[string]string{"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
	}
	corsHeaders := func(w *httptest.ResponseRecorder) []string {
		var out []string
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				out = append(out, k)
			}
		}
		return out
	}

	w := preflight("https://spa.example", "POST", "content-type,x-client-ssaid,x-client-token")
	hd := w.Header()
	if w.Code != 204 || hd.Get("Access-Control-Allow-Origin") != "https://spa.example" || hd.Get("Access-Control-Allow-Credentials") != "true" ||
		hd.Get("Access-Control-Allow-Methods") != "POST" || hd.Get("Access-Control-Allow-Headers") != "content-type,x-client-ssaid,x-client-token" ||
		hd.Get("Access-Control-Max-Age") != "600" || !strings.Contains(hd.Get("Vary"), "Origin") {
		t.Fatalf("listed preflight: %d %v", w.Code, hd)
	}
	w = preflight("http://localhost:5173", "DELETE", "authorization")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:5173" || w.Header().Get("Access-Control-Allow-Headers") != "authorization" {
		t.Fatalf("listed preflight with Authorization: %d %v", w.Code, w.Header())
	}
	for _, bad := range []*httptest.ResponseRecorder{
		preflight("https://evil.example", "POST", "content-type"),
		preflight("https://spa.example.evil", "POST", "content-type"),
		preflight("http://spa.example", "POST", "content-type"), // another scheme is another origin
		preflight("https://spa.example", "CONNECT", ""),         // a method not allowed
		preflight("https://spa.example", "POST", "x-secret"),    // a header not allowed
	} {
		if bad.Code != 204 || len(corsHeaders(bad)) != 0 {
			t.Fatalf("refused preflight: %d %v", bad.Code, bad.Header())
		}
	}
	if reached != 0 {
		t.Fatalf("preflights reached the handler %d times", reached)
	}

	w = do("POST", map[string]string{"Origin": "https://spa.example"})
	hd = w.Header()
	if reached != 1 || w.Code != 429 || hd.Get("Access-Control-Allow-Origin") != "https://spa.example" || hd.Get("Access-Control-Allow-Credentials") != "true" ||
		hd.Get("Access-Control-Expose-Headers") != "Retry-After" || hd.Get("Vary") != "Origin" {
		t.Fatalf("listed request: %d %v", w.Code, hd)
	}
	for _, hdr := range []map[string]string{{"Origin": "https://evil.example"}, {"Origin": "null"}, nil} {
		w = do("GET", hdr)
		if w.Code != 429 || len(corsHeaders(w)) != 0 || w.Header().Get("Vary") != "Origin" {
			t.Fatalf("request from %v: %d %v", hdr, w.Code, w.Header())
		}
	}
}

// TestCORSNoOrigins: without trusted origins CORS is not mounted at all.
func TestCORSNoOrigins(t *testing.T) {
	svc := newService(t).svc
	h := CORS(svc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }))
	r := httptest.NewRequest("OPTIONS", "/", nil)
	r.Header.Set("Origin", "https://spa.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 299 || len(w.Header()) != 0 {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}
