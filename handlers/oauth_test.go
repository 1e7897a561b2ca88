package handlers

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// oauthEnv is an env whose service signs in with a fake of every provider.
type oauthEnv struct {
	*env
	fakes map[oauthtest.Kind]*oauthtest.Server
}

func callbackURI(k oauthtest.Kind) string {
	return "https://app.example/api/oauth/" + string(k) + "/callback"
}

func newOAuthEnv(t *testing.T, b backendSet, mod ...func(*simpleuser.Config)) *oauthEnv {
	t.Helper()
	o := &oauthEnv{fakes: map[oauthtest.Kind]*oauthtest.Server{}}
	o.env = newEnv(t, withBackend(b), withConfig(func(c *simpleuser.Config) {
		c.OAuth.AllowedRedirects = map[string][]string{}
		for _, k := range oauthtest.Kinds {
			srv := oauthtest.NewServer(t, k)
			o.fakes[k] = srv
			c.OAuth.Providers = append(c.OAuth.Providers, srv.Provider(t))
			c.OAuth.AllowedRedirects[string(k)] = []string{callbackURI(k)}
		}
		for _, m := range mod {
			m(c)
		}
	}))
	return o
}

// start asks for the authorization URL (json mode) from ssaid.
func (o *oauthEnv) start(t *testing.T, ssaid string, k oauthtest.Kind) string {
	t.Helper()
	r := o.do(rq{method: "GET", path: "/oauth/" + string(k) + "/start", ssaid: ssaid,
		query: map[string]string{"redirectUri": callbackURI(k)}}).want(t, 200, "")
	u := r.str("url")
	if u == "" {
		t.Fatalf("start answered no url: %s", r.raw)
	}
	return u
}

// consent starts a flow from ssaid and plays the user's consent.
func (o *oauthEnv) consent(t *testing.T, ssaid string, k oauthtest.Kind) (code, state string) {
	t.Helper()
	code, state, err := o.fakes[k].Authorize(o.start(t, ssaid, k))
	if err != nil {
		t.Fatal(err)
	}
	return code, state
}

// callback calls the callback endpoint as the client forwarding the provider's redirect.
func (o *oauthEnv) callback(ssaid string, k oauthtest.Kind, q map[string]string) *res {
	o.t.Helper()
	return o.do(rq{method: "GET", path: "/oauth/" + string(k) + "/callback", ssaid: ssaid, query: q})
}

// signIn runs a whole sign-in and returns the token and user id.
func (o *oauthEnv) signIn(t *testing.T, ssaid string, k oauthtest.Kind) (string, int64) {
	t.Helper()
	code, state := o.consent(t, ssaid, k)
	r := o.callback(ssaid, k, map[string]string{"code": code, "state": state}).want(t, 200, "")
	if len(r.str("token")) != 64 || r.num("userId") <= 0 || r.str("tokenExpiresAt") == "" {
		t.Fatalf("callback answer %s", r.raw)
	}
	return r.str("token"), r.num("userId")
}

// TestOAuthSignInEachProvider: start → consent → callback → the token
// works on /me, for every provider, on both backend sets.
func TestOAuthSignInEachProvider(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		for _, k := range oauthtest.Kinds {
			t.Run(string(k), func(t *testing.T) {
				dev := o.ssaid("dev-" + string(k))
				anon := o.me(dev, "").want(t, 200, "").num("id")
				withEmail := k != oauthtest.X && k != oauthtest.TikTok
				o.fakes[k].SetUser(oauthtest.User{Subject: subjectFor(k, "1001"), Email: string(k) + "-" + o.uniq + "@example.com", EmailVerified: withEmail})
				tok, id := o.signIn(t, dev, k)
				if id != anon {
					t.Fatalf("user %d, want the device's anonymous user %d", id, anon)
				}
				me := o.me(dev, tok).want(t, 200, "")
				if me.num("id") != id || me.data["registered"] != true || me.data["passwordSet"] != false {
					t.Fatalf("/me %s", me.raw)
				}
				if email, _ := me.data["email"].(string); withEmail != (email != "") {
					t.Fatalf("/me email %v (provider gives one: %v)", me.data["email"], withEmail)
				}
				ids := o.do(rq{method: "GET", path: "/user-center/identities", ssaid: dev, token: tok}).want(t, 200, "")
				list, _ := ids.data["identities"].([]any)
				if len(list) != 1 || list[0].(map[string]any)["provider"] != string(k) || list[0].(map[string]any)["subject"] != subjectFor(k, "1001") {
					t.Fatalf("identities %s", ids.raw)
				}
				// Again from another device: the same account, a new session.
				tok2, id2 := o.signIn(t, o.ssaid("dev2-"+string(k)), k)
				if id2 != id || tok2 == tok {
					t.Fatalf("second sign-in: user %d token reused %v", id2, tok2 == tok)
				}
			})
		}
	})
}

