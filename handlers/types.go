package handlers

import (
	"encoding/json"
	"strings"

	"github.com/simpleuser/simpleuser"
)

// Request bodies and query parameters. Field order is the order of the
// validation messages; validate tags are go-playground/validator rules,
// msg overrides the message of any failure of the field (see validate.go).

// sendCodeBody is the body of POST /send-code/send.
type sendCodeBody struct {
	Email       string `json:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Address the code is sent to (trimmed; compared case-insensitively)."`
	CodePurpose string `json:"codePurpose" validate:"required,oneof=Login ResetPassword ChangeEmail Unregister" msg:"must be one of the following values: Login, ResetPassword, ChangeEmail, Unregister" required:"true" enum:"Login,ResetPassword,ChangeEmail,Unregister" description:"What the code will be good for."`
}

func (b *sendCodeBody) normalize() { b.Email = strings.TrimSpace(b.Email) }

// verifyQuery is the query of GET /send-code/verify.
type verifyQuery struct {
	Email       string `query:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Address the code was sent to."`
	CodePurpose string `query:"codePurpose" validate:"required,oneof=Login ResetPassword ChangeEmail Unregister" msg:"must be one of the following values: Login, ResetPassword, ChangeEmail, Unregister" required:"true" enum:"Login,ResetPassword,ChangeEmail,Unregister" description:"Purpose the code was sent for."`
	Code        string `query:"code" validate:"required" required:"true" minLength:"1" description:"The code to check (not consumed)."`
}

func (q *verifyQuery) normalize() { q.Email = strings.TrimSpace(q.Email) }

// userExistsQuery is the query of GET /login/user-exists.
type userExistsQuery struct {
	Email string `query:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Address to look up."`
}

func (q *userExistsQuery) normalize() { q.Email = strings.TrimSpace(q.Email) }

// loginBody is the body of POST /login. Every other field of the body is
// passed to the service in LoginInput.Extra.
type loginBody struct {
	_           struct{} `additionalProperties:"true" description:"Fields beyond these four are passed to the app's hooks (LoginInput.Extra)."`
	Email       string   `json:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Account address."`
	Code        *string  `json:"code,omitempty" validate:"omitnil,min=1" msg:"should not be empty" minLength:"1" description:"A Login code sent to the address. Takes precedence over password; required to create an account."`
	Password    string   `json:"password,omitempty" description:"The account password (empty counts as absent)."`
	SetPassword string   `json:"setPassword,omitempty" description:"Password to set when this login creates the account (empty counts as absent)."`
}

func (b *loginBody) normalize() { b.Email = strings.TrimSpace(b.Email) }

// resetPasswordBody is the body of POST /login/reset-password.
type resetPasswordBody struct {
	Email       string `json:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Account address."`
	Code        string `json:"code" validate:"required" required:"true" minLength:"1" description:"A ResetPassword code sent to the address."`
	NewPassword string `json:"newPassword" validate:"required" required:"true" minLength:"1" description:"The new password (length limits of the service apply)."`
}

func (b *resetPasswordBody) normalize() { b.Email = strings.TrimSpace(b.Email) }

// unregisterWithCodeBody is the body of POST /login/unregister-with-code.
type unregisterWithCodeBody struct {
	Email string `json:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"Account address."`
	Code  string `json:"code" validate:"required" required:"true" minLength:"1" description:"An Unregister code sent to the address."`
}

func (b *unregisterWithCodeBody) normalize() { b.Email = strings.TrimSpace(b.Email) }

// changePasswordBody is the body of POST /user-center/change-password.
type changePasswordBody struct {
	NewPassword     string  `json:"newPassword" validate:"required" required:"true" minLength:"1" description:"The new password."`
	CurrentPassword *string `json:"currentPassword,omitempty" validate:"omitnil,min=1" msg:"should not be empty" minLength:"1" description:"The current password; required when one is set."`
}

// changeEmailBody is the body of POST /user-center/change-email.
type changeEmailBody struct {
	Email string `json:"email" validate:"required,max=254,email,useremail" msg:"must be an email" required:"true" format:"email" maxLength:"254" description:"The new address."`
	Code  string `json:"code" validate:"required" required:"true" minLength:"1" description:"A ChangeEmail code sent to the new address."`
}

func (b *changeEmailBody) normalize() { b.Email = strings.TrimSpace(b.Email) }

