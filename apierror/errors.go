package apierror

import "net/http"

// The fixed errors of the flows. Messages match nicot-simple-user's.
var (
	ErrSSAIDRequired        = New(http.StatusBadRequest, CodeSSAIDRequired, "Required parameter 'x-client-ssaid' in header is missing")
	ErrInvalidSSAID         = New(http.StatusBadRequest, CodeInvalidInput, "Invalid header 'x-client-ssaid': at most 128 printable ASCII characters")
	ErrInvalidToken         = New(http.StatusUnauthorized, CodeInvalidToken, "Invalid user token")
	ErrAuthRequired         = New(http.StatusUnauthorized, CodeAuthRequired, "User authentication required")
	ErrInvalidCode          = New(http.StatusForbidden, CodeInvalidCode, "Invalid email code")
	ErrCodeOrPassword       = New(http.StatusBadRequest, CodeInvalidInput, "Please provide code or password to login.")
	ErrInvalidPassword      = New(http.StatusForbidden, CodeInvalidPassword, "Invalid password.")
	ErrWrongCurrentPassword = New(http.StatusForbidden, CodeInvalidPassword, "Current password is incorrect.")
	ErrUserNotFound         = New(http.StatusNotFound, CodeUserNotFound, "User does not exist. Please provide code to create new user.")
	ErrEmailTaken           = New(http.StatusConflict, CodeEmailTaken, "Email is already in use by another account.")
	ErrAccountDisabled      = New(http.StatusForbidden, CodeAccountDisabled, "Account is disabled.")
	ErrAccountSuspended     = New(http.StatusForbidden, CodeAccountSuspended, "Account is suspended.")
	ErrMustChangePassword   = New(http.StatusForbidden, CodeMustChangePassword, "A new password must be set first.")
	ErrAnonymousPassword    = New(http.StatusPaymentRequired, CodeAnonymous, "Not allowed to change password for anonymous user.")
	ErrAnonymousEmail       = New(http.StatusPaymentRequired, CodeAnonymous, "Not allowed to change email for anonymous user.")
	ErrRegisteredRequired   = New(http.StatusPaymentRequired, CodeAnonymous, "A registered user is required.")
	ErrSendFailed           = New(http.StatusBadGateway, CodeSendFailed, "Failed to send code")

	// ErrEmailRequired: a password is only usable with an address (password
	// login is by email), so an account that signed up through a provider
	// must add an address (change-email) before setting one.
	ErrEmailRequired = New(http.StatusBadRequest, CodeEmailRequired, "Set an email address before setting a password.")
	// ErrIdentityTaken: the provider account is linked to another user; it
	// is never moved silently.
	ErrIdentityTaken = New(http.StatusConflict, CodeIdentityTaken, "This sign-in account is already linked to another user.")
	// ErrIdentityNotFound: the user has no such provider account linked.
	ErrIdentityNotFound = New(http.StatusNotFound, CodeIdentityNotFound, "No such sign-in account is linked to this user.")
	// ErrLastSignInMethod: unlinking would leave the user no way to sign in
	// (no email address and no other provider account).
	ErrLastSignInMethod = New(http.StatusConflict, CodeLastSignInMethod, "This is the only way to sign in to the account: add an email address or another sign-in account first.")
	// ErrCrossOrigin: a state-changing request authenticated by the
	// session or device cookie came from an origin that is neither the
	// app's own nor in Config.Browser.TrustedOrigins (cross-site request
	// forgery, OWASP CSRF Prevention Cheat Sheet); nothing was done.
	ErrCrossOrigin = New(http.StatusForbidden, CodeCSRF, "Cross-origin request refused: a request authenticated by cookies must come from the app's own origin or a trusted one.")
)

// Errors of the phone flows and of Config.RequireVerifiedEmail.
var (
	ErrPhoneTaken       = New(http.StatusConflict, CodePhoneTaken, "Phone number is already in use by another account.")
	ErrSMSUnavailable   = New(http.StatusServiceUnavailable, CodeSMSUnavailable, "Codes by SMS are not available: the app has no SendSMS hook.")
	ErrEmailNotVerified = New(http.StatusForbidden, CodeEmailNotVerified, "Verify your email address first.")
)
