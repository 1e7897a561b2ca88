package apierror

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
)

// AsError maps any error to an *Error: the one place where storage, hasher
// and context failures become statuses. Unknown errors become a 500 whose
// message reveals nothing.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var me *mfa.Error
	if errors.As(err, &me) {
		return &Error{Status: me.Status, Code: me.Code, Message: me.Message, Wait: me.Wait, Factors: me.Factors, Err: err}
	}
	var he *hooks.Error
	if errors.As(err, &he) {
		code := he.Code
		if code == "" {
			code = CodeRejected
		}
		return &Error{Status: he.Status, Code: code, Message: he.Message, Err: err}
	}
	if errors.Is(err, session.ErrNotFound) { // a session ended while a flow used it
		return ErrInvalidToken.With(err)
	}
	if name := backend.Name(err); name != "" {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: name + " unavailable", Wait: time.Second, Err: err}
	}
	if e := oauthError(err); e != nil && !errors.Is(err, context.Canceled) {
		return e
	}
	if e := passkeyError(err); e != nil {
		return e
	}
	if st, code, msg, ok := tenant.Status(err); ok {
		return &Error{Status: st, Code: code, Message: msg, Err: err}
	}
	switch {
	case errors.Is(err, password.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeBusy, Message: "Too many password operations in progress, retry shortly", Wait: time.Second, Err: err}
	case errors.Is(err, user.ErrInvalidEmail):
		msg := EmailMessage("email", err)
		if msg == "" {
			msg = "email must be an email"
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: msg, Err: err}
	case errors.Is(err, user.ErrInvalidText):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: "Text must be valid UTF-8 without NUL characters", Err: err}
	case errors.Is(err, user.ErrEmailTaken):
		return ErrEmailTaken.With(err)
	case errors.Is(err, user.ErrIdentityTaken):
		return ErrIdentityTaken.With(err)
	case errors.Is(err, user.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: "The account changed concurrently, please retry", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "Request timed out", Wait: time.Second, Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Code: CodeInternal, Message: "Request canceled", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal server error", Err: err}
}

// EmailMessage is the client-facing message for an address that
// user.CheckEmail refused under one of its narrower rules (a look-alike
// character, mixed scripts: UTS #39), prefixed with the field's name; ""
// for any other error, which the caller reports as "<field> must be an
// email" (class-validator's wording, which nicot-simple-user answers).
func EmailMessage(field string, err error) string {
	switch {
	case errors.Is(err, user.ErrEmailMixedScript):
		return field + " mixes writing systems in a way that can imitate another address"
	case errors.Is(err, user.ErrEmailCharacter):
		return field + " holds a character that is invisible or can imitate another one"
	}
	return ""
}

// oauthError maps the errors of package oauth, with the status
// oauth.HTTPStatus gives them; nil for any other error.
func oauthError(err error) *Error {
	status := oauth.HTTPStatus(err)
	e := &Error{Status: status, Err: err}
	switch {
	case errors.Is(err, oauth.ErrUnknownProvider):
		e.Code, e.Message = CodeUnknownProvider, "Unknown sign-in provider"
	case errors.Is(err, oauth.ErrRedirectNotAllowed):
		e.Code, e.Message = CodeRedirectNotAllowed, "redirectUri is not an allowed redirect URI"
	case errors.Is(err, oauth.ErrSSAIDRequired):
		return ErrSSAIDRequired.With(err)
	case errors.Is(err, oauth.ErrDenied):
		e.Code, e.Message = CodeOAuthDenied, "Sign-in was cancelled or refused at the provider"
	case errors.Is(err, oauth.ErrBadState):
		e.Code, e.Message = CodeOAuthState, "The sign-in link is invalid, used or expired: start again"
	case errors.Is(err, oauth.ErrExchange), errors.Is(err, oauth.ErrBadToken):
		e.Code, e.Message = CodeOAuthExchange, "The provider did not confirm the sign-in"
	case errors.Is(err, oauth.ErrProviderUnavailable):
		e.Code, e.Message = CodeOAuthUnavailable, "The sign-in provider is unavailable, retry shortly"
		if status == http.StatusServiceUnavailable {
			e.Wait = time.Second
		}
	default:
		return nil
	}
	return e
}

// passkeyErrors map the errors of package passkey (passkeyError).
var passkeyErrors = []struct {
	err          error
	status       int
	code, reason string
}{
	{passkey.ErrDisabled, http.StatusNotFound, CodePasskeysDisabled, "Passkeys are not enabled."},
	{passkey.ErrChallenge, http.StatusBadRequest, CodePasskeyChallenge, "The passkey challenge is unknown, used or expired: begin again."},
	{passkey.ErrInvalidResponse, http.StatusBadRequest, CodeInvalidInput, "credential must be the JSON of a WebAuthn PublicKeyCredential."},
	{passkey.ErrInvalidName, http.StatusBadRequest, CodeInvalidInput, "name must be text of at most 64 bytes."},
	{passkey.ErrRefused, http.StatusForbidden, CodePasskeyRefused, "The passkey response did not verify."},
	{passkey.ErrUnknownCredential, http.StatusForbidden, CodePasskeyUnknown, "This passkey is not registered here (it may have been removed)."},
	{passkey.ErrCounter, http.StatusForbidden, CodePasskeyCounter, "The authenticator's signature counter went back: it may have been cloned. Sign in another way."},
	{passkey.ErrExists, http.StatusConflict, CodePasskeyExists, "This passkey is already registered."},
	{passkey.ErrTooMany, http.StatusConflict, CodeTooManyPasskeys, "The account has the most passkeys allowed: remove one first."},
	{passkey.ErrNotFound, http.StatusNotFound, CodePasskeyNotFound, "No such passkey."},
	{passkey.ErrNoPasskey, http.StatusNotFound, CodePasskeyNotFound, "No such passkey."},
}

// passkeyError maps the errors of package passkey; nil for any other error.
func passkeyError(err error) *Error {
	for _, m := range passkeyErrors {
		if errors.Is(err, m.err) {
			return &Error{Status: m.status, Code: m.code, Message: m.reason, Err: err}
		}
	}
	return nil
}
