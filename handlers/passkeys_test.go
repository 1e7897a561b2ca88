package handlers

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/softauthn"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/user"
)

// page is the app's page as the software authenticator's browser sees it.
var page = softauthn.Page{ID: "app.example", Name: "App", Origin: "https://app.example"}

// passkeysOn enables passkeys for page's origin, keeping the store the
// backend set chose (PostgreSQL on the real set, memory otherwise).
func passkeysOn(c *simpleuser.Config) {
	c.Passkeys = simpleuser.PasskeyConfig{Enabled: true, RPID: "app.example", RPName: "App",
		Origins: []string{"https://app.example"}, Store: c.Passkeys.Store}
}

// recorder captures what the hooks see.
type recorder struct {
	mu       sync.Mutex
	events   []hooks.Event
	logins   []hooks.LoginInfo
	migrated [][2]int64 // anonymous id, account id
}

func (r *recorder) hooks(c *simpleuser.Config) {
	c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
		return nil
	}
	c.Hooks.OnLogin = func(_ context.Context, _ *user.User, info hooks.LoginInfo) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.logins = append(r.logins, info)
		return nil
	}
	c.Hooks.OnMigrateUser = func(_ context.Context, anon, acct *user.User) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.migrated = append(r.migrated, [2]int64{anon.ID, acct.ID})
		return nil
	}
}

// event returns the last event of type typ, or nil.
func (r *recorder) event(typ string) *hooks.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Type == typ {
			e := r.events[i]
			return &e
		}
	}
	return nil
}

// optionsOf returns the options of a begin answer as raw JSON.
func optionsOf(t *testing.T, r *res) []byte {
	t.Helper()
	var d struct {
		Options json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal(r.env["data"], &d); err != nil || len(d.Options) == 0 {
		t.Fatalf("no options in %s (%v)", r.raw, err)
	}
	return d.Options
}

// addPasskey registers a's passkey for the user of token, named name; it
// returns the passkey as the API lists it.
func (e *env) addPasskey(t *testing.T, ssaid, token string, a *softauthn.Authenticator, name string) *res {
	t.Helper()
	b := e.do(rq{method: "POST", path: "/user-center/passkeys/register/begin", ssaid: ssaid, token: token}).want(t, 200, "")
	return e.do(rq{method: "POST", path: "/user-center/passkeys/register/finish", ssaid: ssaid, token: token, body: map[string]any{
		"challengeId": b.str("challengeId"), "credential": json.RawMessage(a.Attest(t, page, optionsOf(t, b))), "name": name,
	}})
}

// passkeySignIn signs in from ssaid with a's passkey, as seen from vp.
func (e *env) passkeySignIn(t *testing.T, ssaid string, a *softauthn.Authenticator, vp softauthn.Page) *res {
	t.Helper()
	b := e.do(rq{method: "POST", path: "/login/passkey/begin", ssaid: ssaid}).want(t, 200, "")
	return e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: ssaid, body: map[string]any{
		"challengeId": b.str("challengeId"), "credential": json.RawMessage(a.Assert(t, vp, optionsOf(t, b))),
	}})
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestPasskeyRegisterAndSignIn: a signed-in user registers a passkey; on
// another device, with no address typed, the passkey signs them in as a
// login does: OnLogin (Method passkey), the device's anonymous user handed
// to OnMigrateUser, LoggedIn, a fresh session; the response works once.
func TestPasskeyRegisterAndSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		rec := &recorder{}
		e := newEnv(t, withBackend(b), withConfig(passkeysOn), withConfig(rec.hooks))
		email := e.email("ann")
		tok, uid := e.register(e.ssaid("laptop"), email, "")

		a := softauthn.New(softauthn.Options{BackupEligible: true, BackupState: true})
		r := e.addPasskey(t, e.ssaid("laptop"), tok, a, "  My laptop ")
		r.want(t, 200, "")
		if r.str("id") != passkey.EncodeID(a.Cred.ID) || r.str("name") != "My laptop" || !uuidRE.MatchString(r.str("aaguid")) ||
			r.data["backupEligible"] != true || r.data["backedUp"] != true || r.data["lastUsedAt"] != nil {
			t.Errorf("registered passkey = %s", r.raw)
		}
		if ev := rec.event(hooks.PasskeyAdded); ev == nil || ev.UserID != uid || ev.Passkey == nil ||
			ev.Passkey.ID != r.str("id") || ev.Passkey.Name != "My laptop" || ev.SSAID != e.ssaid("laptop") {
			t.Errorf("PasskeyAdded event = %+v", ev)
		}
		list := e.do(rq{method: "GET", path: "/user-center/passkeys", ssaid: e.ssaid("laptop"), token: tok}).want(t, 200, "")
		if len(list.list) != 1 || list.list[0]["id"] != r.str("id") {
			t.Errorf("list = %s", list.raw)
		}

		// Another device, whose anonymous user exists: sign in by passkey.
		phone := e.ssaid("phone")
		anon := e.me(phone, "").want(t, 200, "").num("id")
		e.clock.Advance(time.Minute)
		b1 := e.do(rq{method: "POST", path: "/login/passkey/begin", ssaid: phone}).want(t, 200, "")
		if len(b1.str("challengeId")) != 43 {
			t.Errorf("challengeId %q", b1.str("challengeId"))
		}
		finish := map[string]any{"challengeId": b1.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, b1)))}
		s := e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: phone, body: finish}).want(t, 200, "")
		newTok := s.str("token")
		if len(newTok) != 64 || s.num("userId") != uid || newTok == tok {
			t.Fatalf("sign-in answer %s", s.raw)
		}
		if got := e.me(phone, newTok).want(t, 200, ""); got.str("email") != email || got.num("id") != uid {
			t.Errorf("/me with the passkey session = %s", got.raw)
		}
		rec.mu.Lock()
		last := rec.logins[len(rec.logins)-1]
		migrated := slices.Contains(rec.migrated, [2]int64{anon, uid})
		rec.mu.Unlock()
		if last.Method != "passkey" || last.SSAID != phone || last.Created {
			t.Errorf("OnLogin info = %+v, want method passkey from the phone", last)
		}
		if !migrated {
			t.Errorf("OnMigrateUser was not told (anonymous %d, account %d): %v", anon, uid, rec.migrated)
		}
		if ev := rec.event(hooks.LoggedIn); ev == nil || ev.UserID != uid || ev.SSAID != phone {
			t.Errorf("LoggedIn event = %+v", ev)
		}
		listed := e.do(rq{method: "GET", path: "/user-center/passkeys", ssaid: phone, token: newTok}).want(t, 200, "")
		if len(listed.list) != 1 || listed.list[0]["lastUsedAt"] == nil {
			t.Errorf("the sign-in was not recorded: %s", listed.raw)
		}

		// The same response again: the challenge is spent.
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: phone, body: finish}).want(t, 400, simpleuser.CodePasskeyChallenge)
		// A token sent to the sign-in is revoked (no fixation).
		b2 := e.do(rq{method: "POST", path: "/login/passkey/begin", ssaid: phone, token: newTok}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: phone, token: newTok, body: map[string]any{
			"challengeId": b2.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, b2))),
		}}).want(t, 200, "")
		e.me(phone, newTok).want(t, 401, simpleuser.CodeInvalidToken)
	})
}

