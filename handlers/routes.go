package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/middleware"
)

// route is one endpoint: what mounts it and what documents it. The one
// table, routes, drives both the mux and the OpenAPI document.
type route struct {
	method      string
	path        string // relative to the prefix
	summary     string
	description string
	tags        []string
	ssaid       bool // x-client-ssaid required (400 when absent)
	// ssaidDoc, when set, documents how the route takes the ssaid instead of
	// the x-client-ssaid header alone (a pointer to a struct of header,
	// query or cookie fields); the handler enforces it, ssaid stays false.
	ssaidDoc any
	token    int // x-client-token: tokenNone, tokenOptional or tokenRequired
	body     any // pointer to the request body type, or nil (no body)
	// bodyOptional marks a body the route also accepts empty (documented
	// as not required).
	bodyOptional bool
	// bodyTypes are the accepted body media types. Default:
	// defaultBodyTypes (application/json and
	// application/x-www-form-urlencoded).
	bodyTypes []string
	query     any // pointer to the query (and path) parameters type, or nil
	data      any // pointer to the response data type, or nil (no data field)
	// found documents a 302 answer (Location header, envelope with data).
	found bool
	// seeOther, when set, documents a 303 answer (Location header,
	// envelope without data): when the route answers it.
	seeOther string
	errors   []routeError
	handle   func(c *call) (data any, err error)
}

// x-client-token use of a route.
const (
	tokenNone = iota
	tokenOptional
	tokenRequired
)

// routeError documents one error status of a route.
type routeError struct {
	status      int
	description string
}

// call is one request being served by a route.
type call struct {
	s      *server
	rt     *route
	w      http.ResponseWriter
	r      *http.Request
	client simpleuser.Client
	raw    []byte // the body, read by wrap for routes that take one
	form   bool   // raw is application/x-www-form-urlencoded (else JSON)
	status int    // success status to answer (0: 200)
}

// wrap turns a route into its http.Handler: it enforces the ssaid, reads
// (and for body-less routes only checks) the body, runs the route and
// writes the envelope.
func (s *server) wrap(rt route) http.Handler {
	wildcards := wildcardNames(rt.path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, rt: &rt, w: w, r: r}
		c.client, _ = simpleuser.ClientFrom(r.Context())
		c.client.TrustedDevice = middleware.TrustedDevice(r, s.svc)
		if rt.ssaid && c.client.SSAID == "" {
			envelope.Error(w, r, s.log, simpleuser.ErrSSAIDRequired)
			return
		}
		if err := checkParams(r, wildcards); err != nil {
			envelope.Error(w, r, s.log, err)
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			b, mt, err := s.readBody(w, r, rt.bodyTypes)
			if err != nil {
				envelope.Error(w, r, s.log, err)
				return
			}
			c.raw, c.form = b, mt == formType
		}
		data, err := rt.handle(c)
		if err != nil {
			if c.client.CookieToken && errors.Is(err, simpleuser.ErrInvalidToken) {
				c.sessionEnded(c.client.Token) // a dead cookie: the browser drops it
			}
			envelope.Error(w, r, s.log, err)
			return
		}
		status := c.status
		if status == 0 {
			status = http.StatusOK
		}
		envelope.LogEncodeFailure(r, s.log, envelope.Write(w, status, "success", data))
	})
}

// checkParams refuses (400 INVALID_INPUT) a query parameter or path
// segment that no backend could store: invalid UTF-8 or a NUL (%00), as
// textcheck.String defines; the body gets the same check in readBody. It
// runs before the route, so nothing is read, written or spent.
func checkParams(r *http.Request, wildcards []string) error {
	if r.URL.RawQuery != "" {
		for k, vs := range r.URL.Query() {
			if !textcheck.String(k) {
				return simpleuser.InvalidInput("Query parameter names must be valid UTF-8 text without NUL characters")
			}
			for _, v := range vs {
				if !textcheck.String(v) {
					return simpleuser.InvalidInput(k + " must be valid UTF-8 text without NUL characters")
				}
			}
		}
	}
	for _, name := range wildcards {
		if !textcheck.String(r.PathValue(name)) {
			return simpleuser.InvalidInput(name + " must be valid UTF-8 text without NUL characters")
		}
	}
	return nil
}

// wildcardNames returns the names of the {wildcards} of a route path.
func wildcardNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "$")
			if name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// decodeBody decodes and validates the body (JSON, or a form's fields)
// into dst, which must be of the route's body type. It returns the body's
// other members.
func (c *call) decodeBody(dst any) (map[string]json.RawMessage, error) {
	c.mustBe(dst, c.rt.body, "body")
	decode := decodeJSON
	if c.form {
		decode = decodeForm
	}
	extra, errs, err := decode(c.raw, dst)
	if err != nil {
		return nil, err
	}
	if err := check(dst, errs); err != nil {
		return nil, err
	}
	return extra, nil
}

// decodeQuery decodes and validates the query and the path parameters into
// dst, which must be of the route's query type.
func (c *call) decodeQuery(dst any) error {
	c.mustBe(dst, c.rt.query, "query")
	decodePath(c.r, dst)
	return check(dst, decodeQuery(c.r.URL.Query(), dst))
}

