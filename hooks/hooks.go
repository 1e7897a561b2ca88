// Package hooks declares the functions an app plugs into simpleuser's flows
// and the events it can subscribe to. Every hook is a plain func field; a
// nil hook does nothing.
//
// Hooks marked "inside the transaction" run with a context carrying the
// kit's user-store transaction: the app's own statements made through that
// context (user/postgres.TxFrom) commit or roll back with the kit's, and an
// error they return rolls everything back. Events are delivered after
// commit, never for a rolled-back change.
package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// Code purposes, as sent by clients in codePurpose.
const (
	PurposeLogin         = "Login"
	PurposeResetPassword = "ResetPassword"
	PurposeChangeEmail   = "ChangeEmail"
	PurposeUnregister    = "Unregister"
	// PurposeSecondFactor is a code sent to the account's own address as
	// a second factor or to re-authenticate (never through
	// /send-code/send: the factor endpoints send it).
	PurposeSecondFactor = "SecondFactor"
	// PurposeChangePhone is a code sent by SMS to a number being added to
	// the signed-in account or replacing its number (POST
	// /send-code/phone, then POST /user-center/change-phone).
	PurposeChangePhone = "ChangePhone"
)

// SendSMSRequest is what SendSMS receives.
type SendSMSRequest struct {
	Phone   string // E.164 ("+14155550100"), parsed from what the person typed
	Purpose string // PurposeLogin or PurposeChangePhone
	SSAID   string
	IP      string
	// AcceptLanguage is the raw Accept-Language header of the request
	// (RFC 9110 §12.5.4), as in SendCodeRequest.
	AcceptLanguage string
	// TTL is how long the code will stay valid once stored (Config.CodeTTL).
	TTL time.Duration
}

// SendCodeRequest is what SendCode receives.
type SendCodeRequest struct {
	Email   string // trimmed, as typed
	Purpose string // one of the Purpose constants
	SSAID   string
	IP      string
	// AcceptLanguage is the raw Accept-Language header of the request that
	// asked for the code (RFC 9110 §12.5.4, e.g. "de-CH, de;q=0.9, en;q=0.5"),
	// at most simpleuser.MaxAcceptLanguageLength bytes; "" when the request
	// had none or a Go caller filled no simpleuser.Client.AcceptLanguage.
	// Choose the message's language from it with
	// golang.org/x/text/language (ParseAcceptLanguage, a Matcher), as the
	// mail package does.
	AcceptLanguage string
	// TTL is how long the code will stay valid once stored
	// (Config.CodeTTL), for the message ("expires in 10 minutes").
	TTL time.Duration
}

// Payload is the open-ended signup payload: every field of the POST /login
// body beyond email, code, password and setPassword (e.g. "nickname",
// "referralCode"), as raw JSON.
type Payload map[string]json.RawMessage

