package apierror

import (
	"errors"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/password"
)

// The refusals of the flows the service runs on blocks (code.Flow,
// password.Checker), mapped to its errors where it calls them, so its
// methods return *Error values to Go callers too.

// FromCodeFlow maps the errors of code.Flow: code.ErrInvalid to
// ErrInvalidCode, a *code.LimitError to Cooldown (a send) or CodeBlocked,
// a *code.DeliveryError to the *Error its hook returned or ErrSendFailed;
// any other error (nil included) is returned as is.
func FromCodeFlow(err error) error {
	var le *code.LimitError
	var de *code.DeliveryError
	switch {
	case errors.Is(err, code.ErrInvalid):
		return ErrInvalidCode
	case errors.As(err, &le) && le.Send:
		return Cooldown(le.Wait)
	case le != nil:
		return CodeBlocked(le.Wait)
	case errors.As(err, &de):
		var e *Error
		if errors.As(de.Err, &e) {
			return e
		}
		return ErrSendFailed.With(de)
	}
	return err
}

// FromPassword maps the refusals of password.Checker: a
// *password.LengthError to 400 INVALID_INPUT with its message, a
// *password.BlockedError to PasswordBlocked; any other error
// (password.ErrWrong, nil included) is returned as is.
func FromPassword(err error) error {
	var le *password.LengthError
	var be *password.BlockedError
	switch {
	case errors.As(err, &le):
		return InvalidInput(le.Error())
	case errors.As(err, &be):
		return PasswordBlocked(be.Wait)
	}
	return err
}
