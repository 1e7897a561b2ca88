package handlers

import (
	"fmt"
	"net/http"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/user"
)

// Error documentation of the passkey routes.
var (
	errPasskeysOff    = routeError{http.StatusNotFound, "Passkeys are not enabled (PASSKEYS_DISABLED)."}
	errPasskeyBody    = routeError{http.StatusBadRequest, "Invalid input (INVALID_INPUT: a credential that is not a WebAuthn response, a bad name), a missing or malformed x-client-ssaid, or a challengeId that is unknown, already used, expired, or was begun by another device or user (PASSKEY_CHALLENGE): begin again."}
	errPasskeyAnon    = routeError{http.StatusPaymentRequired, "Anonymous users cannot have passkeys (ANONYMOUS_USER)."}
	errPasskeyMissing = routeError{http.StatusNotFound, "The user has no passkey of that id (PASSKEY_NOT_FOUND), or passkeys are not enabled (PASSKEYS_DISABLED)."}
	errPasskeyJSON    = routeError{http.StatusUnsupportedMediaType, "Request body not declared as application/json (UNSUPPORTED_MEDIA_TYPE)."}
)

// passkeyRoutes are the passkey (WebAuthn) endpoints: a signed-in user
// registers, lists, renames and removes passkeys; anyone signs in with one.
var passkeyRoutes = []route{
	{
		method: http.MethodPost, path: "/login/passkey/begin",
		summary: "Begin a sign-in with a passkey",
		description: "Starts a usernameless sign-in (WebAuthn discoverable credentials): no address is asked; the authenticator offers the passkeys it holds for this site, and the one the user picks tells who signs in. " +
			"The challenge is single-use, bound to the device's ssaid and valid for 5 minutes by default; user verification (PIN or biometrics) is required. No session needed.",
		tags: []string{"passkeys"}, ssaid: true, token: tokenOptional, data: new(passkeyChallengeData),
		errors: []routeError{errInput, errPasskeysOff, errTooLarge, errMedia, errBackend},
		handle: beginPasskeySignIn,
	},
	{
		method: http.MethodPost, path: "/login/passkey/finish",
		summary: "Sign in with a passkey",
		description: "Verifies the authenticator's response to the challenge (origin, relying party id, signature, user verification, signature counter) and signs its owner in exactly as POST /login does, with the same answer (and, in cookie mode, the session cookie). " +
			"A passkey is one strong step (possession and the user's PIN or biometrics): no code or password is asked. A token sent in x-client-token is revoked; a fresh one is returned.",
		tags: []string{"passkeys"}, ssaid: true, token: tokenOptional, body: new(passkeySignInBody), bodyTypes: []string{jsonType}, data: new(loginData),
		errors: []routeError{errPasskeyBody,
			{http.StatusForbidden, "The response did not verify (PASSKEY_REFUSED); the passkey is not registered here, or was removed (PASSKEY_UNKNOWN); its signature counter went back, a sign of a cloned authenticator (PASSKEY_COUNTER); or the account is disabled (ACCOUNT_DISABLED)."},
			errPasskeysOff,
			{http.StatusConflict, "The account changed concurrently (CONFLICT); retry."},
			errTooLarge, errPasskeyJSON, errBackend},
		handle: finishPasskeySignIn,
	},
	{
		method: http.MethodPost, path: "/user-center/passkeys/register/begin",
		summary: "Begin registering a passkey",
		description: "Starts registering a passkey for the signed-in user: a discoverable credential (residentKey required) with user verification required, so it can later sign in alone. The user's registered passkeys are excluded, so one authenticator is not registered twice. " +
			"The authenticator shows the user's address as the account name; the user handle it stores is random, not the address or id. Needs a recent authentication (step-up).",
		tags: []string{"passkeys"}, ssaid: true, token: tokenRequired, data: new(passkeyChallengeData),
		errors: []routeError{errInput, errSession, errPasskeyAnon, errStepUp, errPasskeysOff,
			{http.StatusConflict, "The user has the most passkeys allowed, 20 by default (TOO_MANY_PASSKEYS)."},
			errTooLarge, errMedia, errBackend},
		handle: beginPasskeyRegistration,
	},
	{
		method: http.MethodPost, path: "/user-center/passkeys/register/finish",
		summary:     "Register a passkey",
		description: "Verifies the authenticator's response to the registration challenge (begun by the same user on the same device) and stores the passkey under name. The challenge is spent by this call whatever its outcome.",
		tags:        []string{"passkeys"}, ssaid: true, token: tokenRequired, body: new(passkeyRegisterBody), bodyTypes: []string{jsonType}, data: new(passkeyItem),
		errors: []routeError{errPasskeyBody, errSession, errPasskeyAnon,
			{http.StatusForbidden, "The response did not verify: another origin or relying party, another challenge, no user verification (PASSKEY_REFUSED); or the account is disabled (ACCOUNT_DISABLED)."},
			errPasskeysOff,
			{http.StatusConflict, "That passkey is already registered (PASSKEY_EXISTS)."},
			errTooLarge, errPasskeyJSON, errBackend},
		handle: finishPasskeyRegistration,
	},
	{
		method: http.MethodGet, path: "/user-center/passkeys",
		summary:     "The user's passkeys",
		description: "Every passkey of the signed-in user, oldest first.",
		tags:        []string{"passkeys"}, ssaid: true, token: tokenRequired, data: new(passkeyList),
		errors: []routeError{errInput, errSession, errPasskeyAnon, errDisabled, errPasskeysOff, errBackend},
		handle: listPasskeys,
	},
	{
		method: http.MethodPatch, path: "/user-center/passkeys/{id}",
		summary:     "Rename a passkey",
		description: "Sets the name of one of the user's passkeys.",
		tags:        []string{"passkeys"}, ssaid: true, token: tokenRequired, query: new(passkeyPath), body: new(passkeyRenameBody), data: new(passkeyItem),
		errors: []routeError{errInput, errSession, errPasskeyAnon, errDisabled, errPasskeyMissing, errTooLarge, errMedia, errBackend},
		handle: renamePasskey,
	},
	{
		method: http.MethodDelete, path: "/user-center/passkeys/{id}",
		summary:     "Remove a passkey",
		description: "Removes one of the user's passkeys: it no longer signs in (the browser may keep offering it; the sign-in is then refused with PASSKEY_UNKNOWN). No session is revoked. Needs a recent authentication (step-up).",
		tags:        []string{"passkeys"}, ssaid: true, token: tokenRequired, query: new(passkeyPath),
		errors: []routeError{errInput, errSession, errPasskeyAnon, errStepUp, errPasskeyMissing, errBackend},
		handle: removePasskey,
	},
}

