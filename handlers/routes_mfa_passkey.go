package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/session"
)

// A passkey as a second factor: the challenge of a sign-in into an account
// with MFA on, and re-authentication (step-up). The ceremony is bound to
// the session's user (allowCredentials lists their passkeys) and device.
var mfaPasskeyRoutes = []route{
	{
		method: http.MethodPost, path: "/user-center/mfa/passkey/begin",
		summary:     "Begin a passkey check of the signed-in user",
		description: "For a session waiting for its second factor, or for re-authentication: a WebAuthn assertion challenge listing the user's passkeys (user verification preferred), bound to the device's ssaid; finish it with POST /user-center/mfa/passkey/challenge or POST /user-center/reauth/passkey.",
		tags:        []string{"mfa"}, ssaid: true, token: tokenRequired, data: new(passkeyChallengeData),
		errors: []routeError{errInput, errSession, {http.StatusNotFound, "Passkeys are not enabled (PASSKEYS_DISABLED), or the user has none (PASSKEY_NOT_FOUND)."}, errTooLarge, errMedia, errBackend},
		handle: beginFactorPasskey,
	},
	{
		method: http.MethodPost, path: "/user-center/mfa/passkey/challenge",
		summary:     "Complete a sign-in with a passkey as the second factor",
		description: "Verifies the response to POST /user-center/mfa/passkey/begin (one of the user's passkeys; signature counter checked) and completes the challenge exactly as POST /user-center/mfa/challenge does: a fresh token, the challenge session ended; with trustDevice, a device token.",
		tags:        []string{"mfa"}, ssaid: true, token: tokenRequired, body: new(passkeyFactorBody), bodyTypes: []string{jsonType}, data: new(loginData),
		errors: []routeError{errPasskeyBody, errSession,
			{http.StatusForbidden, "The response did not verify or is not one of the user's passkeys (PASSKEY_REFUSED, PASSKEY_UNKNOWN, PASSKEY_COUNTER), or the account is disabled (ACCOUNT_DISABLED)."},
			errPasskeysOff, {http.StatusConflict, "The session is not waiting for a second factor (NOT_IN_CHALLENGE)."}, errTooLarge, errPasskeyJSON, errBackend},
		handle: challengeFactorPasskey,
	},
	{
		method: http.MethodPost, path: "/user-center/reauth/passkey",
		summary:     "Re-authenticate the session with a passkey (step-up)",
		description: "Verifies the response to POST /user-center/mfa/passkey/begin and, as POST /user-center/reauth does, makes the session's authentication time now.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(passkeySignInBody), bodyTypes: []string{jsonType}, data: new(reauthData),
		errors: []routeError{errPasskeyBody, errSession,
			{http.StatusForbidden, "The response did not verify or is not one of the user's passkeys (PASSKEY_REFUSED, PASSKEY_UNKNOWN, PASSKEY_COUNTER), the account is disabled (ACCOUNT_DISABLED), or the session still needs its second factor (MFA_REQUIRED)."},
			errPasskeysOff, errTooLarge, errPasskeyJSON, errBackend},
		handle: reauthPasskey,
	},
}

// passkeyFactorBody is the body of POST /user-center/mfa/passkey/challenge.
type passkeyFactorBody struct {
	ChallengeID string          `json:"challengeId" validate:"required,max=128" required:"true" maxLength:"128" description:"The challengeId that POST /user-center/mfa/passkey/begin returned."`
	Credential  json.RawMessage `json:"credential" validate:"required" required:"true" description:"The PublicKeyCredential navigator.credentials.get returned, as its toJSON() writes it."`
	TrustDevice bool            `json:"trustDevice,omitempty" description:"Trust this device, as for POST /user-center/mfa/challenge."`
}

// POST /user-center/mfa/passkey/begin
func beginFactorPasskey(c *call) (any, error) {
	d, err := c.pendingSession()
	if err != nil {
		return nil, err
	}
	rp, err := c.passkeys()
	if err != nil {
		return nil, err
	}
	ch, err := rp.BeginLogin(c.r.Context(), d.UserID, c.client.SSAID)
	if err != nil {
		return nil, err
	}
	return challengeData(ch), nil
}

// verifyPasskey checks the response of the ceremony named by id against
// the passkeys of the session's user and returns the session.
func (c *call) verifyPasskey(id string, response json.RawMessage) (*session.Data, error) {
	d, err := c.pendingSession()
	if err != nil {
		return nil, err
	}
	rp, err := c.passkeys()
	if err != nil {
		return nil, err
	}
	_, err = rp.FinishLogin(c.r.Context(), d.UserID, c.client.SSAID, id, response)
	return d, err
}

// POST /user-center/mfa/passkey/challenge
func challengeFactorPasskey(c *call) (any, error) {
	var in passkeyFactorBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	d, err := c.verifyPasskey(in.ChallengeID, in.Credential)
	if err != nil {
		return nil, err
	}
	done, err := c.s.svc.MFA().CompleteVerified(c.r.Context(), c.client.Token, d, mfa.AMRHardware, in.TrustDevice, session.Device(c.client.UserAgent))
	if err != nil {
		return nil, err
	}
	return c.completed(done), nil
}

// POST /user-center/reauth/passkey
func reauthPasskey(c *call) (any, error) {
	var in passkeySignInBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	d, err := c.verifyPasskey(in.ChallengeID, in.Credential)
	if err != nil {
		return nil, err
	}
	at, err := c.s.svc.MFA().ReauthVerified(c.r.Context(), c.client.Token, d, mfa.AMRHardware)
	if err != nil {
		return nil, err
	}
	return &reauthData{AuthAt: formatTime(at)}, nil
}
