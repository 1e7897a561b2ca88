package simpleuser

import (
	"slices"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/tenant"
)

// CodeRejected is the data.code of a hook's refusal that names no code of
// its own: hooks.Reject, or a hooks.Error with an empty Code.
const CodeRejected = "REJECTED"

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
// the factor flows, mfa.Codes), each once, as a new slice the caller may
// change. A hook that fails with a hooks.Error
// of its own Code adds codes the kit cannot know; the OpenAPI document
// lists those from handlers.Options.ErrorCodes.
func Codes() []string { return slices.Concat(codes, mfa.Codes(), tenant.Codes()) }
