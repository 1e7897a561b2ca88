package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/simpleuser/simpleuser/internal/softauthn"
)

// begin does what passkeys.js does first: POST to the JSON API's begin
// endpoint path with the browser's cookies; it returns the challenge id
// and the options' publicKey member, as navigator.credentials takes it.
func (p *pageClient) begin(path string) (string, []byte) {
	p.t.Helper()
	req, err := http.NewRequest("POST", p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", p.base)
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Data struct {
			ChallengeID string `json:"challengeId"`
			Options     struct {
				PublicKey json.RawMessage `json:"publicKey"`
			} `json:"options"`
		} `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &env) != nil || env.Data.ChallengeID == "" || len(env.Data.Options.PublicKey) == 0 {
		p.t.Fatalf("begin %s: %d %s", path, resp.StatusCode, b)
	}
	return env.Data.ChallengeID, env.Data.Options.PublicKey
}

// The page as the browser sees it: relying party localhost, the origin
// of the page's default -addr 127.0.0.1:8080.
var (
	localPage = softauthn.Page{ID: "localhost", Name: "simpleuser example", Origin: "http://localhost:8080"}
	evilPage  = softauthn.Page{ID: "localhost", Name: "simpleuser example", Origin: "http://localhost:9999"}
)

// TestPagePasskeys drives the page's passkey forms over HTTP, with a
// software authenticator doing what the browser and passkeys.js do (the
// Chromium test, TestBrowserPasskeys, runs the script itself): register
// a passkey on the account page (a form without the authenticator's
// answer, or replayed, is refused in words); rename it; sign in with it
// and no address; a response made on another origin is refused;
// removing it needs a recent authentication, which the passkey itself
// gives on the re-authentication page; a removed passkey signs no one in.
func TestPagePasskeys(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			clock := &testClock{}
			s.now = clock.now
			a := newPageApp(t, s)
			base := startPage(t, a)
			email := fmt.Sprintf("page-passkey-%d@example.com", time.Now().UnixNano())
			p := newPageClient(t, base)
			p.get("/").want(200, "/")
			acc := signUpByCode(t, p, email, "")
			for _, id := range []string{"passkey-name", "add-passkey", "no-passkeys"} {
				if acc.byID(id) == nil {
					t.Fatalf("account page lacks #%s", id)
				}
			}
			if got := acc.header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || !strings.Contains(got, "connect-src 'self'") {
				t.Fatalf("CSP %q", got)
			}
			if js := p.get("/passkeys.js"); js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") || !strings.Contains(js.body, "navigator.credentials.create") {
				t.Fatalf("passkeys.js: %d %s", js.status, js.header.Get("Content-Type"))
			}

			// Register.
			auth := softauthn.New(softauthn.Options{})
			p.post("/account/passkeys/register", form("name", "Laptop")).wantError(400, "needs JavaScript")
			id, opts := p.begin("/api/user-center/passkeys/register/begin")
			cred := string(auth.Attest(t, localPage, opts))
			acc = p.post("/account/passkeys/register", form("challengeId", id, "credential", cred, "name", "Laptop")).want(200, "/account")
			if !strings.Contains(acc.notice(), "The passkey is added") || !strings.Contains(acc.text("passkey-list"), "Laptop") {
				t.Fatalf("registered: notice %q, list %q", acc.notice(), acc.text("passkey-list"))
			}
			acc.checkAccessible()
			p.post("/account/passkeys/register", form("challengeId", id, "credential", cred, "name", "Again")).wantError(400, "took too long")

			// Rename.
			pkID := attr(find(acc.byID("passkey-list"), func(n *html.Node) bool { return n.Data == "li" }), "data-passkey-id")
			p.post("/account/passkeys/rename", form("id", pkID, "name", "bad\x01name")).wantError(400, "Please check the form")
			if acc = p.post("/account/passkeys/rename", form("id", pkID, "name", "Work laptop")).want(200, "/account"); !strings.Contains(acc.text("passkey-list"), "Work laptop") {
				t.Fatalf("renamed: %q", acc.text("passkey-list"))
			}

			// Sign in with it, no address typed; not from another origin.
			p.post("/signout", nil).want(200, "/")
			id, opts = p.begin("/api/login/passkey/begin")
			p.post("/signin/passkey", form("challengeId", id, "credential", string(auth.Assert(t, evilPage, opts)))).wantError(403, "could not be verified")
			id, opts = p.begin("/api/login/passkey/begin")
			acc = p.post("/signin/passkey", form("challengeId", id, "credential", string(auth.Assert(t, localPage, opts)))).want(200, "/account")
			if acc.notice() != "You are signed in." || acc.profile()["Email address"] != email || !strings.Contains(acc.text("passkey-list"), "last used") {
				t.Fatalf("passkey sign-in: notice %q, profile %v, list %q", acc.notice(), acc.profile(), acc.text("passkey-list"))
			}

			// Remove: stale, so the re-authentication page first; the passkey confirms.
			clock.advance(11 * time.Minute)
			pg := p.post("/account/passkeys/remove", form("id", pkID)).wantError(403, "confirm it is you first")
			if pg.byID("passkey-verify") == nil {
				t.Fatalf("the re-authentication page offers no passkey: %.1500s", pg.body)
			}
			id, opts = p.begin("/api/user-center/mfa/passkey/begin")
			p.post("/account/reauth/passkey", form("challengeId", id, "credential", string(auth.Assert(t, localPage, opts)))).want(200, "/account")
			acc = p.post("/account/passkeys/remove", form("id", pkID)).want(200, "/account")
			if !strings.Contains(acc.notice(), "The passkey is removed") || acc.byID("no-passkeys") == nil {
				t.Fatalf("removed: notice %q", acc.notice())
			}
			p.post("/account/passkeys/remove", form("id", pkID)).wantError(404, "not on your account")

			// A removed passkey signs no one in.
			p.post("/signout", nil).want(200, "/")
			id, opts = p.begin("/api/login/passkey/begin")
			p.post("/signin/passkey", form("challengeId", id, "credential", string(auth.Assert(t, localPage, opts)))).wantError(403, "not registered here")
		})
	}
}