// subjectFor is a subject the fake k accepts (GitHub ids are numbers).
func subjectFor(k oauthtest.Kind, n string) string {
	if k == oauthtest.GitHub {
		return n
	}
	return "sub-" + n
}

// TestOAuthRedirectModeAndCookie: a plain browser link starts the flow
// (302 to the provider, the ssaid in an HttpOnly cookie) and the provider's
// redirect reaches the callback without headers, recognised by the cookie.
func TestOAuthRedirectModeAndCookie(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		dev := o.ssaid("browser")
		r := o.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
			"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": dev}}).want(t, http.StatusFound, "")
		loc := r.header.Get("Location")
		if loc == "" || loc != r.str("url") {
			t.Fatalf("Location %q, data.url %q", loc, r.str("url"))
		}
		ck := cookieOf(t, r.header, oauthSSAIDCookie)
		if got, ok := ssaidFromCookie(ck.Value); !ok || got != dev || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || !ck.Secure || ck.Path != "/api/oauth/" || ck.MaxAge != 600 {
			t.Fatalf("cookie %+v", ck)
		}
		code, state, err := o.fakes[oauthtest.Google].Authorize(loc)
		if err != nil {
			t.Fatal(err)
		}
		cb := o.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state},
			header: map[string]string{"Cookie": oauthSSAIDCookie + "=" + ck.Value}}).want(t, 200, "")
		if cleared := cookieOf(t, cb.header, oauthSSAIDCookie); cleared.MaxAge >= 0 {
			t.Fatalf("the callback did not clear the cookie: %+v", cleared)
		}
		o.me(dev, cb.str("token")).want(t, 200, "")

		// Without header or cookie the callback cannot tell the device.
		o.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": "c", "state": "s"}}).want(t, 400, "SSAID_REQUIRED")
		// The query ssaid is for redirect mode only.
		o.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
			"redirectUri": callbackURI(oauthtest.Google), "ssaid": dev}}).want(t, 400, "SSAID_REQUIRED")
		o.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
			"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": "bad ssaid"}}).want(t, 400, "INVALID_INPUT")
	})
}

// TestOAuthRedirectModeSSAIDRoundTrip: in redirect mode the ssaid goes
// through the cookie unchanged, whatever printable ASCII it holds (net/http
// drops '"', ';' and '\\' from a raw cookie value and quotes one with ','):
// for each such character, and for one ssaid holding all of them, a
// browser (a cookie jar) runs start → provider → callback, and the
// callback signs in the device's own anonymous user.
func TestOAuthRedirectModeSSAIDRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		var all strings.Builder
		for c := byte(0x21); c <= 0x7e; c++ {
			all.WriteByte(c)
		}
		ssaids := []string{all.String()}
		for c := byte(0x21); c <= 0x7e; c++ {
			ssaids = append(ssaids, "c"+string(c)+"-"+o.uniq)
		}
		for i, dev := range ssaids {
			if !simpleuser.ValidSSAID(dev) {
				t.Fatalf("test ssaid %q is not valid", dev)
			}
			anon := o.me(dev, "").want(t, 200, "").num("id")
			o.fakes[oauthtest.Google].SetUser(oauthtest.User{Subject: fmt.Sprintf("sub-rt-%d", i)})
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			site := &url.URL{Scheme: "https", Host: "app.example", Path: "/api/oauth/google/start"}
			r := o.do(rq{method: "GET", path: "/oauth/google/start", query: map[string]string{
				"redirectUri": callbackURI(oauthtest.Google), "mode": "redirect", "ssaid": dev}}).want(t, http.StatusFound, "")
			jar.SetCookies(site, (&http.Response{Header: r.header}).Cookies())
			code, state, err := o.fakes[oauthtest.Google].Authorize(r.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			cbURL := &url.URL{Scheme: "https", Host: "app.example", Path: "/api/oauth/google/callback"}
			sent := jar.Cookies(cbURL)
			if len(sent) != 1 {
				t.Fatalf("ssaid %q: the browser sends %v to the callback", dev, sent)
			}
			cb := o.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": code, "state": state},
				header: map[string]string{"Cookie": sent[0].String()}}).want(t, 200, "")
			if cb.num("userId") != anon {
				t.Fatalf("ssaid %q: signed in user %d, want the device's anonymous user %d", dev, cb.num("userId"), anon)
			}
		}
	})
}

