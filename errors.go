package simpleuser

import "github.com/simpleuser/simpleuser/apierror"

// The service's errors live in package apierror; the names below are
// theirs, re-exported so that apps write simpleuser.X.

// Error is an error with an HTTP status, a machine-readable code and a
// client-safe message (apierror.Error). Every error the service returns is
// an *Error or is mapped to one by AsError; the HTTP layer renders it into
// the envelope.
type Error = apierror.Error

// NewError returns an *Error.
func NewError(status int, code, message string) *Error { return apierror.New(status, code, message) }

// InvalidInput returns a 400 *Error with msg.
func InvalidInput(msg string) *Error { return apierror.InvalidInput(msg) }

// AsError maps any error to an *Error (apierror.AsError): the one place
// where storage, hasher and context failures become statuses. Unknown
// errors become a 500 whose message reveals nothing.
func AsError(err error) *Error { return apierror.AsError(err) }

// EmailMessage is the client-facing message for an address user.CheckEmail
// refused under one of its narrower rules, prefixed with field; "" for any
// other error (apierror.EmailMessage).
func EmailMessage(field string, err error) string { return apierror.EmailMessage(field, err) }

// Codes returns every machine code the kit itself sends in data.code, each
// once, as a new slice the caller may change (apierror.Codes).
func Codes() []string { return apierror.Codes() }

var anonymousBudgetError = apierror.AnonymousBudget

// Machine codes carried in data.code: apierror's Code* constants (each
// documented there).
const (
	CodeInvalidInput       = apierror.CodeInvalidInput
	CodeSSAIDRequired      = apierror.CodeSSAIDRequired
	CodeInvalidToken       = apierror.CodeInvalidToken
	CodeAuthRequired       = apierror.CodeAuthRequired
	CodeAnonymous          = apierror.CodeAnonymous
	CodeInvalidCode        = apierror.CodeInvalidCode
	CodeCodeBlocked        = apierror.CodeCodeBlocked
	CodeCooldown           = apierror.CodeCooldown
	CodeInvalidPassword    = apierror.CodeInvalidPassword
	CodePasswordBlocked    = apierror.CodePasswordBlocked
	CodeAnonymousBudget    = apierror.CodeAnonymousBudget
	CodeUserNotFound       = apierror.CodeUserNotFound
	CodeEmailTaken         = apierror.CodeEmailTaken
	CodeConflict           = apierror.CodeConflict
	CodeAccountDisabled    = apierror.CodeAccountDisabled
	CodeAccountSuspended   = apierror.CodeAccountSuspended
	CodeMustChangePassword = apierror.CodeMustChangePassword
	CodeSendFailed         = apierror.CodeSendFailed
	CodeUnavailable        = apierror.CodeUnavailable
	CodeBusy               = apierror.CodeBusy
	CodeInternal           = apierror.CodeInternal
	CodeNotFound           = apierror.CodeNotFound
	CodeBodyTooLarge       = apierror.CodeBodyTooLarge
	CodeUnsupportedMedia   = apierror.CodeUnsupportedMedia
	CodeMethodNotAllowed   = apierror.CodeMethodNotAllowed
	CodeEmailRequired      = apierror.CodeEmailRequired
	CodeIdentityTaken      = apierror.CodeIdentityTaken
	CodeIdentityNotFound   = apierror.CodeIdentityNotFound
	CodeLastSignInMethod   = apierror.CodeLastSignInMethod
	CodeSessionNotFound    = apierror.CodeSessionNotFound
	CodeInvalidSettings    = apierror.CodeInvalidSettings
	CodeUnknownProvider    = apierror.CodeUnknownProvider
	CodeRedirectNotAllowed = apierror.CodeRedirectNotAllowed
	CodeOAuthDenied        = apierror.CodeOAuthDenied
	CodeOAuthState         = apierror.CodeOAuthState
	CodeOAuthExchange      = apierror.CodeOAuthExchange
	CodeOAuthUnavailable   = apierror.CodeOAuthUnavailable
	CodeOAuthFailed        = apierror.CodeOAuthFailed
	CodeCSRF               = apierror.CodeCSRF
	CodeRejected           = apierror.CodeRejected
	CodePasskeysDisabled   = apierror.CodePasskeysDisabled
	CodePasskeyChallenge   = apierror.CodePasskeyChallenge
	CodePasskeyRefused     = apierror.CodePasskeyRefused
	CodePasskeyUnknown     = apierror.CodePasskeyUnknown
	CodePasskeyCounter     = apierror.CodePasskeyCounter
	CodePasskeyExists      = apierror.CodePasskeyExists
	CodePasskeyNotFound    = apierror.CodePasskeyNotFound
	CodeTooManyPasskeys    = apierror.CodeTooManyPasskeys
	CodePhoneTaken         = apierror.CodePhoneTaken
	CodeSMSUnavailable     = apierror.CodeSMSUnavailable
	CodeEmailNotVerified   = apierror.CodeEmailNotVerified
)

// The fixed errors of the flows: apierror's Err* values (each documented
// there). Messages match nicot-simple-user's.
var (
	ErrSSAIDRequired        = apierror.ErrSSAIDRequired
	ErrInvalidSSAID         = apierror.ErrInvalidSSAID
	ErrInvalidToken         = apierror.ErrInvalidToken
	ErrAuthRequired         = apierror.ErrAuthRequired
	ErrInvalidCode          = apierror.ErrInvalidCode
	ErrCodeOrPassword       = apierror.ErrCodeOrPassword
	ErrInvalidPassword      = apierror.ErrInvalidPassword
	ErrWrongCurrentPassword = apierror.ErrWrongCurrentPassword
	ErrUserNotFound         = apierror.ErrUserNotFound
	ErrEmailTaken           = apierror.ErrEmailTaken
	ErrAccountDisabled      = apierror.ErrAccountDisabled
	ErrAccountSuspended     = apierror.ErrAccountSuspended
	ErrMustChangePassword   = apierror.ErrMustChangePassword
	ErrAnonymousPassword    = apierror.ErrAnonymousPassword
	ErrAnonymousEmail       = apierror.ErrAnonymousEmail
	ErrRegisteredRequired   = apierror.ErrRegisteredRequired
	ErrSendFailed           = apierror.ErrSendFailed
	ErrEmailRequired        = apierror.ErrEmailRequired
	ErrIdentityTaken        = apierror.ErrIdentityTaken
	ErrIdentityNotFound     = apierror.ErrIdentityNotFound
	ErrLastSignInMethod     = apierror.ErrLastSignInMethod
	ErrCrossOrigin          = apierror.ErrCrossOrigin
	ErrPhoneTaken           = apierror.ErrPhoneTaken
	ErrSMSUnavailable       = apierror.ErrSMSUnavailable
	ErrEmailNotVerified     = apierror.ErrEmailNotVerified
)
