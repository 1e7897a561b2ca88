// Package web is the exampleapp's page: a small server-rendered app
// (html/template, plain forms) on top of the service's Go API, in cookie
// mode. A person signs up and signs in by email code, by password, with a
// configured provider or with a passkey, completes a sign-in with a second
// factor when the account has one (the challenge page), and then manages
// the account: profile, sessions, linked sign-in accounts, settings,
// password, email address, second factors (authenticator apps, recovery
// codes, the email code, trusted devices), passkeys, deletion, log out.
// A sensitive action that needs a recent authentication (step-up) shows
// the re-authentication page.
//
// The one script, passkeys.js (served from this origin, allowed by the
// page's Content-Security-Policy as script-src 'self'), runs the WebAuthn
// ceremonies: it asks the JSON API's begin endpoint for the options, calls
// navigator.credentials, and submits the result in a form like any other.
// Everything else works without JavaScript.
//
// Every form is a same-origin POST (which the CSRF check,
// net/http's CrossOriginProtection, lets through) answered by the
// Post/Redirect/Get pattern: a success redirects (303) to a page that
// shows what happened, from a one-shot "flash" cookie; a failure renders
// the form again with the error in words, and the status of the error
// (a 429 with its Retry-After). The session lives in the kit's session
// cookie: the page sets it on sign-in (middleware.SetSessionCookie) and
// clears it on log out. The handler must run inside middleware.Identity
// and middleware.CSRF, as the exampleapp mounts it.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/mfa"
)

//go:embed templates/*.html site.css passkeys.js
var files embed.FS

// Provider is a configured sign-in provider, shown as a button.
type Provider struct {
	// Name is the provider's name in the API's routes ("google").
	Name string
	// Label is its name for people ("Google").
	Label string
	// SignInRedirectURI is the API's callback for this provider
	// (PUBLIC_URL/api/oauth/NAME/callback), one of the redirect URIs the
	// service allows for it.
	SignInRedirectURI string
	// LinkRedirectURI is this page's link callback
	// (PUBLIC_URL/account/link/NAME), allowed for the provider too; ""
	// hides the "Link" button.
	LinkRedirectURI string
}

// Field is an optional sign-up field passed to the app's hooks in
// LoginInput.Extra (the exampleapp's nickname).
type Field struct {
	Name, Label string
}

// Options configures New.
type Options struct {
	// Providers are the sign-in buttons, in order.
	Providers []Provider
	// SignUpFields are optional text fields of the sign-up form.
	SignUpFields []Field
	// APIPrefix is the JSON API's prefix, for the provider start links and
	// the footer's link to its documentation. Default "/api".
	APIPrefix string
	// Logger receives server-side failures. Default slog.Default().
	Logger *slog.Logger
}

// handler serves the page.
type handler struct {
	svc   *simpleuser.Service
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	css   []byte
	js    []byte // passkeys.js
	flash string // the flash cookie's name
}