// TestOAuthSSAIDCookieIgnoredUnlessItDecodes: a cookie that is not the
// encoding of a valid ssaid counts as absent (400 SSAID_REQUIRED without
// the header), and never as another device; it is cleared all the same.
func TestOAuthSSAIDCookieIgnoredUnlessItDecodes(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0])
	for _, v := range []string{
		"plain-ssaid!",                        // the raw, unencoded form
		"ZGV2aWNl=",                           // padded
		"ZGV2aWNlAA",                          // decodes to "device\x00"
		cookieSSAID(strings.Repeat("a", 129)), // too long once decoded
		"ZGV2aWNl+/",                          // standard, not URL, alphabet
		base64.RawURLEncoding.EncodeToString([]byte("dev ice")), // a space
	} {
		r := o.do(rq{method: "GET", path: "/oauth/google/callback", query: map[string]string{"code": "c", "state": "s"},
			header: map[string]string{"Cookie": oauthSSAIDCookie + "=" + v}}).want(t, 400, "SSAID_REQUIRED")
		if cleared := cookieOf(t, r.header, oauthSSAIDCookie); cleared.MaxAge >= 0 {
			t.Fatalf("cookie %q not cleared: %+v", v, cleared)
		}
	}
}

func cookieOf(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, h["Set-Cookie"])
	return nil
}

// TestOAuthStartErrors: ssaid, provider, redirect URI and mode checks.
func TestOAuthStartErrors(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0])
	dev := o.ssaid("d")
	start := func(ssaid, provider string, q map[string]string) *res {
		return o.do(rq{method: "GET", path: "/oauth/" + provider + "/start", ssaid: ssaid, query: q})
	}
	ok := map[string]string{"redirectUri": callbackURI(oauthtest.GitHub)}
	start("", "github", ok).want(t, 400, "SSAID_REQUIRED")
	start(dev, "myspace", ok).want(t, 404, "UNKNOWN_PROVIDER")
	start(dev, "github", map[string]string{"redirectUri": "https://evil.example/cb"}).want(t, 400, "REDIRECT_NOT_ALLOWED")
	start(dev, "github", map[string]string{"redirectUri": callbackURI(oauthtest.GitHub) + "/"}).want(t, 400, "REDIRECT_NOT_ALLOWED")
	// Each provider's own URIs only: another provider's callback is refused.
	for _, k := range oauthtest.Kinds {
		for _, other := range oauthtest.Kinds {
			if other != k {
				start(dev, string(k), map[string]string{"redirectUri": callbackURI(other)}).want(t, 400, "REDIRECT_NOT_ALLOWED")
			}
		}
		start(dev, string(k), map[string]string{"redirectUri": callbackURI(k)}).want(t, 200, "")
	}
	start(dev, "github", map[string]string{}).want(t, 400, "INVALID_INPUT")
	start(dev, "github", map[string]string{"redirectUri": callbackURI(oauthtest.GitHub), "mode": "popup"}).want(t, 400, "INVALID_INPUT")
	// PKCE and a fresh state on every start.
	u1, u2 := o.start(t, dev, oauthtest.X), o.start(t, dev, oauthtest.X)
	q1, _ := url.Parse(u1)
	q2, _ := url.Parse(u2)
	if q1.Query().Get("state") == q2.Query().Get("state") || q1.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization URLs %s and %s", u1, u2)
	}
}

