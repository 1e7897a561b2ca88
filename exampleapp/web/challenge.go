package web

import (
	"errors"
	"math"
	"net/http"
	"slices"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// The second step of a sign-in (the challenge page) and re-authentication
// for sensitive actions (step-up): docs/factors.md.

// factorChoice is what the challenge and re-authentication pages offer.
type factorChoice struct {
	// The ways the session may authenticate (mfa.ChallengeFactors on the
	// challenge page, mfa.ReauthFactors on the re-authentication page).
	Password, TOTP, Recovery, Email, Passkey bool
	// Kinds are the code kinds of the code form (totp, recovery, email),
	// in that order; First is the one checked.
	Kinds []string
	First string
	// TrustDays offers "trust this device" for that many days (0: not
	// offered: the re-authentication page, or the app turned it off).
	TrustDays int
	// Action is the page's form path (the code form posts there, the
	// passkey form to Action/passkey, the email code to Action/send-code);
	// APIPrefix is the JSON API's, where passkeys.js begins a ceremony.
	Action, APIPrefix string
}

// choose builds the choice of factors, checking first the kind the
// person just asked a code of (first), else the first code kind.
func choose(factors []string, first string, passkeysOn bool) *factorChoice {
	c := &factorChoice{}
	for _, f := range factors {
		switch f {
		case mfa.FactorPassword:
			c.Password = true
		case mfa.FactorTOTP:
			c.TOTP = true
		case mfa.FactorRecovery:
			c.Recovery = true
		case mfa.FactorEmail:
			c.Email = true
		case mfa.FactorPasskey:
			c.Passkey = passkeysOn
		}
	}
	for _, k := range []string{mfa.FactorTOTP, mfa.FactorRecovery, mfa.FactorEmail} {
		if slices.Contains(factors, k) {
			c.Kinds = append(c.Kinds, k)
		}
	}
	if len(c.Kinds) > 0 {
		c.First = c.Kinds[0]
		if slices.Contains(c.Kinds, first) {
			c.First = first
		}
	}
	return c
}

// inChallenge reports a session that still needs its second factor (403
// MFA_REQUIRED).
func inChallenge(err error) bool {
	return err != nil && simpleuser.AsError(err).Code == mfa.CodeMFARequired
}

// requireChallenge returns the request's session when it waits for its
// second factor, or answers: the account page for a full session, the
// sign-in page (with why) without a live one.
func (h *handler) requireChallenge(w http.ResponseWriter, r *http.Request) (*session.Data, bool) {
	d, err := simpleuser.PendingSession(r.Context())
	switch {
	case errors.Is(err, simpleuser.ErrInvalidToken):
		h.seeOther(w, r, "/", flashData{Key: "challenge-ended"})
	case err != nil:
		h.fail(w, r, "problem", &view{Title: "Confirm it is you"}, err)
	case d == nil:
		h.seeOther(w, r, "/", flashData{Key: "signin-first"})
	case d.Stage == "":
		h.seeOther(w, r, "/account", flashData{})
	default:
		return d, true
	}
	return nil, false
}

// challengeView is the challenge page of d.
func (h *handler) challengeView(d *session.Data, notice, first string) *view {
	c := choose(mfa.ChallengeFactors(d), first, h.svc.Passkeys() != nil)
	c.Action, c.APIPrefix = "/signin/challenge", h.opts.APIPrefix
	if trust := h.svc.MFA().Config().TrustDeviceFor; trust > 0 {
		c.TrustDays = int(math.Ceil(trust.Hours() / 24))
	}
	return &view{Title: "Confirm it is you", Notice: notice, Factors: c}
}

// challengeFail renders the challenge page of d with err; a challenge
// that ended meanwhile (expired, completed elsewhere) goes back to the
// sign-in page.
func (h *handler) challengeFail(w http.ResponseWriter, r *http.Request, d *session.Data, err error) {
	if simpleuser.AsError(err).Code == simpleuser.CodeInvalidToken {
		middleware.ClearSessionCookie(w, h.svc)
		h.seeOther(w, r, "/", flashData{Key: "challenge-ended"})
		return
	}
	h.fail(w, r, "challenge", h.challengeView(d, "", ""), err)
}

// GET /signin/challenge: the second step of a sign-in into an account
// with two-step verification on.
func (h *handler) challengeForm(w http.ResponseWriter, r *http.Request) {
	d, ok := h.requireChallenge(w, r)
	if !ok {
		return
	}
	f, notice := h.takeFlash(w, r)
	first := ""
	if f.Key == "factor-code-sent" {
		first = mfa.FactorEmail
	}
	h.render(w, r, 0, "challenge", h.challengeView(d, notice, first))
}

// POST /signin/challenge: complete the sign-in with a code (factor:
// totp, recovery or email); trust=yes trusts this browser.
func (h *handler) completeChallenge(w http.ResponseWriter, r *http.Request) {
	d, ok := h.requireChallenge(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		h.challengeFail(w, r, d, err)
		return
	}
	code := get(form, "code")
	if code == "" {
		h.challengeFail(w, r, d, simpleuser.InvalidInput("enter the code"))
		return
	}
	c := client(r)
	done, err := h.svc.MFA().Complete(r.Context(), c.Token, d, get(form, "factor"), code, get(form, "trust") == "yes", session.Device(c.UserAgent))
	if err != nil {
		h.challengeFail(w, r, d, err)
		return
	}
	h.completed(w, r, done)
}

// completed sets the full session's cookie (a fresh token: the challenge
// session is gone) and the trusted-device cookie when asked, then goes
// on to the account page.
func (h *handler) completed(w http.ResponseWriter, r *http.Request, done *mfa.Completion) {
	middleware.SetSessionCookie(w, h.svc, done.Token, done.ExpiresAt)
	middleware.SetTrustedDeviceCookie(w, h.svc, done.DeviceToken, done.DeviceExpiresAt)
	h.seeOther(w, r, "/account", flashData{Key: "signed-in"})
}

// POST /signin/challenge/send-code: mail a code to the account's address.
func (h *handler) sendChallengeCode(w http.ResponseWriter, r *http.Request) {
	d, ok := h.requireChallenge(w, r)
	if !ok {
		return
	}
	if err := h.svc.MFA().SendCode(r.Context(), client(r).Token, d); err != nil {
		h.challengeFail(w, r, d, err)
		return
	}
	h.seeOther(w, r, "/signin/challenge", flashData{Key: "factor-code-sent"})
}

// POST /signin/challenge/passkey: complete the sign-in with a passkey
// (passkeys.js ran the ceremony begun at the API's
// /user-center/mfa/passkey/begin).
func (h *handler) challengePasskey(w http.ResponseWriter, r *http.Request) {
	d, ok := h.requireChallenge(w, r)
	if !ok {
		return
	}
	c := client(r)
	form, err := readForm(w, r)
	if err == nil {
		err = h.checkPasskey(r, d.UserID, form)
	}
	if err != nil {
		h.challengeFail(w, r, d, err)
		return
	}
	done, err := h.svc.MFA().CompleteVerified(r.Context(), c.Token, d, mfa.AMRHardware, get(form, "trust") == "yes", session.Device(c.UserAgent))
	if err != nil {
		h.challengeFail(w, r, d, err)
		return
	}
	h.completed(w, r, done)
}

// reauthSession returns the request's full session and its user, or
// answers as requireUser does.
func (h *handler) reauthSession(w http.ResponseWriter, r *http.Request) (*user.User, *session.Data, bool) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return nil, nil, false
	}
	d, err := simpleuser.CurrentSession(r.Context()) // read once per request: no store read
	if err != nil {
		h.fail(w, r, "problem", &view{Title: "Confirm it is you"}, err)
		return nil, nil, false
	}
	return u, d, true
}

