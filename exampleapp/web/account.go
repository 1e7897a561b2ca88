package web

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// themes are the choices of the page's one settings field.
var themes = []string{"system", "light", "dark"}

// accountView is what the account page shows.
type accountView struct {
	User         *user.User
	Fields       []fieldView // the profile: the kit's fields, then the app's
	Sessions     []simpleuser.SessionInfo
	Identities   []identityView
	Link         []providerLink
	Theme        string
	Themes       []string
	News         bool
	PendingEmail string // a ChangeEmail code was sent there
	GraceDays    int
	MFA          *mfaView
	PasskeyList  []passkeyView
}

type fieldView struct{ Name, Value string }

type identityView struct {
	user.Identity
	Label string
}

// requireUser returns the signed-in user, or answers: a redirect to the
// sign-in page (with why) when there is no live session, or the problem
// page for any other failure (a disabled account, a backend down).
func (h *handler) requireUser(w http.ResponseWriter, r *http.Request) (*user.User, bool) {
	u, ended, err := sessionUser(r)
	switch {
	case inChallenge(err): // signed in by a first factor only
		h.seeOther(w, r, "/signin/challenge", flashData{})
		return nil, false
	case err != nil:
		h.fail(w, r, "problem", &view{Title: "Your account"}, err)
		return nil, false
	case u == nil && ended:
		h.seeOther(w, r, "/", flashData{Key: "session-ended"})
		return nil, false
	case u == nil && r.URL.Query().Get("error") != "":
		// A provider sign-in that failed returns here (returnTo): the
		// start page says why.
		h.seeOther(w, r, "/?"+url.Values{"error": {r.URL.Query().Get("error")}}.Encode(), flashData{})
		return nil, false
	case u == nil:
		h.seeOther(w, r, "/", flashData{Key: "signin-first"})
		return nil, false
	}
	return u, true
}

// accountView reads what the account page shows of u.
func (h *handler) accountView(r *http.Request, u *user.User) (*view, error) {
	ctx := r.Context()
	a := &accountView{User: u, Themes: themes, Theme: "system",
		GraceDays: int(math.Ceil(h.svc.Config().UnregisterGrace.Hours() / 24))}
	email := u.Email
	if email == "" {
		email = "(none)"
	}
	pw := "not set"
	if u.PasswordSet() {
		pw = "set"
	}
	a.Fields = []fieldView{{"Email address", email}, {"User id", fmt.Sprint(u.ID)}, {"Password", pw}, {"Member since", when(u.CreatedAt)}}
	if mf := h.svc.Hooks().MeFields; mf != nil {
		extra, err := mf(ctx, u)
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(extra)) {
			a.Fields = append(a.Fields, fieldView{humanize(k), fmt.Sprint(extra[k])})
		}
	}
	var err error
	if a.Sessions, err = h.svc.ListSessions(ctx, u.ID, client(r).Token); err != nil {
		return nil, err
	}
	ids, err := h.svc.Identities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, idn := range ids {
		a.Identities = append(a.Identities, identityView{Identity: idn, Label: h.label(idn.Provider)})
	}
	a.Link = h.linkLinks()
	if t, ok := u.Settings["theme"].(string); ok && slices.Contains(themes, t) {
		a.Theme = t
	}
	a.News, _ = u.Settings["newsletter"].(bool)
	if a.MFA, err = h.mfaView(r, u); err != nil {
		return nil, err
	}
	if a.PasskeyList, err = h.passkeyViews(r, u.ID); err != nil {
		return nil, err
	}
	return &view{Title: "Your account", SignedIn: true, Account: a}, nil
}

// humanize writes a JSON field name for people: "referralCode" →
// "Referral code".
func humanize(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		case r == '_':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// label is a provider's name for people.
func (h *handler) label(name string) string {
	for _, p := range h.opts.Providers {
		if p.Name == name {
			return p.Label
		}
	}
	return name
}

// GET /account
func (h *handler) account(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	f, notice := h.takeFlash(w, r)
	v, err := h.accountView(r, u)
	if err != nil {
		h.fail(w, r, "problem", &view{Title: "Your account"}, err)
		return
	}
	v.Notice = notice
	v.Error = explainCode(r.URL.Query().Get("error"))
	if f.Key == "email-code-sent" && user.ValidEmail(f.Email) {
		v.Account.PendingEmail = f.Email
	}
	h.render(w, r, 0, "account", v)
}

// accountFail renders the account page again with err (pending: the
// address a ChangeEmail code was sent to, to keep its form).
// A refusal for want of a recent authentication shows the
// re-authentication page instead.
func (h *handler) accountFail(w http.ResponseWriter, r *http.Request, u *user.User, err error, pending string) {
	if simpleuser.AsError(err).Code == mfa.CodeReauthRequired {
		h.reauthPage(w, r, u, err)
		return
	}
	v, verr := h.accountView(r, u)
	if verr != nil {
		h.fail(w, r, "problem", &view{Title: "Your account"}, verr)
		return
	}
	v.Account.PendingEmail = pending
	h.fail(w, r, "account", v, err)
}

// action runs one form of the account page: it requires the user, reads
// the form and runs do, which returns the flash of the redirect back to
// the account page, or an error shown there.
func (h *handler) action(w http.ResponseWriter, r *http.Request, do func(u *user.User, form map[string][]string) (flashData, string, error)) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	f, pending, err := do(u, form)
	if err != nil {
		h.accountFail(w, r, u, err, pending)
		return
	}
	h.seeOther(w, r, "/account", f)
}