// String returns the payload field name decoded as a string ("" when absent or not a string).
func (p Payload) String(name string) string {
	var s string
	if raw, ok := p[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// LoginInfo describes a login in progress.
type LoginInfo struct {
	Method string // "code", "password", "oauth" or "passkey"
	// Provider names the sign-in provider when Method is "oauth" ("google", ...).
	Provider string
	SSAID    string
	IP       string
	// Created is true when this login registers the account.
	Created bool
	// TenantID is the tenant the new session will start in (0: none;
	// simpleuser.Config.Tenants.Default chooses it).
	TenantID int64
}

// Error is an error a hook returns to refuse an operation with a given HTTP
// status and message (e.g. 400 "unknown referral code"). Any other error
// from a hook is a 500 whose message reveals nothing.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Reject returns a *Error with status (a 4xx) and message, code "REJECTED".
func Reject(status int, message string) error {
	return &Error{Status: status, Code: "REJECTED", Message: message}
}

// Hooks are the app's extension points.
type Hooks struct {
	// SendCode delivers a one-time code to req.Email and returns the code it
	// sent. Required. It runs outside any transaction, after the send
	// limits were taken. An error (or an empty code) means nothing was
	// delivered: no code is stored and the client gets 502 SEND_FAILED (or
	// the status of a *Error it returns). The email and device cooldowns are
	// given back, so the person can ask again at once; the send still counts
	// against the client address's budget, so failing sends cannot call the
	// hook without bound. The mail package's Sender.SendCode delivers over
	// SMTP; code.Generate makes a code for a sender of the app's own.
	SendCode func(ctx context.Context, req SendCodeRequest) (code string, err error)

	// SendSMS delivers a one-time code by SMS to req.Phone (E.164) and
	// returns the code it sent; code.Generate makes one. Optional: without
	// it, phone codes are refused with 503 SMS_UNAVAILABLE. It runs under
	// the same rules as SendCode (outside any transaction, after the send
	// limits were taken; an error or empty code stores nothing, answers
	// 502 SEND_FAILED or the *Error's status, and gives the cooldowns back).
	// The number is personal data: log it masked, if at all.
	SendSMS func(ctx context.Context, req SendSMSRequest) (code string, err error)

	// BeforeCreate runs inside the creation transaction when a registered
	// account comes into being (first code login upgrading the anonymous
	// user, CreateUser, InitialUsers), before the row is written. It may
	// change u (e.g. u.Metadata) or veto with an error (a *Error gives the
	// client its status; anything else is a 500). Anonymous placeholder rows
	// do not run it.
	BeforeCreate func(ctx context.Context, u *user.User, payload Payload) error

	// AfterCreate runs inside the same transaction, after the user row
	// exists (u.ID is set), with the signup payload. Create the app's own row
	// here (linked by auth_user_id). Its error rolls the creation back: no
	// auth user exists without its app user.
	AfterCreate func(ctx context.Context, u *user.User, payload Payload) error

	// OnLogin runs inside the login transaction after the credentials were
	// checked and before a session is issued. An error rejects the login.
	OnLogin func(ctx context.Context, u *user.User, info LoginInfo) error

	// OnMigrateUser runs when a device whose ssaid has an anonymous user logs
	// into an existing account, inside the login transaction, after the
	// credentials were checked and before the session is issued. The app
	// moves the anonymous user's data (cart, drafts) to account. An error
	// rolls back and fails the login.
	OnMigrateUser func(ctx context.Context, anonymous, account *user.User) error

	// GetSessionUserData runs once when a session is created (outside the
	// transaction, after commit). The object it returns is stored in the
	// session and readable on every request without a user-store read
	// (simpleuser.CurrentSession(ctx).UserData). An error fails the login.
	GetSessionUserData func(ctx context.Context, u *user.User) (map[string]any, error)

	// MeFields returns extra fields merged into GET /user-center/me (e.g.
	// the app user's columns). Kit fields win on a name clash. Declare their
	// Go type in MeFieldsType so the OpenAPI document shows them.
	MeFields func(ctx context.Context, u *user.User) (map[string]any, error)
	// MeFieldsType is a value of the Go struct whose JSON fields MeFields
	// returns (fields tagged json:"-" never appear), for the OpenAPI schema.
	MeFieldsType any

	// AfterLoadUser runs when the current user is lazily loaded for a
	// request; it may return a replacement (nil keeps u). Keep it cheap: it
	// runs on every request that asks for the user.
	AfterLoadUser func(ctx context.Context, u *user.User) (*user.User, error)

	// OnUnregister runs inside the unregister transaction, after the
	// unregister time was set (or, for an anonymous user, before it is
	// deleted). An error rolls the unregister back and revokes nothing.
	OnUnregister func(ctx context.Context, u *user.User) error

	// BeforeDelete runs inside the deletion transaction while the row still
	// exists (hard deletion: DeleteUser, purges). An error aborts the deletion.
	BeforeDelete func(ctx context.Context, u *user.User) error

	// OnEvent receives every event after its change committed. It runs
	// synchronously after the operation; an error or panic is logged and
	// does not fail the request.
	OnEvent func(ctx context.Context, e Event) error
}

// Event types.
const (
	UserRegistered  = "UserRegistered"
	LoggedIn        = "LoggedIn"
	LoginFailed     = "LoginFailed"
	LoggedOut       = "LoggedOut"
	PasswordChanged = "PasswordChanged"
	PasswordReset   = "PasswordReset"
	EmailChanged    = "EmailChanged"
	// PhoneChanged: the account's phone number was added, changed or
	// removed (change-phone, remove-phone): Event.Phone is the old number
	// ("" when one was added), Event.User.Phone the new one ("" when removed).
	PhoneChanged     = "PhoneChanged"
	UserUnregistered = "UserUnregistered"
	UserDeleted      = "UserDeleted"
	UserDisabled     = "UserDisabled"
	UserEnabled      = "UserEnabled"
	UserCreated      = "UserCreated"
	// IdentityLinked: a sign-in provider account was linked to the user
	// (Event.Identity), by a first sign-in with it or explicitly.
	IdentityLinked = "IdentityLinked"
	// IdentityUnlinked: the user removed a sign-in provider account (Event.Identity).
	IdentityUnlinked = "IdentityUnlinked"
	// MFAEnabled: the account's first second factor turned MFA on.
	MFAEnabled = "MFAEnabled"
	// MFADisabled: the user turned MFA off (proven by a current factor);
	// every factor of the account was removed.
	MFADisabled = "MFADisabled"
	// FactorAdded: a factor was added (Event.Factor; for TOTP,
	// Event.FactorName), or the recovery codes regenerated ("recovery").
	FactorAdded = "FactorAdded"
	// FactorRemoved: a factor was removed (Event.Factor, Event.FactorName).
	FactorRemoved = "FactorRemoved"
	// RecoveryCodeUsed: a recovery code was spent (sign-in, re-authentication).
	RecoveryCodeUsed = "RecoveryCodeUsed"
)

// Event is something that happened, delivered after commit.
type Event struct {
	Type   string
	Time   time.Time
	UserID int64 // the user concerned (0 for a LoginFailed on an unknown email)
	// User is a snapshot of the user after the change (before it, for UserDeleted).
	// For LoginFailed it is nil when no account holds the email.
	User *user.User
	// Payload is the signup payload (UserRegistered, UserCreated). For a
	// provider sign-up it holds "provider", "name" and "avatarUrl" (strings).
	Payload Payload
	IP      string
	SSAID   string
	// Email is the address involved (LoginFailed; EmailChanged: the old address).
	Email string
	// Phone is the old number (E.164) of a PhoneChanged, "" when one was added.
	Phone string
	// Reason says why a login failed ("code", "password", "blocked",
	// "disabled", "suspended", "unknown", "provider").
	Reason string
	// Identity is the sign-in provider account concerned (IdentityLinked,
	// IdentityUnlinked; LoggedIn, UserRegistered and LoginFailed of a
	// provider sign-in).
	Identity *user.Identity
	// Provider names the sign-in provider of a provider sign-in ("" otherwise).
	Provider string
	// Factor is the factor kind of FactorAdded, FactorRemoved and
	// RecoveryCodeUsed ("totp", "recovery", "email", "passkey").
	Factor string
	// FactorName is the user's name of the factor (a TOTP authenticator's), if any.
	FactorName string
	// Passkey is the passkey concerned (PasskeyAdded, PasskeyRemoved; a
	// LoginFailed with Reason "passkey" refused for its signature counter).
	Passkey *PasskeyRef
	// TenantID is the tenant concerned: the one a LoggedIn session starts
	// in, the one switched to (TenantSwitched), or the membership's
	// (MembershipAdded, MembershipUpdated, MembershipRemoved). 0: none.
	TenantID int64
	// Roles are the member's roles in TenantID (MembershipAdded,
	// MembershipUpdated, TenantSwitched).
	Roles []string
}

// Tenant events (package tenant; UserID is set, User is nil).
const (
	// TenantSwitched: a session moved to Event.TenantID (switch-tenant).
	TenantSwitched = "TenantSwitched"
	// MembershipAdded: the user became a member of Event.TenantID.
	MembershipAdded = "MembershipAdded"
	// MembershipUpdated: the membership's status or roles changed.
	MembershipUpdated = "MembershipUpdated"
	// MembershipRemoved: the user left Event.TenantID.
	MembershipRemoved = "MembershipRemoved"
)

// Passkey events.
const (
	// PasskeyAdded: the user registered a passkey (Event.Passkey;
	// UserID is set, User is nil).
	PasskeyAdded = "PasskeyAdded"
	// PasskeyRemoved: the user removed a passkey (Event.Passkey; UserID is
	// set, User is nil).
	PasskeyRemoved = "PasskeyRemoved"
)

// PasskeyRef names a passkey in an event.
type PasskeyRef struct {
	ID   string // the credential id, base64url without padding (as the API lists it)
	Name string // the user's name for it
}