// reauthView is the re-authentication page of u's session d.
func (h *handler) reauthView(u *user.User, d *session.Data, notice, first string) *view {
	c := choose(mfa.ReauthFactors(u, d), first, h.svc.Passkeys() != nil)
	c.Action, c.APIPrefix = "/account/reauth", h.opts.APIPrefix
	return &view{Title: "Confirm it is you", Notice: notice, SignedIn: true, Factors: c, Email: u.Email}
}

// reauthPage answers an action refused for want of a recent
// authentication (403 REAUTH_REQUIRED) with the re-authentication page.
func (h *handler) reauthPage(w http.ResponseWriter, r *http.Request, u *user.User, err error) {
	d, serr := simpleuser.CurrentSession(r.Context())
	if serr != nil {
		h.fail(w, r, "problem", &view{Title: "Confirm it is you"}, serr)
		return
	}
	h.fail(w, r, "reauth", h.reauthView(u, d, "", ""), err)
}

// GET /account/reauth
func (h *handler) reauthForm(w http.ResponseWriter, r *http.Request) {
	u, d, ok := h.reauthSession(w, r)
	if !ok {
		return
	}
	f, notice := h.takeFlash(w, r)
	first := ""
	if f.Key == "factor-code-sent" {
		first = mfa.FactorEmail
	}
	h.render(w, r, 0, "reauth", h.reauthView(u, d, notice, first))
}

// POST /account/reauth: re-authenticate with the password
// (factor=password, the password in password) or a code.
func (h *handler) reauth(w http.ResponseWriter, r *http.Request) {
	u, d, ok := h.reauthSession(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		h.fail(w, r, "reauth", h.reauthView(u, d, "", ""), err)
		return
	}
	factor, code := get(form, "factor"), get(form, "code")
	if factor == mfa.FactorPassword {
		code = form.Get("password") // as typed: spaces count
	}
	if code == "" {
		h.fail(w, r, "reauth", h.reauthView(u, d, "", factor), simpleuser.InvalidInput("enter your password or the code"))
		return
	}
	if _, err := h.svc.MFA().Reauth(r.Context(), client(r).Token, d, factor, code); err != nil {
		if errors.Is(err, simpleuser.ErrInvalidPassword) {
			err = simpleuser.ErrWrongCurrentPassword // "Your current password is wrong."
		}
		h.fail(w, r, "reauth", h.reauthView(u, d, "", factor), err)
		return
	}
	h.seeOther(w, r, "/account", flashData{Key: "reauthed"})
}

// POST /account/reauth/send-code: mail a code to re-authenticate with.
func (h *handler) sendReauthCode(w http.ResponseWriter, r *http.Request) {
	u, d, ok := h.reauthSession(w, r)
	if !ok {
		return
	}
	if err := h.svc.MFA().SendCode(r.Context(), client(r).Token, d); err != nil {
		h.fail(w, r, "reauth", h.reauthView(u, d, "", mfa.FactorEmail), err)
		return
	}
	h.seeOther(w, r, "/account/reauth", flashData{Key: "factor-code-sent"})
}

// POST /account/reauth/passkey: re-authenticate with a passkey.
func (h *handler) reauthPasskey(w http.ResponseWriter, r *http.Request) {
	u, d, ok := h.reauthSession(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err == nil {
		err = h.checkPasskey(r, u.ID, form)
	}
	if err == nil {
		_, err = h.svc.MFA().ReauthVerified(r.Context(), client(r).Token, d, mfa.AMRHardware)
	}
	if err != nil {
		h.fail(w, r, "reauth", h.reauthView(u, d, "", ""), err)
		return
	}
	h.seeOther(w, r, "/account", flashData{Key: "reauthed"})
}
