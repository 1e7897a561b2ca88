package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

var trustedForTest = []string{"https://spa.example", "http://localhost:5173"}

func TestCheckReturnTo(t *testing.T) {
	for u, ok := range map[string]bool{
		"/":                                true,
		"/account":                         true,
		"/account?tab=sessions#top":        true,
		"/a/b%20c?x=%2F%2Fevil.example":    true,
		"/:colon":                          true,
		"https://spa.example":              true,
		"https://spa.example/after?x=1":    true,
		"http://localhost:5173/cb":         true,
		"":                                 false,
		"account":                          false, // relative to the callback's path: not what was meant
		"//evil.example":                   false,
		"//evil.example/account":           false,
		"/\\evil.example":                  false,
		"/\t/evil.example":                 false,
		"/\n/evil.example":                 false,
		"/ /evil.example":                  false,
		"/é":                               false,
		"https://evil.example/":            false,
		"https://spa.example.evil.example": false,
		"https://spa.example:8443/":        false,
		"http://spa.example/":              false,
		"HTTPS://spa.example/":             true, // the scheme is case-insensitive
		"https://SPA.example/":             false,
		"https://user@spa.example/":        false,
		"https:spa.example":                false,
		"javascript:alert(1)":              false,
		"data:text/html,hi":                false,
		"ftp://spa.example/":               false,
		"/" + strings.Repeat("a", 2047):    true,
		"/" + strings.Repeat("a", 2048):    false,
	} {
		err := checkReturnTo(u, trustedForTest)
		if (err == nil) != ok {
			t.Errorf("checkReturnTo(%q) = %v, want ok=%v", u, err, ok)
		}
		if e := simpleuser.AsError(err); err != nil && (e.Status != 400 || e.Code != simpleuser.CodeRedirectNotAllowed) {
			t.Errorf("checkReturnTo(%q): %d %s", u, e.Status, e.Code)
		}
	}
}

// FuzzReturnTo: a returnTo the check accepts, followed by a browser from
// the callback's URL, stays on the app's host or reaches a trusted origin.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/account", "//evil.example", "/\\evil", "https://spa.example/x", "/%2F%2Fevil", "/.//evil", "/..//evil", "https://spa.example@evil.example/"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/api/oauth/google/callback?code=c&state=s")
	f.Fuzz(func(t *testing.T, s string) {
		if checkReturnTo(s, trustedForTest) != nil {
			return
		}
		ref, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", s, err)
		}
		got := base.ResolveReference(ref)
		origin := got.Scheme + "://" + got.Host
		if origin != "https://app.example" && origin != trustedForTest[0] && origin != trustedForTest[1] {
			t.Fatalf("accepted %q, which leads to %s", s, got)
		}
	})
}

