package mfa

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Error is a refusal of a factor flow, with the HTTP status and the
// machine code (data.code) the kit answers it with (simpleuser.AsError
// maps it).
type Error struct {
	Status  int
	Code    string
	Message string
	// Wait is, for a 429, how long until a retry can succeed.
	Wait time.Duration
	// Factors are, for MFA_REQUIRED and REAUTH_REQUIRED, the factor kinds
	// the client may use (FactorTOTP...), answered in data.factors.
	Factors []string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Is matches two *Error values with the same status and code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Code == e.Code
}

// Machine codes of the factor flows (the root package lists them in
// simpleuser.Codes under the same values).
const (
	CodeMFARequired       = "MFA_REQUIRED"
	CodeReauthRequired    = "REAUTH_REQUIRED"
	CodeInvalidFactor     = "INVALID_FACTOR"
	CodeFactorBlocked     = "TOO_MANY_FACTOR_ATTEMPTS"
	CodeFactorUnavailable = "FACTOR_NOT_AVAILABLE"
	CodeFactorNotFound    = "FACTOR_NOT_FOUND"
	CodeFactorNameTaken   = "FACTOR_NAME_TAKEN"
	CodeLastFactor        = "LAST_FACTOR"
	CodeTooManyFactors    = "TOO_MANY_FACTORS"
	CodeNotInChallenge    = "NOT_IN_CHALLENGE"
)

// Codes returns the machine codes of the factor flows.
func Codes() []string {
	return []string{CodeMFARequired, CodeReauthRequired, CodeInvalidFactor, CodeFactorBlocked, CodeFactorUnavailable,
		CodeFactorNotFound, CodeFactorNameTaken, CodeLastFactor, CodeTooManyFactors, CodeNotInChallenge}
}

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// The fixed errors of the flows.
var (
	// ErrInvalidFactor (403): the code is wrong, expired, already used
	// (a TOTP code replayed within its window, a spent recovery code).
	ErrInvalidFactor = newError(http.StatusForbidden, CodeInvalidFactor, "Invalid verification code.")
	// ErrFactorUnavailable (400): the account has no factor of that kind
	// (or it is not usable here).
	ErrFactorUnavailable = newError(http.StatusBadRequest, CodeFactorUnavailable, "This account has no factor of that kind.")
	// ErrFactorNotFound (404): the user has no authenticator or trusted
	// device of that id.
	ErrFactorNotFound = newError(http.StatusNotFound, CodeFactorNotFound, "No such authenticator or device.")
	// ErrFactorNameTaken (409): the user has an authenticator of that name.
	ErrFactorNameTaken = newError(http.StatusConflict, CodeFactorNameTaken, "An authenticator of that name exists.")
	// ErrLastFactor (409): removing it would leave MFA on without a
	// factor; turning MFA off needs a current code (Disable).
	ErrLastFactor = newError(http.StatusConflict, CodeLastFactor, "This is the last second factor: turn MFA off instead.")
	// ErrTooManyFactors (409): the user has MaxAuthenticators authenticators.
	ErrTooManyFactors = newError(http.StatusConflict, CodeTooManyFactors, "Too many authenticators: remove one first.")
	// ErrNotInChallenge (409): the session is not waiting for a second factor.
	ErrNotInChallenge = newError(http.StatusConflict, CodeNotInChallenge, "This session is not waiting for a second factor.")
)

// MFARequired is the 403 of a session that still needs its second factor
// (the challenge stage), listing the factors that can complete it.
func MFARequired(factors []string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeMFARequired, Message: "A second factor is required to complete the sign-in.", Factors: usable(factors)}
}

// ReauthRequired is the 403 of a sensitive action whose session last
// authenticated too long ago (step-up, NIST SP 800-63B §4.2.3 / OWASP
// ASVS 2.0 V3.7.1), listing what can re-authenticate it.
func ReauthRequired(factors []string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeReauthRequired, Message: "Please authenticate again to do this.", Factors: factors}
}

func blocked(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeFactorBlocked, Message: "Too many invalid codes, please try again later.", Wait: wait}
}

// usable is factors without the password (never a second factor), as a
// non-nil slice.
func usable(factors []string) []string {
	out := slices.DeleteFunc(slices.Clone(factors), func(f string) bool { return f == FactorPassword })
	if out == nil {
		out = []string{}
	}
	return out
}
