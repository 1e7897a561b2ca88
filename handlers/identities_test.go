package handlers

import (
	"net/url"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// TestIdentitiesLinkListUnlink: the user-center identity endpoints.
func TestIdentitiesLinkListUnlink(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		o := newOAuthEnv(t, b)
		dev := o.ssaid("d")
		tok, id := o.register(dev, o.email("a"), "")
		link := func(tok string, k oauthtest.Kind, body any) *res {
			return o.do(rq{method: "POST", path: "/user-center/identities/" + string(k) + "/link", ssaid: dev, token: tok, body: body})
		}
		list := func() []any {
			r := o.do(rq{method: "GET", path: "/user-center/identities", ssaid: dev, token: tok}).want(t, 200, "")
			l, _ := r.data["identities"].([]any)
			return l
		}
		if got := list(); len(got) != 0 {
			t.Fatalf("identities of a new account: %v", got)
		}
		o.fakes[oauthtest.GitHub].SetUser(oauthtest.User{Subject: "77", Email: "a@github.example", EmailVerified: true})
		code, state := o.consent(t, dev, oauthtest.GitHub)
		r := link(tok, oauthtest.GitHub, map[string]any{"code": code, "state": state}).want(t, 200, "")
		if r.str("provider") != "github" || r.str("subject") != "77" || r.str("email") != "a@github.example" || r.data["emailVerified"] != true {
			t.Fatalf("link answer %s", r.raw)
		}
		// An OIDC subject with a slash, unlinked through its percent-encoded path.
		o.fakes[oauthtest.OIDC].SetUser(oauthtest.User{Subject: "tenant/42"})
		code, state = o.consent(t, dev, oauthtest.OIDC)
		link(tok, oauthtest.OIDC, map[string]any{"code": code, "state": state}).want(t, 200, "")
		if got := list(); len(got) != 2 {
			t.Fatalf("identities %v", got)
		}
		// The token still works (nothing revoked) and the identity signs in.
		o.me(dev, tok).want(t, 200, "")
		if _, uid := o.signIn(t, o.ssaid("elsewhere"), oauthtest.GitHub); uid != id {
			t.Fatalf("sign-in with the linked identity: user %d, want %d", uid, id)
		}

		// Errors of link: denied, bad state, no token, anonymous, taken.
		_, state = o.consent(t, dev, oauthtest.X)
		link(tok, oauthtest.X, map[string]any{"error": "access_denied", "state": state}).want(t, 403, "OAUTH_DENIED")
		link(tok, oauthtest.X, map[string]any{"code": "c", "state": "forged"}).want(t, 403, "OAUTH_STATE")
		link("", oauthtest.X, map[string]any{"code": "c", "state": "s"}).want(t, 401, "AUTH_REQUIRED")
		link(tok, "myspace", map[string]any{"code": "c", "state": "s"}).want(t, 404, "UNKNOWN_PROVIDER")
		link(tok, oauthtest.X, map[string]any{"code": true}).want(t, 400, "INVALID_INPUT")
		link(tok, oauthtest.X, "[]").want(t, 400, "INVALID_INPUT")
		otherDev := o.ssaid("other")
		otherTok, _ := o.register(otherDev, o.email("b"), "")
		code, state = o.consent(t, otherDev, oauthtest.GitHub)
		o.do(rq{method: "POST", path: "/user-center/identities/github/link", ssaid: otherDev, token: otherTok,
			body: map[string]any{"code": code, "state": state}}).want(t, 409, "IDENTITY_TAKEN")

		// Unlink.
		del := func(tok, provider, subject string) *res {
			return o.do(rq{method: "DELETE", path: "/user-center/identities/" + provider + "/" + url.PathEscape(subject), ssaid: dev, token: tok})
		}
		del(tok, "oidc", "tenant/42").want(t, 200, "").noData(t)
		del(tok, "oidc", "tenant/42").want(t, 404, "IDENTITY_NOT_FOUND")
		del("", "github", "77").want(t, 401, "AUTH_REQUIRED")
		del(tok, "github", "77").want(t, 200, "") // the account has an email: fine
		if got := list(); len(got) != 0 {
			t.Fatalf("identities after unlinking all: %v", got)
		}
		o.me(dev, tok).want(t, 200, "")
	})
}

// TestUnlinkLastSignInMethod: 409 for the only way into an email-less account.
func TestUnlinkLastSignInMethod(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0])
	dev := o.ssaid("d")
	o.fakes[oauthtest.TikTok].SetUser(oauthtest.User{Subject: "only"})
	tok, _ := o.signIn(t, dev, oauthtest.TikTok)
	me := o.me(dev, tok).want(t, 200, "")
	if me.data["email"] != nil || me.data["registered"] != true {
		t.Fatalf("/me of a TikTok-only account: %s", me.raw)
	}
	o.do(rq{method: "DELETE", path: "/user-center/identities/tiktok/only", ssaid: dev, token: tok}).want(t, 409, "LAST_SIGN_IN_METHOD")
	// No password without an email, which change-email adds.
	o.do(rq{method: "POST", path: "/user-center/change-password", ssaid: dev, token: tok,
		body: map[string]any{"newPassword": "password-1"}}).want(t, 400, "EMAIL_REQUIRED")
	a := o.email("tt")
	code := o.sendCode(a, "ChangeEmail")
	o.do(rq{method: "POST", path: "/user-center/change-email", ssaid: dev, token: tok, body: map[string]any{"email": a, "code": code}}).want(t, 200, "")
	o.do(rq{method: "DELETE", path: "/user-center/identities/tiktok/only", ssaid: dev, token: tok}).want(t, 200, "")
}

// TestAnonymousCannotLink: 402 for an anonymous user (no token: 401).
func TestAnonymousCannotLink(t *testing.T) {
	o := newOAuthEnv(t, backendSets[0])
	dev := o.ssaid("d")
	o.do(rq{method: "GET", path: "/user-center/identities", ssaid: dev}).want(t, 401, "AUTH_REQUIRED")
	u, err := o.svc.ResolveUser(t.Context(), simpleuser.Client{SSAID: dev})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.svc.OAuthLink(t.Context(), simpleuser.Client{SSAID: dev}, u, "github", "s", "c", "")
	if e := simpleuser.AsError(err); e.Status != 402 {
		t.Fatalf("link by an anonymous user: %v", err)
	}
}

// TestPatternRoutes: the path-parameter routes get the 404/405 envelopes.
func TestPatternRoutes(t *testing.T) {
	e := newEnv(t)
	dev := e.ssaid("d")
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"POST", "/oauth/google/start", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
		{"GET", "/oauth//start", 404, "NOT_FOUND", ""},
		{"GET", "/oauth/google/start/x", 404, "NOT_FOUND", ""},
		{"GET", "/user-center/identities/github/link", 405, "METHOD_NOT_ALLOWED", "POST"},
		{"GET", "/user-center/identities/github/77", 405, "METHOD_NOT_ALLOWED", "DELETE"},
		{"DELETE", "/user-center/identities/github", 404, "NOT_FOUND", ""},
		{"POST", "/user-center/settings", 405, "METHOD_NOT_ALLOWED", "PATCH"},
	} {
		r := e.do(rq{method: tc.method, path: tc.path, ssaid: dev}).want(t, tc.status, tc.code)
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}
