package handlers

import (
	"net/http"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// Error documentation of the second-factor routes.
var (
	errStepUp   = routeError{http.StatusForbidden, "The session last authenticated longer ago than the step-up window (REAUTH_REQUIRED; data.factors lists what POST /user-center/reauth accepts), the account is disabled (ACCOUNT_DISABLED), or the session still needs its second factor (MFA_REQUIRED)."}
	errFactor   = routeError{http.StatusForbidden, "Wrong, used or expired code (INVALID_FACTOR, INVALID_CODE, INVALID_PASSWORD), or a session that still needs its second factor (MFA_REQUIRED)."}
	errNoFactor = routeError{http.StatusBadRequest, "Invalid input (INVALID_INPUT), or a factor the account does not have or cannot use here (FACTOR_NOT_AVAILABLE)."}
	errTooMany  = routeError{http.StatusTooManyRequests, "Too many wrong codes or passwords (TOO_MANY_FACTOR_ATTEMPTS, TOO_MANY_CODE_ATTEMPTS, TOO_MANY_PASSWORD_ATTEMPTS); data.waitTimeMs and Retry-After tell when to retry."}
	errNoSuch   = routeError{http.StatusNotFound, "The user has no authenticator or trusted device of that id (FACTOR_NOT_FOUND)."}
	errLastOne  = routeError{http.StatusConflict, "It is the last second factor while MFA is on (LAST_FACTOR): turn MFA off with POST /user-center/mfa/disable instead."}
)

// mfaRoutes are the second-factor endpoints: the user's factors (each
// change needs a recent authentication: step-up), the challenge that
// completes a sign-in, and re-authentication.
var mfaRoutes = []route{
	{
		method: http.MethodGet, path: "/user-center/mfa",
		summary: "The user's second factors", description: "MFA on or off, the TOTP authenticators (never their secrets), how many recovery codes are left and the trusted devices.",
		tags: []string{"mfa"}, token: tokenRequired, data: new(mfaStatusData),
		errors: []routeError{errQuery, errSession, {http.StatusForbidden, "The account is disabled (ACCOUNT_DISABLED), or the session still needs its second factor (MFA_REQUIRED)."}, errBackend},
		handle: mfaStatus,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/totp",
		summary:     "Start adding a TOTP authenticator",
		description: "Makes a secret (sealed at rest with AES-GCM) and returns it with its otpauth:// URI and a QR code, shown once. The authenticator signs in only once confirmed with a first code. Needs a recent authentication (step-up).",
		tags:        []string{"mfa"}, token: tokenRequired, body: new(enrolBody), bodyOptional: true, data: new(enrolData),
		errors: []routeError{errInput, errSession, errStepUp, {http.StatusConflict, "An authenticator of that name exists (FACTOR_NAME_TAKEN), or the user has the most allowed (TOO_MANY_FACTORS)."}, errTooLarge, errMedia, errBackend},
		handle: enrolTOTP,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/totp/{id}/confirm",
		summary:     "Confirm a TOTP authenticator with a first code",
		description: "The first factor of an account turns MFA on and, when no recovery codes are left, returns 10 fresh ones (shown once). The code's time step is spent. Needs a recent authentication (step-up).",
		tags:        []string{"mfa"}, token: tokenRequired, query: new(idPath), body: new(codeBody), data: new(factorChangeData),
		errors: []routeError{errInput, errSession, {http.StatusForbidden, "Wrong or used code (INVALID_FACTOR), or as for every step-up route (REAUTH_REQUIRED, ACCOUNT_DISABLED, MFA_REQUIRED)."}, errNoSuch, errTooLarge, errMedia, errBackend},
		handle: confirmTOTP,
	},
	{
		method: http.MethodDelete, path: "/user-center/mfa/totp/{id}",
		summary: "Remove a TOTP authenticator", description: "Needs a recent authentication (step-up).",
		tags: []string{"mfa"}, token: tokenRequired, query: new(idPath),
		errors: []routeError{errQuery, errSession, errStepUp, errNoSuch, errLastOne, errBackend},
		handle: removeTOTP,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/recovery-codes",
		summary: "Regenerate the recovery codes", description: "10 fresh single-use codes, shown once; every older code is void at once. MFA must be on. Needs a recent authentication (step-up).",
		tags: []string{"mfa"}, token: tokenRequired, data: new(recoveryCodesData),
		errors: []routeError{{http.StatusBadRequest, "MFA is off (FACTOR_NOT_AVAILABLE)."}, errSession, errStepUp, errTooLarge, errMedia, errBackend},
		handle: regenerateRecovery,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/email",
		summary:     "Turn the email code on or off as a factor",
		description: "A SecondFactor code sent to the account's address (POST /user-center/mfa/send-code) then completes sign-ins by password or provider (not those by an email code: one channel is not two factors). The first factor turns MFA on. Needs a recent authentication (step-up).",
		tags:        []string{"mfa"}, token: tokenRequired, body: new(emailFactorBody), data: new(factorChangeData),
		errors: []routeError{{http.StatusBadRequest, "Invalid input, or an account without an address (FACTOR_NOT_AVAILABLE)."}, errSession, errStepUp, errLastOne, errTooLarge, errMedia, errBackend},
		handle: setEmailFactor,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/disable",
		summary: "Turn MFA off", description: "Proven by a current factor (a recent sign-in alone is not enough). Every authenticator, recovery code and trusted device of the account is deleted.",
		tags: []string{"mfa"}, token: tokenRequired, body: new(factorBody),
		errors: []routeError{errNoFactor, errSession, errFactor, errTooLarge, errMedia, errTooMany, errBackend},
		handle: disableMFA,
	},
	{
		method: http.MethodDelete, path: "/user-center/mfa/devices",
		summary: "Stop trusting every device", description: "Their device tokens no longer skip the second factor.",
		tags: []string{"mfa"}, token: tokenRequired, data: new(revokedData),
		errors: []routeError{errQuery, errSession, errDisabled, errBackend},
		handle: revokeDevices,
	},
	{
		method: http.MethodDelete, path: "/user-center/mfa/devices/{id}",
		summary: "Stop trusting one device", description: "Its device token no longer skips the second factor.",
		tags: []string{"mfa"}, token: tokenRequired, query: new(idPath),
		errors: []routeError{errQuery, errSession, errDisabled, errNoSuch, errBackend},
		handle: revokeDevice,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/send-code",
		summary:     "Send a code to the account's address as a factor",
		description: "For a session waiting for its second factor (when email is among the login answer's factors) or for re-authentication: the app's SendCode hook delivers a code of purpose SecondFactor to the account's own address, under the usual send limits.",
		tags:        []string{"mfa"}, ssaid: true, token: tokenRequired,
		errors: []routeError{{http.StatusBadRequest, "No ssaid (SSAID_REQUIRED), or the email code is not usable for this session (FACTOR_NOT_AVAILABLE)."}, errSession, errDisabled, errTooLarge, errMedia,
			{http.StatusTooManyRequests, "Send cooldown running (SEND_COOLDOWN); data.waitTimeMs and Retry-After tell when to retry."},
			{http.StatusBadGateway, "Delivery failed (SEND_FAILED)."}, errBackend},
		handle: sendFactorCode,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/challenge",
		summary:     "Complete a sign-in with a second factor",
		description: "With the token of a login answer that said mfaRequired: checks the factor, ends that challenge session and answers a full session with a fresh token, exactly as POST /login does (in cookie mode the session cookie is replaced). With trustDevice, the answer also carries a device token (and, in cookie mode, a cookie) that skips the second factor on this device for a while.",
		tags:        []string{"mfa"}, token: tokenRequired, body: new(challengeBody), data: new(loginData),
		errors: []routeError{errNoFactor, errSession, {http.StatusForbidden, "Wrong, used or expired code (INVALID_FACTOR, INVALID_CODE), or a disabled account (ACCOUNT_DISABLED)."},
			{http.StatusConflict, "The session is not waiting for a second factor (NOT_IN_CHALLENGE)."}, errTooLarge, errMedia, errTooMany, errBackend},
		handle: completeChallenge,
	},
	{
		method: http.MethodPost, path: "/user-center/reauth",
		summary:     "Re-authenticate the session (step-up)",
		description: "With the password or a factor: the session's authentication time becomes now, which opens the sensitive actions (change email or password, unlink, manage factors, end other sessions, unregister) for the step-up window (default 10 minutes).",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(reauthBody), data: new(reauthData),
		errors: []routeError{errNoFactor, errSession, errFactor, errTooLarge, errMedia, errTooMany, errBackend},
		handle: reauth,
	},
}

// GET /user-center/mfa
func mfaStatus(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	st, err := c.s.svc.MFA().Status(c.r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	out := &mfaStatusData{Enabled: st.Enabled, EmailFactor: st.EmailFactor, RecoveryCodesLeft: st.RecoveryCodesLeft,
		Authenticators: make([]authenticatorData, len(st.Authenticators)), TrustedDevices: make([]trustedDeviceData, len(st.TrustedDevices))}
	for i, a := range st.Authenticators {
		out.Authenticators[i] = authenticatorData{ID: a.ID, Name: a.Name, Confirmed: a.Confirmed(), CreatedAt: formatTime(a.CreatedAt)}
		if !a.LastUsedAt.IsZero() {
			t := formatTime(a.LastUsedAt)
			out.Authenticators[i].LastUsedAt = &t
		}
	}
	for i, d := range st.TrustedDevices {
		out.TrustedDevices[i] = trustedDeviceData{ID: d.ID, Label: d.Label, CreatedAt: formatTime(d.CreatedAt), ExpiresAt: formatTime(d.ExpiresAt)}
	}
	return out, nil
}

// steppedUser is the session's user, once the step-up passed.
func (c *call) steppedUser() (*user.User, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	return u, c.s.svc.StepUp(c.r.Context())
}

// POST /user-center/mfa/totp
func enrolTOTP(c *call) (any, error) {
	u, err := c.steppedUser()
	if err != nil {
		return nil, err
	}
	var in enrolBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	a, enr, err := c.s.svc.MFA().EnrolTOTP(c.r.Context(), u, in.Name)
	if err != nil {
		return nil, err
	}
	return &enrolData{ID: a.ID, Name: a.Name, Secret: enr.Secret, URI: enr.URI, QR: enr.QR}, nil
}

// POST /user-center/mfa/totp/{id}/confirm
func confirmTOTP(c *call) (any, error) {
	u, err := c.steppedUser()
	if err != nil {
		return nil, err
	}
	var path idPath
	if err := c.decodeQuery(&path); err != nil {
		return nil, err
	}
	var in codeBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	codes, err := c.s.svc.MFA().ConfirmTOTP(c.r.Context(), u, path.ID, in.Code)
	if err != nil {
		return nil, err
	}
	return &factorChangeData{MFAEnabled: true, RecoveryCodes: codes}, nil
}

// DELETE /user-center/mfa/totp/{id}
func removeTOTP(c *call) (any, error) {
	u, err := c.steppedUser()
	if err != nil {
		return nil, err
	}
	var path idPath
	if err := c.decodeQuery(&path); err != nil {
		return nil, err
	}
	return nil, c.s.svc.MFA().RemoveTOTP(c.r.Context(), u, path.ID)
}

// POST /user-center/mfa/recovery-codes
func regenerateRecovery(c *call) (any, error) {
	u, err := c.steppedUser()
	if err != nil {
		return nil, err
	}
	codes, err := c.s.svc.MFA().RegenerateRecoveryCodes(c.r.Context(), u)
	if err != nil {
		return nil, err
	}
	return &recoveryCodesData{RecoveryCodes: codes}, nil
}

// POST /user-center/mfa/email
func setEmailFactor(c *call) (any, error) {
	u, err := c.steppedUser()
	if err != nil {
		return nil, err
	}
	var in emailFactorBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	ctx := c.r.Context()
	codes, err := c.s.svc.MFA().SetEmailFactor(ctx, u, in.Enabled)
	if err != nil {
		return nil, err
	}
	st, err := c.s.svc.MFA().State(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &factorChangeData{MFAEnabled: st.Enabled, RecoveryCodes: codes}, nil
}

// POST /user-center/mfa/disable
func disableMFA(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var in factorBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	if err := c.s.svc.MFA().Disable(c.r.Context(), u, in.Factor, in.Code); err != nil {
		return nil, err
	}
	c.clearTrustedCookie()
	return nil, nil
}

// DELETE /user-center/mfa/devices
func revokeDevices(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	n, err := c.s.svc.MFA().RevokeDevices(c.r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	c.clearTrustedCookie()
	return &revokedData{Revoked: n}, nil
}

// DELETE /user-center/mfa/devices/{id}
func revokeDevice(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var path idPath
	if err := c.decodeQuery(&path); err != nil {
		return nil, err
	}
	n, err := c.s.svc.MFA().RevokeDevices(c.r.Context(), u.ID, path.ID)
	if err == nil && n == 0 {
		err = mfa.ErrFactorNotFound
	}
	return nil, err
}

// pendingSession is the request's session whatever its stage: 401
// without a token.
func (c *call) pendingSession() (*session.Data, error) {
	d, err := simpleuser.PendingSession(c.r.Context())
	if err == nil && d == nil {
		err = simpleuser.ErrAuthRequired
	}
	return d, err
}

// POST /user-center/mfa/send-code
func sendFactorCode(c *call) (any, error) {
	d, err := c.pendingSession()
	if err != nil {
		return nil, err
	}
	return nil, c.s.svc.MFA().SendCode(c.r.Context(), c.client.Token, d)
}

// POST /user-center/mfa/challenge
func completeChallenge(c *call) (any, error) {
	d, err := c.pendingSession()
	if err != nil {
		return nil, err
	}
	var in challengeBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	done, err := c.s.svc.MFA().Complete(c.r.Context(), c.client.Token, d, in.Factor, in.Code, in.TrustDevice, session.Device(c.client.UserAgent))
	if err != nil {
		return nil, err
	}
	return c.completed(done), nil
}

// completed answers a completed challenge as a login: the session cookie
// (cookie mode) replaced, the trusted-device cookie set when asked.
func (c *call) completed(done *mfa.Completion) *loginData {
	res := &simpleuser.LoginResult{Token: done.Token, ExpiresAt: done.ExpiresAt, UserID: done.UserID}
	c.setSessionCookie(res)
	middleware.SetTrustedDeviceCookie(c.w, c.s.svc, done.DeviceToken, done.DeviceExpiresAt)
	out := loginDataOf(res)
	if done.DeviceToken != "" {
		out.DeviceToken, out.DeviceTokenExpiresAt = done.DeviceToken, formatTime(done.DeviceExpiresAt)
	}
	return out
}

// clearTrustedCookie drops the trusted-device cookie (cookie mode) once
// the trust it carried was revoked.
func (c *call) clearTrustedCookie() {
	middleware.ClearTrustedDeviceCookie(c.w, c.r, c.s.svc)
}

// POST /user-center/reauth
func reauth(c *call) (any, error) {
	d, err := c.pendingSession()
	if err != nil {
		return nil, err
	}
	var in reauthBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	at, err := c.s.svc.MFA().Reauth(c.r.Context(), c.client.Token, d, in.Factor, in.Code)
	if err != nil {
		return nil, err
	}
	return &reauthData{AuthAt: formatTime(at)}, nil
}
