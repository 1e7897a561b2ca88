// Package metrics is the kit's observer interface: what the service, the
// password hasher and the HTTP handlers report for operators to watch
// (logins, codes sent, rate-limit refusals, sessions, backend errors, hash
// queue wait and time, request latency). It holds no implementation but
// Nop and imports nothing outside the standard library, so the core of
// the kit stays free of any metrics library; package
// metrics/prommetrics implements Observer with Prometheus
// (github.com/prometheus/client_golang), and an app can implement it with
// anything else.
//
// Set simpleuser.Config.Metrics to an Observer. Left nil, the service
// uses Nop and the handlers skip timing requests altogether.
//
// Every label value the kit passes is drawn from a bounded set (the
// constants below, the kit's error codes, the configured providers, the
// route patterns, the backends' names): never an email address, IP
// address, user id, token or raw path, so an implementation may use
// them as metric labels as they are.
package metrics

import "time"

// Observer receives the kit's events. Implementations must be safe for
// concurrent use and fast: the calls are made on the request path.
// Embed Nop in an implementation so that a method added to Observer in
// a later version has a default.
type Observer interface {
	// Login reports a login attempt that ended: method is MethodCode,
	// MethodPassword, MethodOAuth or MethodPasskey; provider is the sign-in provider's
	// name for MethodOAuth (ProviderUnknown for a name no configured
	// provider has), "" otherwise; result is ResultSuccess,
	// ResultMFARequired or the
	// failure's machine code, lower case (Result): "invalid_code",
	// "invalid_password", "user_not_found", "account_disabled",
	// "too_many_password_attempts", "backend_unavailable", "busy",
	// "oauth_state"...
	Login(method, provider, result string)
	// CodeSend reports a request to send a one-time code: purpose is
	// one of the four purposes ("Login", "ResetPassword", "ChangeEmail",
	// "Unregister"; PurposeInvalid for anything else) and result one of
	// SendSent, SendFailed, SendLimited, SendUnavailable, SendInvalid.
	CodeSend(purpose, result string)
	// Refusal reports a rate limit that refused an attempt: rule is one
	// of the Rule constants. An attempt refused by several limits at
	// once is reported once per limit.
	Refusal(rule string)
	// SessionCreated reports a session issued (a login).
	SessionCreated()
	// SessionsEnded reports n sessions ended for reason (one of the
	// Ended constants); n is at least 1.
	SessionsEnded(reason string, n int)
	// BackendError reports an operation that failed because a backend
	// was unreachable or refused to serve: backend is "postgres",
	// "redis", BackendHasher (the password hasher's queue was full for
	// longer than its wait, 503 BUSY), or the name another store gives
	// its backend.Error.
	BackendError(backend string)
	// HashWait reports how long a password hash or verification waited
	// for one of the hasher's slots (0 when one was free), and why it
	// stopped waiting: err is nil (it got the slot), password.ErrBusy
	// (it gave up after the hasher's maximum wait) or the context's error.
	HashWait(wait time.Duration, err error)
	// HashRun reports the time one argon2id (or legacy bcrypt) run took:
	// op is OpHash or OpVerify.
	HashRun(op string, run time.Duration)
	// Request reports an HTTP request served by the kit's handlers:
	// route is its route pattern as ServeMux writes it ("POST
	// /api/login", "GET /api/oauth/{provider}/start"), RouteUnmatched
	// for a request no route took (unknown path, wrong method, refused
	// before routing), RouteOptions for OPTIONS; status is the answer's
	// HTTP status; d runs from the handler's entry to its return.
	Request(route string, status int, d time.Duration)
}

// Nop is an Observer that does nothing: the kit's default.
type Nop struct{}

// Login does nothing.
func (Nop) Login(method, provider, result string) {}

// CodeSend does nothing.
func (Nop) CodeSend(purpose, result string) {}

// Refusal does nothing.
func (Nop) Refusal(rule string) {}

// SessionCreated does nothing.
func (Nop) SessionCreated() {}

// SessionsEnded does nothing.
func (Nop) SessionsEnded(reason string, n int) {}

// BackendError does nothing.
func (Nop) BackendError(backend string) {}

// HashWait does nothing.
func (Nop) HashWait(wait time.Duration, err error) {}

// HashRun does nothing.
func (Nop) HashRun(op string, run time.Duration) {}