// TestPasskeyCookieMode: in cookie mode, a passkey sign-in sets the
// session cookie, as every login does.
func TestPasskeyCookieMode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(passkeysOn), withConfig(cookieModeOn))
		tok, uid := e.register(e.ssaid("a"), e.email("cookie"), "")
		a := softauthn.New(softauthn.Options{})
		e.addPasskey(t, e.ssaid("a"), tok, a, "k").want(t, 200, "")

		br := newBrowser(e)
		if br.me().want(t, 200, "").data["registered"] != false {
			t.Fatal("a fresh browser is not anonymous")
		}
		begin := br.do(rq{method: "POST", path: "/login/passkey/begin"}).want(t, 200, "")
		fin := br.do(rq{method: "POST", path: "/login/passkey/finish", body: map[string]any{
			"challengeId": begin.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, begin))),
		}}).want(t, 200, "")
		if c := sessionSet(fin); c == nil || c.Value != fin.str("token") || !c.HttpOnly {
			t.Fatalf("the sign-in set no session cookie: %v", fin.header)
		}
		if got := br.me().want(t, 200, ""); got.num("id") != uid {
			t.Errorf("/me by the cookie = %s", got.raw)
		}
		// The browser manages its passkeys with the cookie alone.
		if l := br.do(rq{method: "GET", path: "/user-center/passkeys"}).want(t, 200, ""); len(l.list) != 1 {
			t.Errorf("list by cookie = %s", l.raw)
		}
		// A cross-site page cannot drive the ceremony with the user's cookies.
		br.from("cross-site", "https://evil.example").do(rq{method: "POST", path: "/user-center/passkeys/register/begin"}).want(t, 403, simpleuser.CodeCSRF)
	})
}