// passkeys returns the relying party, or passkey.ErrDisabled (404).
func (c *call) passkeys() (*passkey.RelyingParty, error) {
	if rp := c.s.svc.Passkeys(); rp != nil {
		return rp, nil
	}
	return nil, passkey.ErrDisabled
}

// passkeyUser returns the signed-in user (a session is always an enabled
// user's: the middleware checked it) and the relying party, after decoding
// body into dst (nil: none), so that 401 and 400 come before 404
// PASSKEYS_DISABLED, as for the other routes.
func (c *call) passkeyUser(dst any) (*passkey.RelyingParty, *user.User, error) {
	u, err := c.sessionUser()
	if err == nil && !u.Registered() {
		err = simpleuser.ErrRegisteredRequired
	}
	if err == nil && dst != nil {
		_, err = c.decodeBody(dst)
	}
	if err != nil {
		return nil, nil, err
	}
	rp, err := c.passkeys()
	return rp, u, err
}

func challengeData(ch *passkey.Challenge) *passkeyChallengeData {
	return &passkeyChallengeData{ChallengeID: ch.ID, Options: ch.Options, ExpiresAt: formatTime(ch.ExpiresAt)}
}

// POST /login/passkey/begin
func beginPasskeySignIn(c *call) (any, error) {
	rp, err := c.passkeys()
	if err != nil {
		return nil, err
	}
	ch, err := rp.BeginSignIn(c.r.Context(), c.client.SSAID)
	if err != nil {
		return nil, err
	}
	return challengeData(ch), nil
}

// POST /login/passkey/finish
func finishPasskeySignIn(c *call) (any, error) {
	var in passkeySignInBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	res, err := c.s.svc.PasskeySignIn(c.r.Context(), c.client, in.ChallengeID, in.Credential)
	if err != nil {
		return nil, err
	}
	c.setSessionCookie(res)
	return &loginData{Token: res.Token, TokenExpiresAt: formatTime(res.ExpiresAt), UserID: res.UserID}, nil
}

// POST /user-center/passkeys/register/begin. The authenticator shows the
// account's address, or "Account <id>" for one without.
func beginPasskeyRegistration(c *call) (any, error) {
	rp, u, err := c.passkeyUser(nil)
	if err == nil {
		err = c.s.svc.StepUp(c.r.Context()) // a new way to sign in: a sensitive action
	}
	if err != nil {
		return nil, err
	}
	name := u.Email
	if name == "" {
		name = fmt.Sprintf("Account %d", u.ID)
	}
	ch, err := rp.BeginRegistration(c.r.Context(), passkey.Account{UserID: u.ID, Name: name}, c.client.SSAID)
	if err != nil {
		return nil, err
	}
	return challengeData(ch), nil
}

// POST /user-center/passkeys/register/finish
func finishPasskeyRegistration(c *call) (any, error) {
	var in passkeyRegisterBody
	rp, u, err := c.passkeyUser(&in)
	if err != nil {
		return nil, err
	}
	cred, err := rp.FinishRegistration(c.r.Context(), u.ID, c.client.SSAID, in.ChallengeID, in.Credential, in.Name)
	if err != nil {
		return nil, err
	}
	it := passkeyOf(cred)
	return &it, nil
}

// GET /user-center/passkeys
func listPasskeys(c *call) (any, error) {
	rp, u, err := c.passkeyUser(nil)
	if err != nil {
		return nil, err
	}
	creds, err := rp.Store().List(c.r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	out := make(passkeyList, len(creds))
	for i := range creds {
		out[i] = passkeyOf(&creds[i])
	}
	return &out, nil
}

// PATCH /user-center/passkeys/{id}
func renamePasskey(c *call) (any, error) {
	var in passkeyRenameBody
	rp, u, err := c.passkeyUser(&in)
	if err != nil {
		return nil, err
	}
	var p passkeyPath
	if err := c.decodeQuery(&p); err != nil {
		return nil, err
	}
	cred, err := rp.Rename(c.r.Context(), u.ID, p.ID, in.Name)
	if err != nil {
		return nil, err
	}
	it := passkeyOf(cred)
	return &it, nil
}

// DELETE /user-center/passkeys/{id}
func removePasskey(c *call) (any, error) {
	rp, u, err := c.passkeyUser(nil)
	if err == nil {
		err = c.s.svc.StepUp(c.r.Context()) // managing factors: a sensitive action
	}
	if err != nil {
		return nil, err
	}
	var p passkeyPath
	if err := c.decodeQuery(&p); err != nil {
		return nil, err
	}
	_, err = rp.Remove(c.r.Context(), u.ID, p.ID)
	return nil, err
}
