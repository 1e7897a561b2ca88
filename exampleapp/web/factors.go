package web

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/user"
)

// Two-step verification on the account page (docs/factors.md): TOTP
// authenticator apps, recovery codes, the email code as a factor, trusted
// devices, turning it off. Every change but turning it off (which needs a
// current code instead) and revoking devices needs a recent
// authentication (step-up), as in the JSON API.

// mfaView is the two-step verification part of the account page.
type mfaView struct {
	Enabled        bool
	EmailFactor    bool
	HasEmail       bool // the account has an address: the email code is possible
	Authenticators []authenticatorView
	RecoveryLeft   int
	Devices        []deviceView
	// Off lists the code kinds that can turn it off (a current factor).
	Off *factorChoice
}

type authenticatorView struct {
	ID, Name   string
	Confirmed  bool
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

type deviceView struct {
	ID, Label            string
	CreatedAt, ExpiresAt time.Time
	This                 bool // this browser's trusted-device cookie names it
}

// enrolmentView is the page of a TOTP authenticator being added: what the
// app scans or the person types, shown once.
type enrolmentView struct {
	ID, Name string
	Secret   string   // base32
	Groups   []string // Secret in groups of four, to type
	QR       template.URL
	URI      template.URL
}

// mfaView reads u's factors for the account page.
func (h *handler) mfaView(r *http.Request, u *user.User) (*mfaView, error) {
	st, err := h.svc.MFA().Status(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	v := &mfaView{Enabled: st.Enabled, EmailFactor: st.EmailFactor, HasEmail: u.Email != "", RecoveryLeft: st.RecoveryCodesLeft}
	for _, a := range st.Authenticators {
		v.Authenticators = append(v.Authenticators, authenticatorView{ID: a.ID, Name: a.Name, Confirmed: a.Confirmed(), CreatedAt: a.CreatedAt, LastUsedAt: a.LastUsedAt})
	}
	this := h.thisDevice(r, u.ID)
	for _, d := range st.TrustedDevices {
		v.Devices = append(v.Devices, deviceView{ID: d.ID, Label: d.Label, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt, This: d.ID == this})
	}
	if st.Enabled {
		var kinds []string
		if v.hasConfirmed() {
			kinds = append(kinds, mfa.FactorTOTP)
		}
		if st.RecoveryCodesLeft > 0 {
			kinds = append(kinds, mfa.FactorRecovery)
		}
		if st.EmailFactor {
			kinds = append(kinds, mfa.FactorEmail)
		}
		v.Off = choose(kinds, "", false)
	}
	return v, nil
}

// thisDevice is the id of the trusted device this browser's cookie names,
// when it is one of userID's ("" otherwise).
func (h *handler) thisDevice(r *http.Request, userID int64) string {
	tok := middleware.TrustedDevice(r, h.svc)
	if tok == "" {
		return ""
	}
	if uid, id, ok := h.svc.MFA().Keyring().ParseDeviceToken(tok, h.svc.Config().Now()); ok && uid == userID {
		return id
	}
	return ""
}

func (v *mfaView) hasConfirmed() bool {
	for _, a := range v.Authenticators {
		if a.Confirmed {
			return true
		}
	}
	return false
}

// stepped runs an account form that needs a recent authentication: the
// step-up first (a refusal shows the re-authentication page), then do.
func (h *handler) stepped(w http.ResponseWriter, r *http.Request, do func(u *user.User, form map[string][]string) (flashData, string, error)) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		if err := h.svc.StepUp(r.Context()); err != nil {
			return flashData{}, "", err
		}
		return do(u, form)
	})
}

// steppedPage is stepped for a form that answers with a page of its own
// (a secret shown once) instead of a redirect: do renders it.
func (h *handler) steppedPage(w http.ResponseWriter, r *http.Request, do func(u *user.User, form map[string][]string) error) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err == nil {
		err = h.svc.StepUp(r.Context())
	}
	if err == nil {
		err = do(u, form)
	}
	if err != nil {
		h.accountFail(w, r, u, err, "")
	}
}

// showCodes renders the recovery codes, shown once; notice says why.
func (h *handler) showCodes(w http.ResponseWriter, r *http.Request, codes []string, notice string) {
	h.render(w, r, 0, "codes", &view{Title: "Your recovery codes", Notice: notice, SignedIn: true, Codes: codes})
}

// POST /account/mfa/totp: start adding an authenticator app named name;
// the answer shows its QR code and secret, once.
func (h *handler) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	h.steppedPage(w, r, func(u *user.User, form map[string][]string) error {
		a, enr, err := h.svc.MFA().EnrolTOTP(r.Context(), u, get(form, "name"))
		if err != nil {
			return err
		}
		e := &enrolmentView{ID: a.ID, Name: a.Name, Secret: enr.Secret}
		for s := enr.Secret; s != ""; {
			n := min(4, len(s))
			e.Groups, s = append(e.Groups, s[:n]), s[n:]
		}
		// Trusted as URLs (html/template would refuse these schemes): the
		// kit made both.
		if strings.HasPrefix(enr.QR, "data:image/png;base64,") {
			e.QR = template.URL(enr.QR)
		}
		if strings.HasPrefix(enr.URI, "otpauth://totp/") {
			e.URI = template.URL(enr.URI)
		}
		h.render(w, r, 0, "totp", &view{Title: "Add an authenticator app", SignedIn: true, Enrolment: e})
		return nil
	})
}