// mustBe panics when a handler decodes into another type than its route
// declares (the OpenAPI document would lie); every route is exercised by
// the tests.
func (c *call) mustBe(dst, declared any, what string) {
	if reflect.TypeOf(dst) != reflect.TypeOf(declared) {
		panic(fmt.Sprintf("handlers: %s %s decodes its %s as %T but the route table says %T", c.rt.method, c.rt.path, what, dst, declared))
	}
}

// Error documentation shared by the routes.
var (
	errInput     = routeError{http.StatusBadRequest, "Invalid input (data.code INVALID_INPUT), missing or malformed x-client-ssaid (SSAID_REQUIRED / INVALID_INPUT)."}
	errQuery     = routeError{http.StatusBadRequest, "Invalid query parameters (data.code INVALID_INPUT), or a malformed x-client-ssaid."}
	errToken     = routeError{http.StatusUnauthorized, "x-client-token unknown, expired or revoked (INVALID_TOKEN), or no token while anonymous users are off (AUTH_REQUIRED)."}
	errCode      = routeError{http.StatusForbidden, "Wrong, expired or never-sent code (INVALID_CODE)."}
	errDisabled  = routeError{http.StatusForbidden, "The account is disabled (ACCOUNT_DISABLED), or the session still needs its second factor (MFA_REQUIRED)."}
	errTooLarge  = routeError{http.StatusRequestEntityTooLarge, "Request body over the size limit (BODY_TOO_LARGE)."}
	errMedia     = routeError{http.StatusUnsupportedMediaType, "Request body not declared as application/json or application/x-www-form-urlencoded (UNSUPPORTED_MEDIA_TYPE)."}
	errCodeLimit = routeError{http.StatusTooManyRequests, "Too many wrong codes for this address and purpose (TOO_MANY_CODE_ATTEMPTS); data.waitTimeMs and Retry-After tell when to retry."}
	errBackend   = routeError{http.StatusServiceUnavailable, "A backend (PostgreSQL, Redis) is unreachable or the password hasher is saturated (BACKEND_UNAVAILABLE, BUSY); retry later."}
)

// routes is the route table: the account routes (nicot-simple-user's), the
// sign-in provider, identity and settings routes, the self-service
// session routes, the passkey routes and the second-factor routes.
var routes = slices.Concat(accountRoutes, phoneRoutes, signInRoutes, sessionRoutes, passkeyRoutes, mfaRoutes, mfaPasskeyRoutes, tenantRoutes)

