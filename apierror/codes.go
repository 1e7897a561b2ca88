package apierror

import (
	"slices"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/tenant"
)

// Machine codes carried in data.code.
const (
	CodeInvalidInput    = "INVALID_INPUT"
	CodeSSAIDRequired   = "SSAID_REQUIRED"
	CodeInvalidToken    = "INVALID_TOKEN"
	CodeAuthRequired    = "AUTH_REQUIRED"
	CodeAnonymous       = "ANONYMOUS_USER"
	CodeInvalidCode     = "INVALID_CODE"
	CodeCodeBlocked     = "TOO_MANY_CODE_ATTEMPTS"
	CodeCooldown        = "SEND_COOLDOWN"
	CodeInvalidPassword = "INVALID_PASSWORD"
	CodePasswordBlocked = "TOO_MANY_PASSWORD_ATTEMPTS"
	CodeAnonymousBudget = "TOO_MANY_ANONYMOUS_USERS"
	CodeUserNotFound    = "USER_NOT_FOUND"
	CodeEmailTaken      = "EMAIL_TAKEN"
	CodeConflict        = "CONFLICT"
	CodeAccountDisabled = "ACCOUNT_DISABLED"
	// CodeAccountSuspended: an administrator suspended the account (a
	// disabling with the status "suspended", Nest Auth's ACCOUNT_SUSPENDED).
	CodeAccountSuspended = "ACCOUNT_SUSPENDED"
	// CodeMustChangePassword: an administrator requires a new password
	// (Service.SetMustChangePassword) before the guarded routes answer.
	CodeMustChangePassword = "MUST_CHANGE_PASSWORD"
	CodeSendFailed         = "SEND_FAILED"
	CodeUnavailable        = "BACKEND_UNAVAILABLE"
	CodeBusy               = "BUSY"
	CodeInternal           = "INTERNAL"
	CodeNotFound           = "NOT_FOUND"
	CodeBodyTooLarge       = "BODY_TOO_LARGE"
	CodeUnsupportedMedia   = "UNSUPPORTED_MEDIA_TYPE"
	CodeMethodNotAllowed   = "METHOD_NOT_ALLOWED"

	CodeEmailRequired      = "EMAIL_REQUIRED"
	CodeIdentityTaken      = "IDENTITY_TAKEN"
	CodeIdentityNotFound   = "IDENTITY_NOT_FOUND"
	CodeLastSignInMethod   = "LAST_SIGN_IN_METHOD"
	CodeSessionNotFound    = "SESSION_NOT_FOUND"
	CodeInvalidSettings    = "INVALID_SETTINGS"
	CodeUnknownProvider    = "UNKNOWN_PROVIDER"
	CodeRedirectNotAllowed = "REDIRECT_NOT_ALLOWED"
	CodeOAuthDenied        = "OAUTH_DENIED"
	CodeOAuthState         = "OAUTH_STATE"
	CodeOAuthExchange      = "OAUTH_EXCHANGE"
	CodeOAuthUnavailable   = "OAUTH_PROVIDER_UNAVAILABLE"
	CodeOAuthFailed        = "OAUTH_FAILED"

	// CodeCSRF: a state-changing request authenticated by the kit's
	// cookies came from another origin (middleware.CSRF).
	CodeCSRF = "CSRF"

	// CodeRejected is the data.code of a hook's refusal that names no code
	// of its own: hooks.Reject, or a hooks.Error with an empty Code.
	CodeRejected = "REJECTED"
)

// Machine codes of the passkey flows (docs/passkeys.md).
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

// Machine codes of the phone flows and of Config.RequireVerifiedEmail.
const (
	CodePhoneTaken       = "PHONE_TAKEN"
	CodeSMSUnavailable   = "SMS_UNAVAILABLE"
	CodeEmailNotVerified = "EMAIL_NOT_VERIFIED"
)

// codes lists every Code* constant of the package, in the order of their
// declaration. TestCodesListsEveryConstant fails when a constant is added
// without being listed here.
var codes = []string{
	CodeInvalidInput,
	CodeSSAIDRequired,
	CodeInvalidToken,
	CodeAuthRequired,
	CodeAnonymous,
	CodeInvalidCode,
	CodeCodeBlocked,
	CodeCooldown,
	CodeInvalidPassword,
	CodePasswordBlocked,
	CodeAnonymousBudget,
	CodeUserNotFound,
	CodeEmailTaken,
	CodeConflict,
	CodeAccountDisabled,
	CodeAccountSuspended,
	CodeMustChangePassword,
	CodeSendFailed,
	CodeUnavailable,
	CodeBusy,
	CodeInternal,
	CodeNotFound,
	CodeBodyTooLarge,
	CodeUnsupportedMedia,
	CodeMethodNotAllowed,
	CodeEmailRequired,
	CodeIdentityTaken,
	CodeIdentityNotFound,
	CodeLastSignInMethod,
	CodeSessionNotFound,
	CodeCSRF,
	CodeInvalidSettings,
	CodeUnknownProvider,
	CodeRedirectNotAllowed,
	CodeOAuthDenied,
	CodeOAuthState,
	CodeOAuthExchange,
	CodeOAuthUnavailable,
	CodeOAuthFailed,
	CodeRejected,
	CodePasskeysDisabled,
	CodePasskeyChallenge,
	CodePasskeyRefused,
	CodePasskeyUnknown,
	CodePasskeyCounter,
	CodePasskeyExists,
	CodePasskeyNotFound,
	CodeTooManyPasskeys,
	CodePhoneTaken,
	CodeSMSUnavailable,
	CodeEmailNotVerified,
}

// Codes returns every machine code the kit itself sends in data.code (the
// Code* constants: "INVALID_INPUT", "ACCOUNT_DISABLED"..., then those of
// the factor and tenant flows, mfa.Codes and tenant.Codes), each once, as
// a new slice the caller may change. A hook that fails with a hooks.Error
// of its own Code adds codes the kit cannot know; the OpenAPI document
// lists those from handlers.Options.ErrorCodes.
func Codes() []string { return slices.Concat(codes, mfa.Codes(), tenant.Codes()) }