// POST /account/mfa/totp/confirm: the first code proves the app; the
// account's first factor turns two-step verification on and shows the
// recovery codes.
func (h *handler) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	h.steppedPage(w, r, func(u *user.User, form map[string][]string) error {
		code := get(form, "code")
		if code == "" {
			return simpleuser.InvalidInput("enter the code your authenticator app shows")
		}
		codes, err := h.svc.MFA().ConfirmTOTP(r.Context(), u, get(form, "id"), code)
		if err != nil {
			return err
		}
		if codes != nil {
			h.showCodes(w, r, codes, h.noticeText(flashData{Key: "mfa-on"}))
			return nil
		}
		h.seeOther(w, r, "/account", flashData{Key: "totp-added"})
		return nil
	})
}

// POST /account/mfa/totp/remove
func (h *handler) removeTOTP(w http.ResponseWriter, r *http.Request) {
	h.stepped(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		return flashData{Key: "totp-removed"}, "", h.svc.MFA().RemoveTOTP(r.Context(), u, get(form, "id"))
	})
}

// POST /account/mfa/recovery: a fresh set of recovery codes, shown once;
// the old set stops working.
func (h *handler) regenerateRecovery(w http.ResponseWriter, r *http.Request) {
	h.steppedPage(w, r, func(u *user.User, _ map[string][]string) error {
		codes, err := h.svc.MFA().RegenerateRecoveryCodes(r.Context(), u)
		if err != nil {
			return err
		}
		h.showCodes(w, r, codes, h.noticeText(flashData{Key: "codes-renewed"}))
		return nil
	})
}

// POST /account/mfa/email: enabled=yes makes a code mailed to the
// account's address a second factor; anything else turns it off.
func (h *handler) setEmailFactor(w http.ResponseWriter, r *http.Request) {
	h.steppedPage(w, r, func(u *user.User, form map[string][]string) error {
		on := get(form, "enabled") == "yes"
		codes, err := h.svc.MFA().SetEmailFactor(r.Context(), u, on)
		switch {
		case err != nil:
			return err
		case codes != nil:
			h.showCodes(w, r, codes, h.noticeText(flashData{Key: "mfa-on"}))
		case on:
			h.seeOther(w, r, "/account", flashData{Key: "email-factor-on"})
		default:
			h.seeOther(w, r, "/account", flashData{Key: "email-factor-off"})
		}
		return nil
	})
}

// POST /account/mfa/send-code: mail a code to turn two-step verification
// off with (when the email code is one of the account's factors).
func (h *handler) sendDisableCode(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, _ map[string][]string) (flashData, string, error) {
		d, err := simpleuser.CurrentSession(r.Context()) // read already: no store read
		if err != nil {
			return flashData{}, "", err
		}
		return flashData{Key: "disable-code-sent"}, "", h.svc.MFA().SendCode(r.Context(), client(r).Token, d)
	})
}

// POST /account/mfa/disable: turn two-step verification off, proven by a
// current code (factor and code); every factor and trusted device goes.
func (h *handler) disableMFA(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	form, err := readForm(w, r)
	if err == nil && get(form, "code") == "" {
		err = simpleuser.InvalidInput("enter a current code to turn two-step verification off")
	}
	if err == nil {
		err = h.svc.MFA().Disable(r.Context(), u, get(form, "factor"), get(form, "code"))
	}
	if err != nil {
		h.accountFail(w, r, u, err, "")
		return
	}
	middleware.ClearTrustedDeviceCookie(w, r, h.svc)
	h.seeOther(w, r, "/account", flashData{Key: "mfa-off"})
}

// POST /account/mfa/devices/revoke: stop trusting the device id, or every
// device without one.
func (h *handler) revokeDevices(w http.ResponseWriter, r *http.Request) {
	h.action(w, r, func(u *user.User, form map[string][]string) (flashData, string, error) {
		var ids []string
		if id := get(form, "id"); id != "" {
			ids = append(ids, id)
		}
		n, err := h.svc.MFA().RevokeDevices(r.Context(), u.ID, ids...)
		if err == nil && len(ids) > 0 && n == 0 {
			err = mfa.ErrFactorNotFound
		}
		if err == nil && (len(ids) == 0 || h.thisDevice(r, u.ID) == ids[0]) {
			middleware.ClearTrustedDeviceCookie(w, r, h.svc) // its trust is gone
		}
		return flashData{Key: "devices-revoked", N: n}, "", err
	})
}
