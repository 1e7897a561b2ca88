// Package apierror holds the errors the kit answers with: the Error type
// (an HTTP status, a machine code sent as data.code, a client-safe
// message), the Code* machine codes and Codes, the fixed errors of the
// flows, and AsError, the one place where any error becomes an *Error.
// The root package re-exports all of it (simpleuser.Error is an alias of
// Error, simpleuser.ErrInvalidCode is ErrInvalidCode...), so apps keep
// writing simpleuser.X.
package apierror

import (
	"fmt"
	"net/http"
	"time"
)

// Error is an error with an HTTP status, a machine-readable code and a
// client-safe message. Every error the service returns is an *Error or is
// mapped to one by AsError; the HTTP layer renders it into the envelope.
type Error struct {
	Status  int           // HTTP status
	Code    string        // machine code, sent as data.code (e.g. "ACCOUNT_DISABLED")
	Message string        // human-readable, safe to show the client
	Wait    time.Duration // for 429 (and busy 503): how long until a retry can succeed
	Err     error         // cause, for logs; never shown to the client
	// Factors are, for MFA_REQUIRED and REAUTH_REQUIRED, the factor kinds
	// the client may use ("password", "totp", "recovery", "email"...), sent
	// as data.factors.
	Factors []string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches two *Error values with the same status and code, so
// errors.Is(err, ErrInvalidCode) works on copies with a cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Code == e.Code
}

// New returns an *Error (simpleuser.NewError).
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// With returns a copy of e whose cause is err: the same status, code and
// message, so errors.Is(copy, e) holds.
func (e *Error) With(err error) *Error {
	return &Error{Status: e.Status, Code: e.Code, Message: e.Message, Err: err}
}

// InvalidInput returns a 400 *Error with msg.
func InvalidInput(msg string) *Error { return New(http.StatusBadRequest, CodeInvalidInput, msg) }

// Cooldown is the 429 SEND_COOLDOWN of a code asked for too soon; wait is
// how long until the next send can succeed.
func Cooldown(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeCooldown, Message: "Please wait before requesting another code", Wait: wait}
}

// CodeBlocked is the 429 TOO_MANY_CODE_ATTEMPTS of a code's attempt limit;
// wait is how long until a new attempt can succeed.
func CodeBlocked(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeCodeBlocked, Message: "Too many invalid code attempts, please try again later", Wait: wait}
}

// PasswordBlocked is the 429 TOO_MANY_PASSWORD_ATTEMPTS of the password
// attempt limits; wait is how long until a new attempt can succeed.
func PasswordBlocked(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodePasswordBlocked, Message: "Too many failed password attempts. Please wait before retrying.", Wait: wait}
}

// AnonymousBudget is the 429 TOO_MANY_ANONYMOUS_USERS of the client
// address's budget of new anonymous users; wait is how long until a new
// one can be created.
func AnonymousBudget(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeAnonymousBudget, Message: "Too many new devices from this address. Please wait before retrying.", Wait: wait}
}