// TestPasskeyManage: rename and remove, only the user's own; a removed
// passkey no longer signs in.
func TestPasskeyManage(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		rec := &recorder{}
		e := newEnv(t, withBackend(b), withConfig(passkeysOn), withConfig(rec.hooks))
		dev := e.ssaid("d")
		tok, uid := e.register(dev, e.email("owner"), "")
		other, _ := e.register(e.ssaid("o"), e.email("other"), "")
		a := softauthn.New(softauthn.Options{})
		id := e.addPasskey(t, dev, tok, a, "old").want(t, 200, "").str("id")
		path := "/user-center/passkeys/" + id

		r := e.do(rq{method: "PATCH", path: path, ssaid: dev, token: tok, body: map[string]any{"name": "Work key ✓"}}).want(t, 200, "")
		if r.str("name") != "Work key ✓" || r.str("id") != id {
			t.Errorf("rename answer %s", r.raw)
		}
		e.do(rq{method: "PATCH", path: path, ssaid: e.ssaid("o"), token: other, body: map[string]any{"name": "mine now"}}).want(t, 404, simpleuser.CodePasskeyNotFound)
		e.do(rq{method: "PATCH", path: path, ssaid: dev, token: tok, body: map[string]any{"name": "bad\tname"}}).want(t, 400, simpleuser.CodeInvalidInput)
		e.do(rq{method: "PATCH", path: path, ssaid: dev, token: tok, body: map[string]any{"name": string(make([]byte, 65))}}).want(t, 400, simpleuser.CodeInvalidInput)
		e.do(rq{method: "PATCH", path: "/user-center/passkeys/not-an-id", ssaid: dev, token: tok, body: map[string]any{"name": "x"}}).want(t, 404, simpleuser.CodePasskeyNotFound)
		e.do(rq{method: "DELETE", path: path, ssaid: e.ssaid("o"), token: other}).want(t, 404, simpleuser.CodePasskeyNotFound)
		if l := e.do(rq{method: "GET", path: "/user-center/passkeys", ssaid: dev, token: tok}).want(t, 200, ""); len(l.list) != 1 || l.list[0]["name"] != "Work key ✓" {
			t.Errorf("after refused changes: %s", l.raw)
		}

		e.do(rq{method: "DELETE", path: path, ssaid: dev, token: tok}).want(t, 200, "")
		if ev := rec.event(hooks.PasskeyRemoved); ev == nil || ev.UserID != uid || ev.Passkey == nil || ev.Passkey.ID != id || ev.Passkey.Name != "Work key ✓" {
			t.Errorf("PasskeyRemoved event = %+v", ev)
		}
		if l := e.do(rq{method: "GET", path: "/user-center/passkeys", ssaid: dev, token: tok}).want(t, 200, ""); len(l.list) != 0 {
			t.Errorf("list after remove: %s", l.raw)
		}
		e.do(rq{method: "DELETE", path: path, ssaid: dev, token: tok}).want(t, 404, simpleuser.CodePasskeyNotFound)
		e.passkeySignIn(t, e.ssaid("x"), a, page).want(t, 403, simpleuser.CodePasskeyUnknown)
	})
}