// New returns the page's handler. It serves GET / (sign in or sign up),
// /signin/... (the code, password, passkey and second-factor steps),
// /signout, /account and /account/... (with the factor, passkey and
// re-authentication forms), /site.css and /passkeys.js; any other path is
// a 404 page.
func New(svc *simpleuser.Service, opts Options) http.Handler {
	if opts.APIPrefix == "" {
		opts.APIPrefix = "/api"
	}
	h := &handler{svc: svc, opts: opts, log: opts.Logger, pages: map[string]*template.Template{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, p := range []string{"home", "code", "account", "problem", "challenge", "reauth", "totp", "codes"} {
		h.pages[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/factors.html", "templates/"+p+".html"))
	}
	css, err := files.ReadFile("site.css")
	if err != nil {
		panic(err)
	}
	h.css = css
	if h.js, err = files.ReadFile("passkeys.js"); err != nil {
		panic(err)
	}
	h.flash = "simpleuser_example_flash"
	if !svc.Config().Browser.InsecureCookies {
		h.flash = "__Host-" + h.flash
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /site.css", h.serveCSS)
	mux.HandleFunc("GET /passkeys.js", h.serveJS)
	mux.HandleFunc("POST /signin/code", h.sendLoginCode)
	mux.HandleFunc("GET /signin/code", h.codeForm)
	mux.HandleFunc("POST /signin/verify", h.verifyCode)
	mux.HandleFunc("POST /signin/password", h.passwordSignIn)
	mux.HandleFunc("POST /signin/passkey", h.passkeySignIn)
	mux.HandleFunc("GET /signin/challenge", h.challengeForm)
	mux.HandleFunc("POST /signin/challenge", h.completeChallenge)
	mux.HandleFunc("POST /signin/challenge/send-code", h.sendChallengeCode)
	mux.HandleFunc("POST /signin/challenge/passkey", h.challengePasskey)
	mux.HandleFunc("POST /signout", h.signOut)
	mux.HandleFunc("GET /account", h.account)
	mux.HandleFunc("POST /account/sessions/end", h.endSession)
	mux.HandleFunc("POST /account/sessions/end-others", h.endOtherSessions)
	mux.HandleFunc("POST /account/identities/unlink", h.unlink)
	mux.HandleFunc("GET /account/link/{provider}", h.linkCallback)
	mux.HandleFunc("POST /account/settings", h.saveSettings)
	mux.HandleFunc("POST /account/password", h.changePassword)
	mux.HandleFunc("POST /account/email", h.sendEmailCode)
	mux.HandleFunc("POST /account/email/confirm", h.changeEmail)
	mux.HandleFunc("POST /account/delete", h.deleteAccount)
	mux.HandleFunc("GET /account/reauth", h.reauthForm)
	mux.HandleFunc("POST /account/reauth", h.reauth)
	mux.HandleFunc("POST /account/reauth/send-code", h.sendReauthCode)
	mux.HandleFunc("POST /account/reauth/passkey", h.reauthPasskey)
	mux.HandleFunc("POST /account/mfa/totp", h.enrolTOTP)
	mux.HandleFunc("POST /account/mfa/totp/confirm", h.confirmTOTP)
	mux.HandleFunc("POST /account/mfa/totp/remove", h.removeTOTP)
	mux.HandleFunc("POST /account/mfa/recovery", h.regenerateRecovery)
	mux.HandleFunc("POST /account/mfa/email", h.setEmailFactor)
	mux.HandleFunc("POST /account/mfa/send-code", h.sendDisableCode)
	mux.HandleFunc("POST /account/mfa/disable", h.disableMFA)
	mux.HandleFunc("POST /account/mfa/devices/revoke", h.revokeDevices)
	mux.HandleFunc("POST /account/passkeys/register", h.registerPasskey)
	mux.HandleFunc("POST /account/passkeys/rename", h.renamePasskey)
	mux.HandleFunc("POST /account/passkeys/remove", h.removePasskey)
	mux.HandleFunc("/", h.notFound)
	return mux
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{"when": when, "iso": iso, "kind": kind,
	"recoveryCount": func() int { return mfa.RecoveryCodeCount }}

// kind names a code kind for people.
func kind(k string) string {
	switch k {
	case mfa.FactorTOTP:
		return "Code from your authenticator app"
	case mfa.FactorRecovery:
		return "Recovery code"
	case mfa.FactorEmail:
		return "Code sent to your email address"
	}
	return k
}

// when writes a time for people, in UTC.
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// iso writes a time for <time datetime> (RFC 3339).
func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// view is what a page template renders: the layout's fields, then each
// page's own.
type view struct {
	Title  string
	Notice string // shown with role=status
	Error  string // shown with role=alert
	// SignedIn shows the account link and the log-out button.
	SignedIn   bool
	APIPrefix  string
	CookieMode bool

	// Sign-in pages.
	Email        string
	Providers    []providerLink
	SignUpFields []Field

	// Account page.
	Account *accountView

	// Challenge and re-authentication pages: the ways to authenticate.
	Factors *factorChoice
	// TOTP enrolment page.
	Enrolment *enrolmentView
	// Recovery codes page: the codes, shown once.
	Codes []string
	// Passkeys: the page offers them (passkeys on), and loads passkeys.js.
	Passkeys bool
}

// render writes page with status (200 when 0). Pages are never cached:
// they show the person's account.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	v.APIPrefix = h.opts.APIPrefix
	v.CookieMode = h.svc.Config().Browser.CookieMode
	v.Passkeys = h.svc.Passkeys() != nil
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// Only this origin's script runs (passkeys.js) and it talks to this
	// origin only; images are this origin's or the QR code's data: URL;
	// nothing is framed, forms post to this origin only.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	if status == 0 {
		status = http.StatusOK
	}
	var b bytes.Buffer
	if err := h.pages[page].Execute(&b, v); err != nil {
		h.log.ErrorContext(r.Context(), "web: template", slog.String("page", page), slog.Any("error", err))
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// serveCSS serves the page's style sheet.
func (h *handler) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(h.css)
}

// serveJS serves passkeys.js, the page's one script.
func (h *handler) serveJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(h.js)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusNotFound, "problem", &view{Title: "Page not found", Error: "There is no page at this address."})
}

// flashData is the one-shot message a redirect carries to the next page.
type flashData struct {
	Key   string `json:"k"`           // a notices key
	N     int    `json:"n,omitempty"` // a count, for notices that say one
	Email string `json:"e,omitempty"` // an address to fill in
}

// seeOther redirects (303) to path, carrying f to the page it shows.
func (h *handler) seeOther(w http.ResponseWriter, r *http.Request, path string, f flashData) {
	if f.Key != "" {
		b, _ := json.Marshal(f)
		http.SetCookie(w, &http.Cookie{Name: h.flash, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", MaxAge: 60,
			HttpOnly: true, Secure: !h.svc.Config().Browser.InsecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeFlash reads and clears the request's flash. Only known keys are
// shown (another site cannot make the page say anything of its own).
func (h *handler) takeFlash(w http.ResponseWriter, r *http.Request) (f flashData, notice string) {
	c, err := r.Cookie(h.flash)
	if err != nil {
		return f, ""
	}
	http.SetCookie(w, &http.Cookie{Name: h.flash, Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !h.svc.Config().Browser.InsecureCookies, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &f) != nil {
		return flashData{}, ""
	}
	return f, h.noticeText(f)
}

// providerLink is a provider's button.
type providerLink struct {
	Name, Label, Href string
}

// signInLinks are the provider buttons of the sign-in page: each starts a
// redirect-mode flow whose callback returns to /account with the session
// cookie set.
func (h *handler) signInLinks() []providerLink {
	var out []providerLink
	for _, p := range h.opts.Providers {
		q := url.Values{"mode": {"redirect"}, "redirectUri": {p.SignInRedirectURI}}
		if h.svc.Config().Browser.CookieMode {
			q.Set("returnTo", "/account")
		} else {
			// No device cookie: a device id for this page view; the
			// callback answers the login envelope (JSON).
			q.Set("ssaid", "page-"+rand.Text())
		}
		out = append(out, providerLink{Name: p.Name, Label: p.Label, Href: h.opts.APIPrefix + "/oauth/" + url.PathEscape(p.Name) + "/start?" + q.Encode()})
	}
	return out
}

// linkLinks are the "Link" buttons of the account page: each starts a
// redirect-mode flow whose provider sends the browser back to
// /account/link/{provider}.
func (h *handler) linkLinks() []providerLink {
	var out []providerLink
	for _, p := range h.opts.Providers {
		if p.LinkRedirectURI == "" {
			continue
		}
		q := url.Values{"mode": {"redirect"}, "redirectUri": {p.LinkRedirectURI}}
		out = append(out, providerLink{Name: p.Name, Label: p.Label, Href: h.opts.APIPrefix + "/oauth/" + url.PathEscape(p.Name) + "/start?" + q.Encode()})
	}
	return out
}