// TestOAuthNotConfigured: without providers the routes answer 404.
func TestOAuthNotConfigured(t *testing.T) {
	e := newEnv(t)
	e.do(rq{method: "GET", path: "/oauth/google/start", ssaid: e.ssaid("d"), query: map[string]string{"redirectUri": "https://a.example/cb"}}).want(t, 404, "UNKNOWN_PROVIDER")
	e.do(rq{method: "GET", path: "/oauth/google/callback", ssaid: e.ssaid("d"), query: map[string]string{"code": "c", "state": "s"}}).want(t, 404, "UNKNOWN_PROVIDER")
}

// TestOAuthCallbackErrors: the error paths of the callback, with their
// statuses in the envelope: denied consent, bad code, bad, replayed,
// foreign and expired state, mismatched nonce, provider down.
func TestOAuthCallbackErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		dev := o.ssaid("d")
		cb := func(k oauthtest.Kind, q map[string]string) *res { return o.callback(dev, k, q) }

		t.Run("denied consent", func(t *testing.T) {
			_, state := o.consent(t, dev, oauthtest.Google)
			cb(oauthtest.Google, map[string]string{"error": "access_denied", "state": state}).want(t, 403, "OAUTH_DENIED")
		})
		t.Run("bad state", func(t *testing.T) {
			code, state := o.consent(t, dev, oauthtest.GitHub)
			cb(oauthtest.GitHub, map[string]string{"code": code, "state": "forged"}).want(t, 403, "OAUTH_STATE")
			cb(oauthtest.GitHub, map[string]string{"code": code}).want(t, 403, "OAUTH_STATE")
			cb(oauthtest.Google, map[string]string{"code": code, "state": state}).want(t, 403, "OAUTH_STATE") // started for GitHub
			o.callback(o.ssaid("other-device"), oauthtest.GitHub, map[string]string{"code": code, "state": state}).want(t, 403, "OAUTH_STATE")
			// Neither burnt the state: GitHub's own callback still signs in.
			cb(oauthtest.GitHub, map[string]string{"code": code, "state": state}).want(t, 200, "")
		})
		t.Run("replayed state", func(t *testing.T) {
			code, state := o.consent(t, dev, oauthtest.Facebook)
			cb(oauthtest.Facebook, map[string]string{"code": code, "state": state}).want(t, 200, "")
			cb(oauthtest.Facebook, map[string]string{"code": code, "state": state}).want(t, 403, "OAUTH_STATE")
		})
		t.Run("expired state", func(t *testing.T) {
			code, state := o.consent(t, dev, oauthtest.LinkedIn)
			o.clock.Advance(10*time.Minute + time.Second)
			cb(oauthtest.LinkedIn, map[string]string{"code": code, "state": state}).want(t, 403, "OAUTH_STATE")
		})
		t.Run("mismatched nonce", func(t *testing.T) {
			o := newOAuthEnv(t, b) // its fakes keep the wrong nonce
			for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.LinkedIn, oauthtest.OIDC} {
				o.fakes[k].SetIDTokenNonce("another-flow's-nonce")
				code, state := o.consent(t, dev, k)
				o.callback(dev, k, map[string]string{"code": code, "state": state}).want(t, 403, "OAUTH_EXCHANGE")
			}
		})
		for _, k := range oauthtest.Kinds {
			t.Run("bad code/"+string(k), func(t *testing.T) {
				_, state := o.consent(t, dev, k)
				cb(k, map[string]string{"code": "not-issued", "state": state}).want(t, 403, "OAUTH_EXCHANGE")
			})
			t.Run("token endpoint 500/"+string(k), func(t *testing.T) {
				o.fakes[k].FailToken(http.StatusInternalServerError)
				defer o.fakes[k].FailToken(0)
				code, state := o.consent(t, dev, k)
				cb(k, map[string]string{"code": code, "state": state}).want(t, 502, "OAUTH_PROVIDER_UNAVAILABLE")
			})
			t.Run("profile endpoint 503/"+string(k), func(t *testing.T) {
				o.fakes[k].FailUserInfo(http.StatusServiceUnavailable)
				defer o.fakes[k].FailUserInfo(0)
				code, state := o.consent(t, dev, k)
				cb(k, map[string]string{"code": code, "state": state}).want(t, 502, "OAUTH_PROVIDER_UNAVAILABLE")
			})
			t.Run("rate limited/"+string(k), func(t *testing.T) {
				o.fakes[k].FailToken(http.StatusTooManyRequests)
				defer o.fakes[k].FailToken(0)
				code, state := o.consent(t, dev, k)
				r := cb(k, map[string]string{"code": code, "state": state}).want(t, 503, "OAUTH_PROVIDER_UNAVAILABLE")
				if r.header.Get("Retry-After") == "" {
					t.Fatal("503 without Retry-After")
				}
			})
		}
		t.Run("provider down", func(t *testing.T) {
			for _, k := range oauthtest.Kinds {
				code, state := o.consent(t, dev, k)
				o.fakes[k].Close()
				cb(k, map[string]string{"code": code, "state": state}).want(t, 503, "OAUTH_PROVIDER_UNAVAILABLE")
			}
		})
	})
}

