package simpleuser

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/user"
)

// PasskeyConfig configures passkeys (WebAuthn; package passkey): a
// signed-in user registers, lists, renames and removes passkeys, and signs
// in with one without typing an address. Off unless Enabled; RPID (the
// app's domain, WebAuthn L3 §5.1.2), RPName and Origins (the exact origins
// of the app's pages) are then required. Store defaults to passkey/memory;
// challenges live in Config.Codes (Redis when the codes are there).
type PasskeyConfig = passkey.Options

// Machine codes of the passkey flows.
const (
	CodePasskeysDisabled = "PASSKEYS_DISABLED"
	CodePasskeyChallenge = "PASSKEY_CHALLENGE"
	CodePasskeyRefused   = "PASSKEY_REFUSED"
	CodePasskeyUnknown   = "PASSKEY_UNKNOWN"
	CodePasskeyCounter   = "PASSKEY_COUNTER"
	CodePasskeyExists    = "PASSKEY_EXISTS"
	CodePasskeyNotFound  = "PASSKEY_NOT_FOUND"
	CodeTooManyPasskeys  = "TOO_MANY_PASSKEYS"
)

// ErrPasskeysDisabled: Config.Passkeys.Enabled is off.
var ErrPasskeysDisabled = NewError(http.StatusNotFound, CodePasskeysDisabled, "Passkeys are not enabled.")

// passkeyError maps the errors of package passkey; nil for any other.
func passkeyError(err error) *Error {
	e := func(status int, code, msg string) *Error {
		return &Error{Status: status, Code: code, Message: msg, Err: err}
	}
	switch {
	case errors.Is(err, passkey.ErrChallenge):
		return e(http.StatusBadRequest, CodePasskeyChallenge, "The passkey challenge is unknown, used or expired: begin again.")
	case errors.Is(err, passkey.ErrInvalidResponse):
		return e(http.StatusBadRequest, CodeInvalidInput, "credential must be the JSON of a WebAuthn PublicKeyCredential.")
	case errors.Is(err, passkey.ErrInvalidName):
		return e(http.StatusBadRequest, CodeInvalidInput, fmt.Sprintf("name must be text of at most %d bytes.", passkey.MaxNameLen))
	case errors.Is(err, passkey.ErrRefused):
		return e(http.StatusForbidden, CodePasskeyRefused, "The passkey response did not verify.")
	case errors.Is(err, passkey.ErrUnknownCredential):
		return e(http.StatusForbidden, CodePasskeyUnknown, "This passkey is not registered here (it may have been removed).")
	case errors.Is(err, passkey.ErrCounter):
		return e(http.StatusForbidden, CodePasskeyCounter, "The authenticator's signature counter went back: it may have been cloned. Sign in another way.")
	case errors.Is(err, passkey.ErrExists):
		return e(http.StatusConflict, CodePasskeyExists, "This passkey is already registered.")
	case errors.Is(err, passkey.ErrTooMany):
		return e(http.StatusConflict, CodeTooManyPasskeys, "The account has the most passkeys allowed: remove one first.")
	case errors.Is(err, passkey.ErrNotFound), errors.Is(err, passkey.ErrNoPasskey):
		return e(http.StatusNotFound, CodePasskeyNotFound, "No such passkey.")
	}
	return nil
}

// Passkeys returns the passkey relying party (for the app's own flows,
// such as a passkey as a second factor), or nil when passkeys are off.
func (s *Service) Passkeys() *passkey.RelyingParty { return s.passkeys }

// passkeyUser checks that u may manage passkeys and returns the relying party.
func (s *Service) passkeyUser(u *user.User) (*passkey.RelyingParty, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysDisabled
	}
	if !u.Registered() {
		return nil, ErrRegisteredRequired
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	return s.passkeys, nil
}

// BeginPasskeyRegistration begins registering a passkey for u, the
// signed-in user, from the device c.SSAID: the authenticator shows u's
// address (or "Account <id>" without one). See
// passkey.RelyingParty.BeginRegistration. Errors: 402 anonymous user, 403
// ACCOUNT_DISABLED, 404 PASSKEYS_DISABLED, 409 TOO_MANY_PASSKEYS, 503.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, c Client, u *user.User) (*passkey.Challenge, error) {
	rp, err := s.passkeyUser(u)
	if err != nil {
		return nil, err
	}
	name := u.Email
	if name == "" {
		name = fmt.Sprintf("Account %d", u.ID)
	}
	return rp.BeginRegistration(ctx, passkey.Account{UserID: u.ID, Name: name}, c.SSAID)
}

