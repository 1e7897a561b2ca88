package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/user"
)

// maxForm caps a form body, in bytes: the largest field is a password of
// at most 1024 bytes.
const maxForm = 16 << 10

// readForm parses the POSTed form. A body over maxForm or that does not
// parse, or a name or value that no backend can store (invalid UTF-8, a
// NUL: textcheck.String, the kit's edge check), is a 400 problem.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, simpleuser.InvalidInput("the form could not be read")
	}
	for k, vs := range r.PostForm {
		if !textcheck.String(k) {
			return nil, simpleuser.InvalidInput("the form holds text that cannot be stored")
		}
		for _, v := range vs {
			if !textcheck.String(v) {
				return nil, simpleuser.InvalidInput(k + " holds text that cannot be stored")
			}
		}
	}
	return r.PostForm, nil
}

// client is the request's identity, put there by middleware.Identity.
func client(r *http.Request) simpleuser.Client {
	c, _ := simpleuser.ClientFrom(r.Context())
	return c
}

// sessionUser is the user of the request's session: nil without a
// session token; nil and ended when the token is no longer valid (ended
// from another device, expired: the middleware clears its cookie).
func sessionUser(r *http.Request) (u *user.User, ended bool, err error) {
	if client(r).Token == "" {
		return nil, false, nil
	}
	u, err = simpleuser.CurrentUser(r.Context())
	if errors.Is(err, simpleuser.ErrInvalidToken) {
		return nil, true, nil
	}
	return u, false, err
}

// fail renders page again with the error in words, with the error's
// status (and Retry-After for a wait); server-side failures are logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, page string, v *view, err error) {
	p := explain(err)
	v.Error = p.Text
	if p.Wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.Wait+999_999_999)/1_000_000_000)))
	}
	if p.Status >= 500 {
		h.log.ErrorContext(r.Context(), "web: request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	h.render(w, r, p.Status, page, v)
}

// GET /: the sign-in page (a signed-in person goes on to /account).
func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	u, ended, err := sessionUser(r)
	if err == nil && u != nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	if inChallenge(err) { // the first step is done: on to the second
		http.Redirect(w, r, "/signin/challenge", http.StatusSeeOther)
		return
	}
	f, notice := h.takeFlash(w, r)
	if ended && notice == "" {
		notice = h.noticeText(flashData{Key: "session-ended"})
	}
	v := h.signInView(notice, f.Email)
	v.Error = explainCode(r.URL.Query().Get("error"))
	if err != nil {
		h.fail(w, r, "home", v, err)
		return
	}
	h.render(w, r, 0, "home", v)
}

func (h *handler) signInView(notice, email string) *view {
	return &view{Title: "Sign in or sign up", Notice: notice, Email: email, Providers: h.signInLinks(), SignUpFields: h.opts.SignUpFields}
}

// POST /signin/code: send a Login code, then ask for it.
func (h *handler) sendLoginCode(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, "home", h.signInView("", ""), err)
		return
	}
	email := strings.TrimSpace(form.Get("email"))
	if err := h.svc.SendCode(r.Context(), client(r), email, "Login"); err != nil {
		if simpleuser.AsError(err).Code == simpleuser.CodeCooldown {
			// A code was sent moments ago: the person likely holds it.
			h.fail(w, r, "code", h.codeView("", email), err)
			return
		}
		h.fail(w, r, "home", h.signInView("", email), err)
		return
	}
	h.seeOther(w, r, "/signin/code", flashData{Key: "code-sent", Email: email})
}

func (h *handler) codeView(notice, email string) *view {
	v := h.signInView(notice, email)
	v.Title = "Enter your code"
	return v
}

// GET /signin/code: the form for the code just sent.
func (h *handler) codeForm(w http.ResponseWriter, r *http.Request) {
	f, notice := h.takeFlash(w, r)
	h.render(w, r, 0, "code", h.codeView(notice, f.Email))
}

// POST /signin/verify: sign in (or up) with the code.
func (h *handler) verifyCode(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, "code", h.codeView("", ""), err)
		return
	}
	in := simpleuser.LoginInput{Email: strings.TrimSpace(form.Get("email")), Code: strings.TrimSpace(form.Get("code")), SetPassword: form.Get("setPassword")}
	for _, f := range h.opts.SignUpFields {
		if v := strings.TrimSpace(form.Get(f.Name)); v != "" {
			if in.Extra == nil {
				in.Extra = hooks.Payload{}
			}
			in.Extra[f.Name], _ = json.Marshal(v)
		}
	}
	if in.Code == "" {
		h.fail(w, r, "code", h.codeView("", in.Email), simpleuser.InvalidInput("enter the code from the email"))
		return
	}
	h.signIn(w, r, in, "code", h.codeView("", in.Email))
}

// POST /signin/password: sign in with a password.
func (h *handler) passwordSignIn(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, "home", h.signInView("", ""), err)
		return
	}
	in := simpleuser.LoginInput{Email: strings.TrimSpace(form.Get("email")), Password: form.Get("password")}
	if in.Password == "" {
		h.fail(w, r, "home", h.signInView("", in.Email), simpleuser.InvalidInput("enter your password"))
		return
	}
	h.signIn(w, r, in, "home", h.signInView("", in.Email))
}

// signIn logs in, sets the session cookie and goes on to the account
// page, or to the challenge page when the account has two-step
// verification on (the cookie then holds the challenge-stage session); a
// failure renders page (v) with the error. A browser trusted earlier
// ("trust this device") sends its trusted-device cookie, which skips the
// second step.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request, in simpleuser.LoginInput, page string, v *view) {
	c := client(r)
	c.TrustedDevice = middleware.TrustedDevice(r, h.svc)
	res, err := h.svc.Login(r.Context(), c, in)
	if err != nil {
		h.fail(w, r, page, v, err)
		return
	}
	middleware.SetSessionCookie(w, h.svc, res.Token, res.ExpiresAt)
	if res.MFARequired {
		h.seeOther(w, r, "/signin/challenge", flashData{Key: "second-step"})
		return
	}
	h.seeOther(w, r, "/account", flashData{Key: "signed-in"})
}

// POST /signout: end this session, clear its cookie.
func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	if tok := client(r).Token; tok != "" {
		if err := h.svc.Logout(r.Context(), tok); err != nil && !errors.Is(err, simpleuser.ErrInvalidToken) {
			h.fail(w, r, "problem", &view{Title: "Log out"}, err)
			return
		}
	}
	middleware.ClearSessionCookie(w, h.svc)
	h.seeOther(w, r, "/", flashData{Key: "signed-out"})
}