// sendPhoneCodeBody is the body of POST /send-code/phone.
type sendPhoneCodeBody struct {
	Phone       string `json:"phone" validate:"required,max=64" required:"true" maxLength:"64" description:"Phone number the code is sent to by SMS: E.164 with + and country code, or national in the app's default region (Config.Phone.DefaultRegion); spaces, dashes and brackets allowed."`
	CodePurpose string `json:"codePurpose" validate:"required,oneof=Login ChangePhone" msg:"must be one of the following values: Login, ChangePhone" required:"true" enum:"Login,ChangePhone" description:"What the code will be good for: Login (POST /login/phone) or ChangePhone (POST /user-center/change-phone)."`
}

// phoneLoginBody is the body of POST /login/phone. Every other field of
// the body is passed to the service in LoginInput.Extra.
type phoneLoginBody struct {
	_     struct{} `additionalProperties:"true" description:"Fields beyond phone and code are passed to the app's hooks (LoginInput.Extra), as for POST /login."`
	Phone string   `json:"phone" validate:"required,max=64" required:"true" maxLength:"64" description:"The number the Login code was sent to, as for POST /send-code/phone."`
	Code  string   `json:"code" validate:"required" required:"true" minLength:"1" description:"The Login code sent by SMS."`
}

// changePhoneBody is the body of POST /user-center/change-phone.
type changePhoneBody struct {
	Phone string `json:"phone" validate:"required,max=64" required:"true" maxLength:"64" description:"The new number, as for POST /send-code/phone."`
	Code  string `json:"code" validate:"required" required:"true" minLength:"1" description:"A ChangePhone code sent by SMS to the new number."`
}

// Response data.

// loginData is the data of a successful POST /login.
type loginData struct {
	Token          string `json:"token" required:"true" minLength:"64" maxLength:"64" description:"Session token; send it as x-client-token."`
	TokenExpiresAt string `json:"tokenExpiresAt" required:"true" format:"date-time" description:"When the session ends (RFC 3339 UTC, milliseconds)."`
	UserID         int64  `json:"userId" required:"true" description:"The account id."`
	// Present only for an account with MFA on: the answer of any other
	// account is byte for byte nicot-simple-user's.
	MFARequired bool     `json:"mfaRequired,omitempty" description:"Present (true) when the account has MFA on: the token names a short-lived challenge session that opens only POST /user-center/mfa/challenge, POST /user-center/mfa/send-code and logout, until a second factor completes the sign-in."`
	Factors     []string `json:"factors,omitempty" description:"With mfaRequired: the factor kinds that can complete the sign-in (totp, recovery, email, passkey)."`
	// Set by POST /user-center/mfa/challenge with trustDevice.
	DeviceToken          string `json:"deviceToken,omitempty" description:"With trustDevice: the trusted-device token; send it as x-client-trusted-device at later sign-ins (in cookie mode it is also set as a cookie) to skip the second factor on this device."`
	DeviceTokenExpiresAt string `json:"deviceTokenExpiresAt,omitempty" format:"date-time" description:"When the trusted-device token expires."`
	// Present only when the session acts in a tenant (Config.Tenants).
	TenantID int64 `json:"tenantId,omitempty" description:"The tenant the session acts in (absent: none); its roles and permissions ride in the session."`
}

// loginDataOf renders a login result.
func loginDataOf(res *simpleuser.LoginResult) *loginData {
	return &loginData{Token: res.Token, TokenExpiresAt: formatTime(res.ExpiresAt), UserID: res.UserID, MFARequired: res.MFARequired, Factors: res.Factors, TenantID: res.TenantID}
}

// userExistsData is the data of GET /login/user-exists.
type userExistsData struct {
	Exists bool `json:"exists" required:"true" description:"Whether a live account holds the address."`
}