// FinishPasskeyRegistration verifies the authenticator's response (the
// PublicKeyCredential's JSON) to the challenge challengeID begun by
// BeginPasskeyRegistration for u on the same device, stores the passkey as
// name (default "Passkey") and emits PasskeyAdded. Errors: 400
// PASSKEY_CHALLENGE or INVALID_INPUT, 403 PASSKEY_REFUSED, 409
// PASSKEY_EXISTS, and those of BeginPasskeyRegistration.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, c Client, u *user.User, challengeID string, response []byte, name string) (*passkey.Credential, error) {
	rp, err := s.passkeyUser(u)
	if err != nil {
		return nil, err
	}
	cred, err := rp.FinishRegistration(ctx, u.ID, c.SSAID, challengeID, response, name)
	if err != nil {
		return nil, err
	}
	s.emit(ctx, passkeyEvent(hooks.PasskeyAdded, u, c, cred))
	return cred, nil
}

// ListPasskeys returns u's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, u *user.User) ([]passkey.Credential, error) {
	rp, err := s.passkeyUser(u)
	if err != nil {
		return nil, err
	}
	return rp.Store().List(ctx, u.ID)
}

// RenamePasskey names u's passkey id (base64url, as listed) name. Errors:
// 400 INVALID_INPUT (name), 404 PASSKEY_NOT_FOUND.
func (s *Service) RenamePasskey(ctx context.Context, u *user.User, id, name string) (*passkey.Credential, error) {
	rp, err := s.passkeyUser(u)
	if err != nil {
		return nil, err
	}
	return rp.Rename(ctx, u.ID, id, name)
}

// RemovePasskey removes u's passkey id (base64url) and emits
// PasskeyRemoved. Errors: 404 PASSKEY_NOT_FOUND.
func (s *Service) RemovePasskey(ctx context.Context, c Client, u *user.User, id string) error {
	rp, err := s.passkeyUser(u)
	if err != nil {
		return err
	}
	cred, err := rp.Remove(ctx, u.ID, id)
	if err == nil {
		s.emit(ctx, passkeyEvent(hooks.PasskeyRemoved, u, c, cred))
	}
	return err
}

func passkeyEvent(typ string, u *user.User, c Client, cred *passkey.Credential) hooks.Event {
	e := clientEvent(typ, u, c)
	e.Passkey = &hooks.PasskeyRef{ID: passkey.EncodeID(cred.ID), Name: cred.Name}
	return e
}

// BeginPasskeySignIn begins a usernameless sign-in from the device
// c.SSAID (no session needed). Errors: 400 SSAID_REQUIRED, 404
// PASSKEYS_DISABLED, 503.
func (s *Service) BeginPasskeySignIn(ctx context.Context, c Client) (*passkey.Challenge, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysDisabled
	}
	if err := s.signInClient(c); err != nil {
		return nil, err
	}
	return s.passkeys.BeginSignIn(ctx, c.SSAID)
}

func (s *Service) signInClient(c Client) error {
	if c.SSAID == "" {
		return ErrSSAIDRequired
	}
	return c.check()
}

// PasskeySignIn finishes a usernameless sign-in begun by
// BeginPasskeySignIn on the same device: it verifies the response,
// records the passkey's use (its signature counter checked) and signs its
// owner in as Login does, one strong step (possession of the passkey and
// the user verification it requires): the account is recovered if
// unregistered within the grace period, OnMigrateUser and OnLogin (Method
// "passkey") run, LoggedIn is emitted, and a fresh session is issued (the
// token c presented is revoked). Errors: 400 PASSKEY_CHALLENGE or
// INVALID_INPUT, 403 PASSKEY_REFUSED, PASSKEY_UNKNOWN, PASSKEY_COUNTER or
// ACCOUNT_DISABLED, 404 PASSKEYS_DISABLED, 503.
func (s *Service) PasskeySignIn(ctx context.Context, c Client, challengeID string, response []byte) (*LoginResult, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysDisabled
	}
	if err := s.signInClient(c); err != nil {
		return nil, err
	}
	cred, err := s.passkeys.FinishSignIn(ctx, c.SSAID, challengeID, response)
	if err != nil {
		if errors.Is(err, passkey.ErrCounter) && cred != nil {
			e := clientEvent(hooks.LoginFailed, nil, c)
			e.UserID, e.Reason = cred.UserID, "passkey"
			e.Passkey = &hooks.PasskeyRef{ID: passkey.EncodeID(cred.ID), Name: cred.Name}
			s.emit(ctx, e)
		}
		return nil, err
	}
	u, err := s.users.Get(ctx, cred.UserID)
	if errors.Is(err, user.ErrNotFound) || (err == nil && s.expired(u, s.now())) {
		return nil, passkey.ErrUnknownCredential // the account is gone
	}
	if err != nil {
		return nil, err
	}
	var out *user.User
	err = s.WithTx(ctx, func(ctx context.Context) error {
		out, err = s.enter(ctx, c, u.ID, entry{method: "passkey"})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, c, out)
}