// accountRoutes are nicot-simple-user's endpoints, plus the session.
var accountRoutes = []route{
	{
		method: http.MethodPost, path: "/send-code/send",
		summary:     "Send a verification code",
		description: "Asks the app's SendCode hook to deliver a one-time code to the address for one purpose. The send limits of the purpose (a cooldown per email address and per ssaid, a budget per client IP address) are taken atomically before delivery.",
		tags:        []string{"send-code"}, ssaid: true, body: new(sendCodeBody),
		errors: []routeError{errInput, errTooLarge, errMedia,
			{http.StatusTooManyRequests, "Send cooldown running (SEND_COOLDOWN); data.waitTimeMs and Retry-After tell when to retry."},
			{http.StatusBadGateway, "Delivery failed (SEND_FAILED); no code was stored."},
			errBackend},
		handle: sendCode,
	},
	{
		method: http.MethodGet, path: "/send-code/verify",
		summary:     "Check a code without consuming it",
		description: "A success clears the failed attempts of the address and purpose; the code stays usable.",
		tags:        []string{"send-code"}, query: new(verifyQuery),
		errors: []routeError{errQuery, errCode, errCodeLimit, errBackend},
		handle: verifyCode,
	},
	{
		method: http.MethodGet, path: "/login/user-exists",
		summary:     "Whether an account holds an address",
		description: "Reports whether a live account (registered, not past its unregister grace period) holds the address.",
		tags:        []string{"login"}, query: new(userExistsQuery), data: new(userExistsData),
		errors: []routeError{errQuery, errBackend},
		handle: userExists,
	},
	{
		method: http.MethodPost, path: "/login",
		summary:     "Log in with a code or a password",
		description: "An existing account accepts a Login code (consumed) or its password. An unknown address needs a code: the anonymous user of the ssaid becomes the account (same id), with setPassword as its password if given. A token sent in x-client-token is revoked; a fresh one is returned. For an account with MFA on, the answer adds mfaRequired and factors, and the token names a challenge session until POST /user-center/mfa/challenge completes it, unless the request carries a valid trusted-device token (header x-client-trusted-device, or its cookie in cookie mode).",
		tags:        []string{"login"}, ssaid: true, token: tokenOptional, body: new(loginBody), data: new(loginData),
		errors: []routeError{
			{http.StatusBadRequest, "Invalid input, neither code nor password (INVALID_INPUT), or missing/malformed x-client-ssaid."},
			{http.StatusForbidden, "Wrong code (INVALID_CODE), wrong password (INVALID_PASSWORD) or disabled account (ACCOUNT_DISABLED)."},
			{http.StatusNotFound, "Password login of an unknown address (USER_NOT_FOUND): provide a code to create the account."},
			{http.StatusConflict, "The account changed concurrently (CONFLICT); retry."},
			errTooLarge, errMedia,
			{http.StatusTooManyRequests, "Too many wrong codes (TOO_MANY_CODE_ATTEMPTS) or passwords (TOO_MANY_PASSWORD_ATTEMPTS); data.waitTimeMs and Retry-After tell when to retry."},
			errBackend},
		handle: login,
	},
	{
		method: http.MethodPost, path: "/login/reset-password",
		summary:     "Set a new password with a ResetPassword code",
		description: "Consumes a ResetPassword code of the address and sets the password; every session of the account is revoked. Succeeds silently when no account holds the address.",
		tags:        []string{"login"}, body: new(resetPasswordBody),
		errors: []routeError{errInput, errCode, errTooLarge, errMedia, errCodeLimit, errBackend},
		handle: resetPassword,
	},
	{
		method: http.MethodPost, path: "/login/unregister-with-code",
		summary:     "Unregister an account with an Unregister code",
		description: "Consumes an Unregister code of the address and unregisters the account (recoverable by logging in within the grace period); its sessions are revoked. Succeeds when no live account holds the address.",
		tags:        []string{"login"}, body: new(unregisterWithCodeBody),
		errors: []routeError{errInput, errCode, errTooLarge, errMedia, errCodeLimit, errBackend},
		handle: unregisterWithCode,
	},
	{
		method: http.MethodGet, path: "/user-center/me",
		summary:     "The current user",
		description: "The user of the token, or (without a token, when anonymous users are allowed) the anonymous user of the ssaid, created on first need.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenOptional, data: new(meUser),
		errors: []routeError{errInput, errToken, errDisabled, errBackend},
		handle: me,
	},
	{
		method: http.MethodPost, path: "/user-center/change-password",
		summary:     "Change (or first set) the password",
		description: "currentPassword is required when the user has a password (a wrong one counts as a password failure). Every other session of the user is revoked; the caller's stays.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(changePasswordBody),
		errors: []routeError{errInput, errToken,
			{http.StatusPaymentRequired, "Anonymous users cannot change a password (ANONYMOUS_USER)."},
			{http.StatusForbidden, "Wrong current password (INVALID_PASSWORD), disabled account (ACCOUNT_DISABLED), a session still needing its second factor (MFA_REQUIRED), or, for an account without a password, a session that did not authenticate within the step-up window (REAUTH_REQUIRED; data.factors lists what POST /user-center/reauth accepts)."},
			errTooLarge, errMedia,
			{http.StatusTooManyRequests, "Too many wrong passwords (TOO_MANY_PASSWORD_ATTEMPTS); data.waitTimeMs and Retry-After tell when to retry."},
			errBackend},
		handle: changePassword,
	},
	{
		method: http.MethodPost, path: "/user-center/change-email",
		summary:     "Change the address",
		description: "Proven by a ChangeEmail code sent to the new address. Sessions follow the user.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(changeEmailBody),
		errors: []routeError{errInput, errToken,
			{http.StatusPaymentRequired, "Anonymous users cannot change an address (ANONYMOUS_USER)."},
			{http.StatusForbidden, "Wrong code (INVALID_CODE), disabled account (ACCOUNT_DISABLED), a session still needing its second factor (MFA_REQUIRED), or one that did not authenticate within the step-up window (REAUTH_REQUIRED; data.factors lists what POST /user-center/reauth accepts)."},
			{http.StatusConflict, "Another account holds the address (EMAIL_TAKEN)."},
			errTooLarge, errMedia, errCodeLimit, errBackend},
		handle: changeEmail,
	},
	{
		method: http.MethodPost, path: "/user-center/unregister",
		summary:     "Unregister the current user",
		description: "A registered account is unregistered (recoverable by logging in within the grace period) and loses every session; an anonymous user is deleted.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenOptional,
		errors: []routeError{errInput, errToken, errStepUp, errTooLarge, errMedia, errBackend},
		handle: unregister,
	},
	{
		method: http.MethodPost, path: "/user-center/logout",
		summary:     "Log out",
		description: "Revokes the session of x-client-token (only that one).",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired,
		errors: []routeError{errInput,
			{http.StatusUnauthorized, "No token (AUTH_REQUIRED), or a token unknown, expired or revoked (INVALID_TOKEN)."},
			errTooLarge, errMedia, errBackend},
		handle: logout,
	},
	{
		method: http.MethodGet, path: "/user-center/session",
		summary: "The current session",
		description: "The session of x-client-token: user id, creation and expiry times, and the object the app's GetSessionUserData hook stored in it. " +
			"Answered from the session store alone (no user-store read).",
		tags: []string{"user-center"}, token: tokenRequired,
		data: &sessionInfo{},
		errors: []routeError{errQuery,
			{http.StatusUnauthorized, "No token (AUTH_REQUIRED), or a token unknown, expired or revoked (INVALID_TOKEN)."},
			errBackend},
		handle: currentSession,
	},
}
