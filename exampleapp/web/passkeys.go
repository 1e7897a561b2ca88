package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/user"
)

// Passkeys (WebAuthn; docs/passkeys.md). passkeys.js begins each ceremony
// at the JSON API (it answers the options navigator.credentials takes),
// runs it in the browser, and posts the result here in a form:
// challengeId and credential (the PublicKeyCredential's toJSON()).

// passkeyView is one passkey of the account page.
type passkeyView struct {
	ID, Name  string
	CreatedAt time.Time
	LastUsed  time.Time // zero: never
	Synced    bool      // backup eligible: a password manager may copy it
}

// passkeyViews lists u's passkeys (nil when passkeys are off).
func (h *handler) passkeyViews(r *http.Request, userID int64) ([]passkeyView, error) {
	rp := h.svc.Passkeys()
	if rp == nil {
		return nil, nil
	}
	creds, err := rp.Store().List(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	out := make([]passkeyView, len(creds))
	for i, c := range creds {
		out[i] = passkeyView{ID: passkey.EncodeID(c.ID), Name: c.Name, CreatedAt: c.CreatedAt, LastUsed: c.LastUsedAt, Synced: c.BackupEligible}
	}
	return out, nil
}

// ceremony reads the ceremony's result from form: the challenge id and
// the credential JSON; the relying party (404 PASSKEYS_DISABLED when off)
// and the device id the challenge is bound to.
func (h *handler) ceremony(r *http.Request, form url.Values) (rp *passkey.RelyingParty, ssaid, id string, cred []byte, err error) {
	if rp = h.svc.Passkeys(); rp == nil {
		return nil, "", "", nil, passkey.ErrDisabled
	}
	if ssaid = client(r).SSAID; ssaid == "" {
		return nil, "", "", nil, simpleuser.ErrSSAIDRequired
	}
	id, c := get(form, "challengeId"), form.Get("credential")
	if id == "" || c == "" {
		return nil, "", "", nil, simpleuser.InvalidInput("the passkey's answer is missing: use the passkey button (it needs JavaScript)")
	}
	return rp, ssaid, id, []byte(c), nil
}

// checkPasskey verifies the answer in form to a ceremony begun at
// /user-center/mfa/passkey/begin: one of userID's passkeys, signature
// counter checked and recorded.
func (h *handler) checkPasskey(r *http.Request, userID int64, form url.Values) error {
	rp, ssaid, id, cred, err := h.ceremony(r, form)
	if err != nil {
		return err
	}
	_, err = rp.FinishLogin(r.Context(), userID, ssaid, id, cred)
	return err
}

// POST /signin/passkey: sign in with a passkey, no address typed (the
// ceremony begun at /login/passkey/begin). One strong step: no second
// factor follows.
func (h *handler) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	var id string
	var cred []byte
	if err == nil {
		_, _, id, cred, err = h.ceremony(r, form)
	}
	var res *simpleuser.LoginResult
	if err == nil {
		res, err = h.svc.PasskeySignIn(r.Context(), client(r), id, cred)
	}
	if err != nil {
		h.fail(w, r, "home", h.signInView("", ""), err)
		return
	}
	middleware.SetSessionCookie(w, h.svc, res.Token, res.ExpiresAt)
	h.seeOther(w, r, "/account", flashData{Key: "signed-in"})
}

// POST /account/passkeys/register: store the passkey the browser made
// (the ceremony begun at /user-center/passkeys/register/begin, which
// asked for the step-up) under name.
func (h *handler) registerPasskey(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		rp, ssaid, id, cred, err := h.ceremony(r, form)
		if err != nil {
			return flashData{}, "", err
		}
		_, err = rp.FinishRegistration(r.Context(), u.ID, ssaid, id, cred, get(form, "name"))
		return flashData{Key: "passkey-added"}, "", err
	})
}

// POST /account/passkeys/rename
func (h *handler) renamePasskey(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		rp := h.svc.Passkeys()
		if rp == nil {
			return flashData{}, "", passkey.ErrDisabled
		}
		_, err := rp.Rename(r.Context(), u.ID, get(form, "id"), get(form, "name"))
		return flashData{Key: "passkey-renamed"}, "", err
	})
}

// POST /account/passkeys/remove: a way to sign in goes, so it needs a
// recent authentication (step-up).
func (h *handler) removePasskey(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		rp := h.svc.Passkeys()
		if rp == nil {
			return flashData{}, "", passkey.ErrDisabled
		}
		if err := h.svc.StepUp(r.Context()); err != nil {
			return flashData{}, "", err
		}
		_, err := rp.Remove(r.Context(), u.ID, get(form, "id"))
		return flashData{Key: "passkey-removed"}, "", err
	})
}