func get(form map[string][]string, k string) string {
	if v := form[k]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// POST /account/sessions/end: end one session; ending this browser's own
// is a log out.
func (h *handler) endSession(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	id := get(form, "id")
	if err := h.svc.EndSession(r.Context(), u.ID, id); err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	if tok := client(r).Token; h.svc.Sessions().ID(session.Key(tok)) == id {
		middleware.ClearSessionCookie(w, h.svc)
		h.seeOther(w, r, "/", flashData{Key: "signed-out"})
		return
	}
	h.seeOther(w, r, "/account", flashData{Key: "session-ended-one"})
}

// POST /account/sessions/end-others
func (h *handler) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, _ map[string][]string) (flashData, string, error) {
		n, err := h.svc.EndOtherSessions(r.Context(), u.ID, client(r).Token)
		return flashData{Key: "sessions-ended", N: n}, "", err
	})
}

// POST /account/identities/unlink
func (h *handler) unlink(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		err := h.svc.Unlink(r.Context(), u, get(form, "provider"), get(form, "subject"))
		return flashData{Key: "unlinked"}, "", err
	})
}

// GET /account/link/{provider}: the provider sends the browser back here
// (a redirect URI of the provider's link flow, started from the account
// page in redirect mode); the account gets the provider account linked.
func (h *handler) linkCallback(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	for _, k := range []string{"code", "state", "error"} {
		if !textcheck.String(q.Get(k)) {
			h.accountFail(w, r, u, simpleuser.InvalidInput(k+" holds text that cannot be stored"), "")
			return
		}
	}
	if _, err := h.svc.OAuthLink(r.Context(), client(r), u, r.PathValue("provider"), q.Get("state"), q.Get("code"), q.Get("error")); err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	h.seeOther(w, r, "/account", flashData{Key: "linked"})
}

// POST /account/settings
func (h *handler) saveSettings(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		theme := get(form, "theme")
		if !slices.Contains(themes, theme) {
			return flashData{}, "", simpleuser.InvalidInput("theme must be one of " + strings.Join(themes, ", "))
		}
		news := get(form, "newsletter") == "yes"
		_, err := h.svc.UpdateSettings(r.Context(), u.ID, func(m map[string]any) error {
			m["theme"], m["newsletter"] = theme, news
			return nil
		})
		return flashData{Key: "settings-saved"}, "", err
	})
}

// POST /account/password: change (or first set) the password; the other
// sessions end, this one stays.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		pw := form["newPassword"]
		if len(pw) == 0 || pw[0] == "" {
			return flashData{}, "", simpleuser.InvalidInput("enter a new password")
		}
		if again := form["repeatPassword"]; len(again) == 0 || again[0] != pw[0] {
			return flashData{}, "", simpleuser.InvalidInput("the two new passwords differ")
		}
		cur := ""
		if v := form["currentPassword"]; len(v) > 0 {
			cur = v[0]
		}
		err := h.svc.ChangePassword(r.Context(), client(r), u, pw[0], cur)
		return flashData{Key: "password-changed"}, "", err
	})
}

// POST /account/email: send a ChangeEmail code to the new address.
func (h *handler) sendEmailCode(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		email := get(form, "email")
		err := h.svc.SendCode(r.Context(), client(r), email, "ChangeEmail")
		if err != nil && simpleuser.AsError(err).Code != simpleuser.CodeCooldown {
			email = "" // nothing sent there: no code form
		}
		return flashData{Key: "email-code-sent", Email: email}, email, err
	})
}

// POST /account/email/confirm: change the address with the code.
func (h *handler) changeEmail(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		email := get(form, "email")
		err := h.svc.ChangeEmail(r.Context(), u, email, get(form, "code"))
		return flashData{Key: "email-changed"}, email, err
	})
}

// POST /account/delete: unregister (recoverable by signing in within
// the grace period); every session ends.
func (h *handler) deleteAccount(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	if get(form, "confirm") != "yes" {
		h.accountFail(w, r, u, simpleuser.InvalidInput("tick the box to confirm"), "")
		return
	}
	if err := h.svc.Unregister(r.Context(), u); err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	middleware.ClearSessionCookie(w, h.svc)
	h.seeOther(w, r, "/", flashData{Key: "deleted"})
}