// TestPasskeyRefusals: the flows' failures are clear 4xx answers (never 5xx)
// on every backend.
func TestPasskeyRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		rec := &recorder{}
		e := newEnv(t, withBackend(b), withConfig(passkeysOn), withConfig(rec.hooks))
		dev := e.ssaid("d")
		tok, uid := e.register(dev, e.email("u"), "")
		a := softauthn.New(softauthn.Options{})
		a.Cred.Counter = 5
		e.addPasskey(t, dev, tok, a, "k").want(t, 200, "")

		// Registration needs a session, and is refused from another origin
		// or without user verification.
		e.do(rq{method: "POST", path: "/user-center/passkeys/register/begin", ssaid: dev}).want(t, 401, simpleuser.CodeAuthRequired)
		evil := softauthn.Page{ID: "app.example", Origin: "https://app.example.evil.test"}
		bg := e.do(rq{method: "POST", path: "/user-center/passkeys/register/begin", ssaid: dev, token: tok}).want(t, 200, "")
		e.do(rq{method: "POST", path: "/user-center/passkeys/register/finish", ssaid: dev, token: tok, body: map[string]any{
			"challengeId": bg.str("challengeId"), "credential": json.RawMessage(softauthn.New(softauthn.Options{}).Attest(t, evil, optionsOf(t, bg))),
		}}).want(t, 403, simpleuser.CodePasskeyRefused)
		noUV := softauthn.New(softauthn.Options{UserNotVerified: true})
		e.addPasskey(t, dev, tok, noUV, "").want(t, 403, simpleuser.CodePasskeyRefused)
		e.addPasskey(t, dev, tok, a, "again").want(t, 409, simpleuser.CodePasskeyExists)

		// Sign-in: wrong origin, malformed response, unknown challenge,
		// expired challenge, counter regression.
		a.Cred.Counter = 6
		e.passkeySignIn(t, e.ssaid("p"), a, evil).want(t, 403, simpleuser.CodePasskeyRefused)
		sb := e.do(rq{method: "POST", path: "/login/passkey/begin", ssaid: e.ssaid("p")}).want(t, 200, "")
		for _, bad := range []any{
			map[string]any{"challengeId": sb.str("challengeId"), "credential": map[string]any{"id": "x"}},
			map[string]any{"challengeId": sb.str("challengeId"), "credential": "a string"},
			map[string]any{"challengeId": sb.str("challengeId")},
			map[string]any{"credential": map[string]any{}},
			"not json",
		} {
			e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: e.ssaid("p"), body: bad}).want(t, 400, simpleuser.CodeInvalidInput)
		}
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: e.ssaid("p"), body: map[string]any{
			"challengeId": "unknown", "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, sb))),
		}}).want(t, 400, simpleuser.CodePasskeyChallenge)
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: e.ssaid("another-device"), body: map[string]any{
			"challengeId": sb.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, sb))),
		}}).want(t, 400, simpleuser.CodePasskeyChallenge)
		e.clock.Advance(passkey.DefaultChallengeTTL)
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: e.ssaid("p"), body: map[string]any{
			"challengeId": sb.str("challengeId"), "credential": json.RawMessage(a.Assert(t, page, optionsOf(t, sb))),
		}}).want(t, 400, simpleuser.CodePasskeyChallenge)
		e.do(rq{method: "POST", path: "/login/passkey/finish", ssaid: e.ssaid("p"), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "challengeId=x"}).want(t, 415, simpleuser.CodeUnsupportedMedia)

		a.Cred.Counter = 8
		e.passkeySignIn(t, e.ssaid("p"), a, page).want(t, 200, "")
		clone := a.Clone()
		clone.Cred.Counter = 7
		e.passkeySignIn(t, e.ssaid("p"), clone, page).want(t, 403, simpleuser.CodePasskeyCounter)
		if ev := rec.event(hooks.LoginFailed); ev == nil || ev.UserID != uid || ev.Reason != "passkey" || ev.Passkey == nil {
			t.Errorf("LoginFailed event for the cloned authenticator = %+v", ev)
		}

		// No ssaid: 400; a disabled account: 403.
		e.do(rq{method: "POST", path: "/login/passkey/begin"}).want(t, 400, simpleuser.CodeSSAIDRequired)
		e.setDisabled(uid, true)
		a.Cred.Counter = 9
		e.passkeySignIn(t, e.ssaid("p"), a, page).want(t, 403, simpleuser.CodeAccountDisabled)
	})
}

// TestPasskeysDisabled: without Config.Passkeys.Enabled every passkey
// route answers 404 PASSKEYS_DISABLED.
func TestPasskeysDisabled(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.register(e.ssaid("d"), e.email("x"), "")
	for _, r := range []rq{
		{method: "POST", path: "/login/passkey/begin"},
		{method: "POST", path: "/login/passkey/finish", body: map[string]any{"challengeId": "x", "credential": map[string]any{}}},
		{method: "POST", path: "/user-center/passkeys/register/begin", token: tok},
		{method: "POST", path: "/user-center/passkeys/register/finish", token: tok, body: map[string]any{"challengeId": "x", "credential": map[string]any{}}},
		{method: "GET", path: "/user-center/passkeys", token: tok},
		{method: "PATCH", path: "/user-center/passkeys/abc", token: tok, body: map[string]any{"name": "x"}},
		{method: "DELETE", path: "/user-center/passkeys/abc", token: tok},
	} {
		r.ssaid = e.ssaid("d")
		e.do(r).want(t, 404, simpleuser.CodePasskeysDisabled)
	}
}

// TestPasskeyNeedsSession: an anonymous device has no session to manage
// passkeys with (401).
func TestPasskeyNeedsSession(t *testing.T) {
	e := newEnv(t, withConfig(passkeysOn))
	for _, r := range []rq{
		{method: "POST", path: "/user-center/passkeys/register/begin"},
		{method: "GET", path: "/user-center/passkeys"},
		{method: "DELETE", path: "/user-center/passkeys/abc"},
	} {
		r.ssaid = e.ssaid("anon")
		e.do(r).want(t, 401, simpleuser.CodeAuthRequired)
	}
}
