package simpleuser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
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
// errors.Is(err, simpleuser.ErrInvalidCode) works on copies with a cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Code == e.Code
}

// NewError returns an *Error.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

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
)

// The fixed errors of the flows. Messages match nicot-simple-user's.
var (
	ErrSSAIDRequired        = NewError(http.StatusBadRequest, CodeSSAIDRequired, "Required parameter 'x-client-ssaid' in header is missing")
	ErrInvalidSSAID         = NewError(http.StatusBadRequest, CodeInvalidInput, "Invalid header 'x-client-ssaid': at most 128 printable ASCII characters")
	ErrInvalidToken         = NewError(http.StatusUnauthorized, CodeInvalidToken, "Invalid user token")
	ErrAuthRequired         = NewError(http.StatusUnauthorized, CodeAuthRequired, "User authentication required")
	ErrInvalidCode          = NewError(http.StatusForbidden, CodeInvalidCode, "Invalid email code")
	ErrCodeOrPassword       = NewError(http.StatusBadRequest, CodeInvalidInput, "Please provide code or password to login.")
	ErrInvalidPassword      = NewError(http.StatusForbidden, CodeInvalidPassword, "Invalid password.")
	ErrWrongCurrentPassword = NewError(http.StatusForbidden, CodeInvalidPassword, "Current password is incorrect.")
	ErrUserNotFound         = NewError(http.StatusNotFound, CodeUserNotFound, "User does not exist. Please provide code to create new user.")
	ErrEmailTaken           = NewError(http.StatusConflict, CodeEmailTaken, "Email is already in use by another account.")
	ErrAccountDisabled      = NewError(http.StatusForbidden, CodeAccountDisabled, "Account is disabled.")
	ErrMustChangePassword   = NewError(http.StatusForbidden, CodeMustChangePassword, "A new password must be set first.")
	ErrAnonymousPassword    = NewError(http.StatusPaymentRequired, CodeAnonymous, "Not allowed to change password for anonymous user.")
	ErrAnonymousEmail       = NewError(http.StatusPaymentRequired, CodeAnonymous, "Not allowed to change email for anonymous user.")
	ErrRegisteredRequired   = NewError(http.StatusPaymentRequired, CodeAnonymous, "A registered user is required.")
	ErrSendFailed           = NewError(http.StatusBadGateway, CodeSendFailed, "Failed to send code")

	// ErrEmailRequired: a password is only usable with an address (password
	// login is by email), so an account that signed up through a provider
	// must add an address (change-email) before setting one.
	ErrEmailRequired = NewError(http.StatusBadRequest, CodeEmailRequired, "Set an email address before setting a password.")
	// ErrIdentityTaken: the provider account is linked to another user; it
	// is never moved silently.
	ErrIdentityTaken = NewError(http.StatusConflict, CodeIdentityTaken, "This sign-in account is already linked to another user.")
	// ErrIdentityNotFound: the user has no such provider account linked.
	ErrIdentityNotFound = NewError(http.StatusNotFound, CodeIdentityNotFound, "No such sign-in account is linked to this user.")
	// ErrLastSignInMethod: unlinking would leave the user no way to sign in
	// (no email address and no other provider account).
	ErrLastSignInMethod = NewError(http.StatusConflict, CodeLastSignInMethod, "This is the only way to sign in to the account: add an email address or another sign-in account first.")
	// ErrCrossOrigin: a state-changing request authenticated by the
	// session or device cookie came from an origin that is neither the
	// app's own nor in Config.Browser.TrustedOrigins (cross-site request
	// forgery, OWASP CSRF Prevention Cheat Sheet); nothing was done.
	ErrCrossOrigin = NewError(http.StatusForbidden, CodeCSRF, "Cross-origin request refused: a request authenticated by cookies must come from the app's own origin or a trusted one.")
)

func cooldownError(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeCooldown, Message: "Please wait before requesting another code", Wait: wait}
}

func codeBlockedError(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeCodeBlocked, Message: "Too many invalid code attempts, please try again later", Wait: wait}
}

func passwordBlockedError(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodePasswordBlocked, Message: "Too many failed password attempts. Please wait before retrying.", Wait: wait}
}

func anonymousBudgetError(wait time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: CodeAnonymousBudget, Message: "Too many new devices from this address. Please wait before retrying.", Wait: wait}
}

// InvalidInput returns a 400 *Error with msg.
func InvalidInput(msg string) *Error { return NewError(http.StatusBadRequest, CodeInvalidInput, msg) }

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
		return &Error{Status: ErrInvalidToken.Status, Code: ErrInvalidToken.Code, Message: ErrInvalidToken.Message, Err: err}
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
		return &Error{Status: ErrEmailTaken.Status, Code: ErrEmailTaken.Code, Message: ErrEmailTaken.Message, Err: err}
	case errors.Is(err, user.ErrIdentityTaken):
		return &Error{Status: ErrIdentityTaken.Status, Code: ErrIdentityTaken.Code, Message: ErrIdentityTaken.Message, Err: err}
	case errors.Is(err, user.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: "The account changed concurrently, please retry", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "Request timed out", Wait: time.Second, Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Code: CodeInternal, Message: "Request canceled", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal server error", Err: err}
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
		return &Error{Status: ErrSSAIDRequired.Status, Code: ErrSSAIDRequired.Code, Message: ErrSSAIDRequired.Message, Err: err}
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