// meUser is the kit's part of the data of GET /user-center/me; the app's
// Options.UserFields are added to its schema and Options.MeFields to its
// value.
type meUser struct {
	ID              int64          `json:"id" required:"true" description:"User id."`
	Email           *string        `json:"email" required:"true" format:"email" description:"Address; null for an anonymous user."`
	Phone           *string        `json:"phone" required:"true" pattern:"^\\+[1-9][0-9]{1,14}$" description:"Phone number in E.164 (+14155550100); null for none."`
	EmailVerifiedAt *string        `json:"emailVerifiedAt" required:"true" format:"date-time" description:"When the address was verified (a code sent there was used, or a sign-in provider asserted it verified); null when it was not. Cleared when the address changes."`
	PhoneVerifiedAt *string        `json:"phoneVerifiedAt" required:"true" format:"date-time" description:"When the phone number was verified (a code sent there by SMS was used); null when it was not. Cleared when the number changes."`
	Registered      bool           `json:"registered" required:"true" description:"Whether the user is an account rather than an anonymous user (an account made by a sign-in provider may have no address)."`
	PasswordSet     bool           `json:"passwordSet" required:"true" description:"Whether the user has a password."`
	Metadata        map[string]any `json:"metadata" required:"true" nullable:"false" description:"App-writable JSON object."`
	Settings        map[string]any `json:"settings" required:"true" nullable:"false" description:"The user's own JSON object (preferences): written with PATCH /user-center/settings (a merge patch) or by the app."`
	CreatedAt       string         `json:"createdAt" required:"true" format:"date-time" description:"Creation time (RFC 3339 UTC, milliseconds)."`
	MFAEnabled      bool           `json:"mfaEnabled" required:"true" description:"Whether a sign-in to the account needs a second factor (from the session: no store read)."`
	Factors         []string       `json:"factors" required:"true" nullable:"false" description:"The factor kinds the account has (totp, recovery, email, passkey), from the session; empty for none."`
}

// sessionInfo is the data of GET /user-center/session.
type sessionInfo struct {
	UserID    int64           `json:"userId" required:"true" description:"The session's user id."`
	CreatedAt string          `json:"createdAt" required:"true" format:"date-time" description:"When the session was issued (login)."`
	ExpiresAt string          `json:"expiresAt" required:"true" format:"date-time" description:"When the session ends at the latest."`
	Data      json.RawMessage `json:"data,omitempty" description:"The GetSessionUserData object stored at login, if the app set that hook."`
}

// Envelope schemas (OpenAPI only; the wire format is written by package envelope).

// envelopeHead holds the fields every envelope has.
type envelopeHead struct {
	StatusCode int    `json:"statusCode" required:"true" description:"Equals the HTTP status."`
	Message    string `json:"message" required:"true" description:"\"success\", or a human-readable error."`
	Success    bool   `json:"success" required:"true" description:"statusCode < 400."`
	Timestamp  string `json:"timestamp" required:"true" format:"date-time" description:"Server time, RFC 3339 UTC with milliseconds."`
}

// errorCode is data.code in the document: its schema (ErrorCode) lists
// every code the server sends (see server.errorCodes).
type errorCode string

// errorData is the data of an error envelope.
type errorData struct {
	Code    errorCode `json:"code" required:"true" description:"Machine-readable error code, e.g. ACCOUNT_DISABLED, INVALID_INPUT."`
	Factors []string  `json:"factors,omitempty" description:"With MFA_REQUIRED and REAUTH_REQUIRED: the factor kinds the client may use (password, totp, recovery, email, passkey); empty when none (sign in again)."`
}

// waitData is the data of a 429 (or retryable 503) envelope.
type waitData struct {
	Code       errorCode `json:"code" required:"true" description:"Machine-readable error code, e.g. SEND_COOLDOWN."`
	WaitTimeMs int64     `json:"waitTimeMs" required:"true" minimum:"1" description:"Milliseconds until a retry can succeed."`
}

// locationHeader documents the Location header of 302 answers.
type locationHeader struct {
	Location string `header:"Location" required:"true" format:"uri" description:"Where to send the browser."`
}

// pageLocation documents the Location header of 303 answers: a path on
// the site or an absolute URL (RFC 9110 §10.2.2: a URI reference).
type pageLocation struct {
	Location string `header:"Location" required:"true" format:"uri-reference" description:"The page to send the browser to."`
}

// retryAfter documents the Retry-After header of 429 answers.
type retryAfter struct {
	RetryAfter int `header:"Retry-After" required:"true" minimum:"1" description:"Seconds until a retry can succeed (waitTimeMs rounded up)."`
}

// Header parameters (OpenAPI only; read by the middleware).
type ssaidHeader struct {
	SSAID string `header:"x-client-ssaid" required:"true" minLength:"1" maxLength:"128" pattern:"^[\\x21-\\x7e]+$" description:"Stable random device id the client generates once (UUID, ULID...)."`
}

type optionalSSAIDHeader struct {
	SSAID string `header:"x-client-ssaid" minLength:"1" maxLength:"128" pattern:"^[\\x21-\\x7e]+$" description:"Device id; not needed here, but rejected (400) when malformed."`
}