// Request does nothing.
func (Nop) Request(route string, status int, d time.Duration) {}

// Login methods.
const (
	MethodCode     = "code"
	MethodPassword = "password"
	MethodOAuth    = "oauth"
	MethodPasskey  = "passkey" // a usernameless passkey sign-in
	// ProviderUnknown is the provider label of a provider sign-in naming
	// no configured provider (the name comes from the request path).
	ProviderUnknown = "unknown"
)

// Login results other than a failure's code.
const (
	// ResultSuccess: the login issued a full session.
	ResultSuccess = "success"
	// ResultMFARequired: the credentials were right and the account has
	// two-step verification: a challenge-stage session was issued, which
	// the second factor completes (that step is not counted here).
	ResultMFARequired = "mfa_required"
)

// Results of CodeSend.
const (
	SendSent        = "sent"        // delivered by the SendCode hook and stored
	SendFailed      = "send_failed" // the hook failed: 502 SEND_FAILED
	SendLimited     = "limited"     // a send limit refused it: 429 SEND_COOLDOWN
	SendUnavailable = "unavailable" // a backend failed: 503
	SendInvalid     = "invalid"     // refused as invalid input: 400
	// PurposeInvalid is the purpose label of a request naming no purpose.
	PurposeInvalid = "invalid"
)

// Rate-limit rules (Refusal), each a limit of simpleuser.Config.
const (
	RuleSendCooldownEmail       = "send_cooldown_email"       // SendCooldown, per address and purpose
	RuleSendCooldownDevice      = "send_cooldown_device"      // SendCooldown, per ssaid and purpose
	RuleSendAddressBudget       = "send_address_budget"       // SendAddressLimit, per client address and purpose
	RuleCodeAttempts            = "code_attempts"             // VerifyMaxAttempts, per address and purpose
	RulePasswordAttemptsAccount = "password_attempts_account" // PasswordMaxAttempts, per account
	RulePasswordAttemptsDevice  = "password_attempts_device"  // PasswordMaxAttempts, per ssaid
	RulePasswordAttemptsAddress = "password_attempts_address" // PasswordAddressMaxAttempts, per client address
	RuleAnonymousAddressBudget  = "anonymous_address_budget"  // AnonymousAddressLimit, per client address
	// RuleOther is a refusal by a limit the kit cannot name (a risk
	// store that does not implement risk.Explainer refusing one of
	// several limits at once).
	RuleOther = "other"
)

// Reasons of SessionsEnded.
const (
	EndedLogout         = "logout"          // the holder logged out (POST /user-center/logout)
	EndedByUser         = "ended_by_user"   // the user ended one session by id
	EndedLogoutAll      = "logout_all"      // the user ended their other sessions (POST /user-center/logout-all)
	EndedPasswordChange = "password_change" // a password change ended the other sessions (SetPassword: all)
	EndedPasswordReset  = "password_reset"  // a reset by code ended them all
	EndedUnregister     = "unregister"      // the account unregistered
	EndedDisabled       = "disabled"        // an administrator disabled the account
	EndedDeleted        = "deleted"         // the account was deleted (DeleteUser, a purge)
	EndedRevoked        = "revoked"         // RevokeSessions: the Go API, and logout-all with includeCurrent
	EndedReplaced       = "replaced"        // a login replaced the token the client presented
	EndedMaxSessions    = "max_sessions"    // MaxSessionsPerUser ended the user's oldest
)

// Other label values.
const (
	// BackendHasher is the backend label of a password operation refused
	// because every hashing slot stayed busy (503 BUSY).
	BackendHasher = "hasher"
	// OpHash and OpVerify are the ops of HashRun.
	OpHash   = "hash"
	OpVerify = "verify"
	// RouteUnmatched is the route of a request no route of the kit took.
	RouteUnmatched = "unmatched"
	// RouteOptions is the route of every OPTIONS request (CORS preflights
	// included).
	RouteOptions = "OPTIONS"
)

// Result returns the result label of a failure whose machine code
// (data.code, such as "INVALID_CODE") is code: the code in lower case
// ("invalid_code"); "" gives "error". The service passes the kit's codes
// only (simpleuser.Codes, a fixed set): a hook's refusal with a code of
// the app's own is reported as "rejected".
func Result(code string) string {
	if code == "" {
		return "error"
	}
	b := make([]byte, len(code))
	for i := 0; i < len(code); i++ {
		c := code[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}