// TestOAuthReturnTo: in cookie mode a redirect-mode flow ends with 303 to
// the start's returnTo (a path, or a URL of a trusted origin) with the
// session cookie set; a failed one to that page with error=<code> and no
// session; returnTo is checked at start (no open redirect) and again at
// the callback (a planted cookie cannot send the browser away). Both
// backends.
func TestOAuthReturnTo(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b, cookieModeOn, func(c *simpleuser.Config) { c.Browser.TrustedOrigins = trustedForTest })
		google := o.fakes[oauthtest.Google]
		start := func(br *browser, q map[string]string) *res {
			t.Helper()
			full := map[string]string{"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect"}
			for k, v := range q {
				full[k] = v
			}
			return br.do(rq{method: "GET", path: "/oauth/google/start", query: full})
		}
		// flow runs start → consent → callback in a fresh browser.
		flow := func(returnTo string, consent bool) (*browser, *res) {
			t.Helper()
			br := newBrowser(o.env)
			br.me().want(t, 200, "")
			r := start(br, map[string]string{"returnTo": returnTo}).want(t, http.StatusFound, "")
			q := map[string]string{"error": "access_denied"}
			if consent {
				code, state, err := google.Authorize(r.header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				q = map[string]string{"code": code, "state": state}
			}
			return br, br.from("cross-site", "https://accounts.google.example").do(rq{method: "GET", path: "/oauth/google/callback", query: q})
		}

		for i, rt := range []string{"/account?tab=sessions#top", "https://spa.example/after"} {
			google.SetUser(oauthtest.User{Subject: "sub-return-" + itoa(i)})
			br, cb := flow(rt, true)
			cb.want(t, http.StatusSeeOther, "").noData(t)
			if loc := cb.header.Get("Location"); loc != rt {
				t.Fatalf("Location %q, want %q", loc, rt)
			}
			wantPageSessionCookie(t, o.env, cb)
			if me := br.me().want(t, 200, ""); me.data["registered"] != true {
				t.Fatalf("/me after the callback: %s", me.raw)
			}
		}

		// Refused at the provider: back to the page with the code, signed out.
		br, cb := flow("/account?tab=x", false)
		cb.want(t, http.StatusSeeOther, "")
		if loc := cb.header.Get("Location"); loc != "/account?error=OAUTH_DENIED&tab=x" {
			t.Fatalf("Location %q", loc)
		}
		if sessionSet(cb) != nil {
			t.Fatalf("a refused sign-in set a session: %v", cb.header["Set-Cookie"])
		}
		if me := br.me().want(t, 200, ""); me.data["registered"] != false {
			t.Fatalf("/me after a refused sign-in: %s", me.raw)
		}
		// A replayed state: OAUTH_STATE, to the default page.
		br = newBrowser(o.env)
		br.me().want(t, 200, "")
		start(br, nil).want(t, http.StatusFound, "")
		cb = br.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": "c", "state": "not-a-state"}}).want(t, http.StatusSeeOther, "")
		if loc := cb.header.Get("Location"); loc != "/?error=OAUTH_STATE" {
			t.Fatalf("Location %q", loc)
		}

		// Checked at start: no open redirect, nothing stored.
		br = newBrowser(o.env)
		for _, bad := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "https://spa.example.evil.example/"} {
			r := start(br, map[string]string{"returnTo": bad}).want(t, 400, "REDIRECT_NOT_ALLOWED")
			if r.header.Get("Location") != "" || len(r.header["Set-Cookie"]) > 1 { // the device cookie only
				t.Fatalf("returnTo %q: %v", bad, r.header)
			}
		}
		// For redirect mode in cookie mode only.
		br.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{"redirectUri": callbackURI(oauthtest.Google), "returnTo": "/"}}).want(t, 400, "INVALID_INPUT")

		// Checked again at the callback: a cookie planted with another page
		// (a sibling subdomain can set one; the flow cookie has no __Host-
		// prefix) returns to the configured page instead.
		br = newBrowser(o.env)
		br.me().want(t, 200, "")
		google.SetUser(oauthtest.User{Subject: "sub-planted"})
		r := start(br, nil).want(t, http.StatusFound, "")
		code, state, err := google.Authorize(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		ssaid, _, ok := parseFlowCookie(br.cookies[oauthSSAIDCookie])
		if !ok {
			t.Fatalf("flow cookie %q", br.cookies[oauthSSAIDCookie])
		}
		br.cookies[oauthSSAIDCookie] = flowCookieValue(ssaid, "https://evil.example/")
		cb = br.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state}}).want(t, http.StatusSeeOther, "")
		if loc := cb.header.Get("Location"); loc != "/" {
			t.Fatalf("planted returnTo: Location %q", loc)
		}
	})
}

// TestOAuthReturnToOptions: Options.OAuthReturnTo is the default page;
// New refuses one that is not a path or a trusted origin's URL. Without
// cookie mode a redirect-mode callback keeps the JSON answer (no cookie
// could carry the session).
func TestOAuthReturnToOptions(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0], cookieModeOn)
	h := New(o.svc, Options{OAuthReturnTo: "/welcome"})
	br := newBrowser(o.env)
	do := func(r rq) *res {
		r.header = map[string]string{"Sec-Fetch-Site": "same-origin"}
		for k, v := range br.cookies {
			r.header["Cookie"] += k + "=" + v + "; "
		}
		out := doOn(t, h, "/api", r)
		for _, c := range (&http.Response{Header: out.header}).Cookies() {
			br.cookies[c.Name] = c.Value
		}
		return out
	}
	r := do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect"}}).want(t, http.StatusFound, "")
	code, state, err := o.fakes[oauthtest.Google].Authorize(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb := do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state}}).want(t, http.StatusSeeOther, "")
	if loc := cb.header.Get("Location"); loc != "/welcome" {
		t.Fatalf("Location %q", loc)
	}

	for _, bad := range []string{"//evil.example", "https://evil.example/", "welcome"} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), "OAuthReturnTo") {
					t.Errorf("OAuthReturnTo %q: panic %v", bad, p)
				}
			}()
			New(o.svc, Options{OAuthReturnTo: bad})
		}()
	}

	// Cookie mode off: the JSON answer, token in data.
	off := newOAuthEnv(t, backendSets[0])
	r = off.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": off.ssaid("d")}}).want(t, http.StatusFound, "")
	code, state, err = off.fakes[oauthtest.Google].Authorize(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	ck := cookieOf(t, r.header, oauthSSAIDCookie)
	off.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state},
		header: map[string]string{"Cookie": oauthSSAIDCookie + "=" + ck.Value}}).want(t, 200, "")
}