// TestOAuthDisabledOnEverySignInMethod: 403 ACCOUNT_DISABLED for a disabled
// account on code login, password login, each provider, and on /me with
// the token or with the ssaid of a disabled anonymous user.
func TestOAuthDisabledOnEverySignInMethod(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		dev := o.ssaid("dis")
		a := o.email("dis")
		tok, id := o.register(dev, a, "password-1")
		for _, k := range oauthtest.Kinds {
			o.fakes[k].SetUser(oauthtest.User{Subject: subjectFor(k, "2002")})
			code, state := o.consent(t, dev, k)
			o.do(rq{method: "POST", path: "/user-center/identities/" + string(k) + "/link", ssaid: dev, token: tok,
				body: map[string]any{"code": code, "state": state}}).want(t, 200, "")
		}
		if err := o.svc.SetDisabled(t.Context(), id, true); err != nil {
			t.Fatal(err)
		}
		o.me(dev, tok).want(t, 401, "INVALID_TOKEN") // disabling revoked every session
		o.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "password": "password-1"}}).want(t, 403, "ACCOUNT_DISABLED")
		o.clock.Advance(time.Minute)
		code := o.sendCode(a, "Login")
		o.do(rq{method: "POST", path: "/login", ssaid: dev, body: map[string]any{"email": a, "code": code}}).want(t, 403, "ACCOUNT_DISABLED")
		for _, k := range oauthtest.Kinds {
			c, state := o.consent(t, dev, k)
			o.callback(dev, k, map[string]string{"code": c, "state": state}).want(t, 403, "ACCOUNT_DISABLED")
		}
		if err := o.svc.SetDisabled(t.Context(), id, false); err != nil {
			t.Fatal(err)
		}
		o.signIn(t, dev, oauthtest.X)

		// A disabled anonymous user: /me by its ssaid, and signing up from it.
		anonDev := o.ssaid("dis-anon")
		anon := o.me(anonDev, "").want(t, 200, "").num("id")
		if err := o.svc.SetDisabled(t.Context(), anon, true); err != nil {
			t.Fatal(err)
		}
		o.me(anonDev, "").want(t, 403, "ACCOUNT_DISABLED")
		o.fakes[oauthtest.GitHub].SetUser(oauthtest.User{Subject: "3003"})
		c, state := o.consent(t, anonDev, oauthtest.GitHub)
		o.callback(anonDev, oauthtest.GitHub, map[string]string{"code": c, "state": state}).want(t, 403, "ACCOUNT_DISABLED")
		o.do(rq{method: "PATCH", path: "/user-center/settings", ssaid: anonDev, body: map[string]any{"a": 1}}).want(t, 403, "ACCOUNT_DISABLED")
	})
}

// TestOAuthCallbackRevokesPresentedToken: like POST /login, the callback
// never reuses a token the client presented.
func TestOAuthCallbackRevokesPresentedToken(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0])
	dev := o.ssaid("d")
	old, _ := o.register(dev, o.email("a"), "")
	code, state := o.consent(t, dev, oauthtest.GitHub)
	r := o.do(rq{method: "GET", path: "/oauth/github/callback", ssaid: dev, token: old,
		query: map[string]string{"code": code, "state": state}}).want(t, 200, "")
	if r.str("token") == old {
		t.Fatal("token reused")
	}
	o.me(dev, old).want(t, 401, "INVALID_TOKEN")
	if !strings.HasSuffix(r.str("tokenExpiresAt"), "Z") {
		t.Fatalf("tokenExpiresAt %q", r.str("tokenExpiresAt"))
	}
}
