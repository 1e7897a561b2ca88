package handlers

import (
	"net/http"

	"github.com/simpleuser/simpleuser"
)

// phoneRoutes are the phone-number routes: codes by SMS (the app's SendSMS
// hook), sign-in by such a code, and the account's number. They sit beside
// the email routes, whose bodies stay nicot-simple-user's.
var phoneRoutes = []route{
	{
		method: http.MethodPost, path: "/send-code/phone",
		summary:     "Send a verification code by SMS",
		description: "Asks the app's SendSMS hook to deliver a one-time code to the number (read into E.164) for one purpose, under the limits of POST /send-code/send: a cooldown per number and per ssaid, a budget per client IP address.",
		tags:        []string{"send-code"}, ssaid: true, body: new(sendPhoneCodeBody),
		errors: []routeError{errInput, errTooLarge, errMedia,
			{http.StatusTooManyRequests, "Send cooldown running (SEND_COOLDOWN); data.waitTimeMs and Retry-After tell when to retry."},
			{http.StatusBadGateway, "Delivery failed (SEND_FAILED); no code was stored."},
			{http.StatusServiceUnavailable, "The app has no SendSMS hook (SMS_UNAVAILABLE), or a backend is unreachable (BACKEND_UNAVAILABLE)."}},
		handle: sendPhoneCode,
	},
	{
		method: http.MethodGet, path: "/send-code/phone/verify",
		summary:     "Check a code sent by SMS without consuming it",
		description: "GET /send-code/verify for a number (read into E.164): a success clears the failed attempts of the number and purpose; the code stays usable.",
		tags:        []string{"send-code"}, query: new(verifyPhoneQuery),
		errors: []routeError{errQuery, errCode, errCodeLimit, errBackend},
		handle: verifyPhoneCode,
	},
	{
		method: http.MethodPost, path: "/login/phone",
		summary:     "Log in with a code sent by SMS",
		description: "Spends a Login code sent to the number. The account holding the number is signed in; for a number no account holds, the anonymous user of the ssaid becomes the account (same id), with the number verified. The answer is POST /login's (mfaRequired and factors for an account with MFA on).",
		tags:        []string{"login"}, ssaid: true, token: tokenOptional, body: new(phoneLoginBody), data: new(loginData),
		errors: []routeError{errInput,
			{http.StatusForbidden, "Wrong code (INVALID_CODE) or disabled account (ACCOUNT_DISABLED)."},
			{http.StatusConflict, "Another registration took the number meanwhile (PHONE_TAKEN), or the account changed concurrently (CONFLICT); retry."},
			errTooLarge, errMedia, errCodeLimit, errBackend},
		handle: phoneLogin,
	},
	{
		method: http.MethodPost, path: "/user-center/change-phone",
		summary:     "Add or change the account's phone number",
		description: "Proven by a ChangePhone code sent by SMS to the new number, which is then verified. Needs a recent authentication (step-up).",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(changePhoneBody),
		errors: []routeError{errInput, errToken,
			{http.StatusPaymentRequired, "Anonymous users have no number (ANONYMOUS_USER)."},
			{http.StatusForbidden, "Wrong code (INVALID_CODE), or as for every step-up route (REAUTH_REQUIRED, ACCOUNT_DISABLED, MFA_REQUIRED)."},
			{http.StatusConflict, "Another account holds the number (PHONE_TAKEN)."},
			errTooLarge, errMedia, errCodeLimit, errBackend},
		handle: changePhone,
	},
	{
		method: http.MethodPost, path: "/user-center/remove-phone",
		summary:     "Remove the account's phone number",
		description: "Needs a recent authentication (step-up). Refused when the number is the account's only way to sign in.",
		tags:        []string{"user-center"}, ssaid: true, token: tokenRequired,
		errors: []routeError{errToken,
			{http.StatusPaymentRequired, "Anonymous users have no number (ANONYMOUS_USER)."},
			errStepUp,
			{http.StatusConflict, "The account has no email address or sign-in account to use instead (LAST_SIGN_IN_METHOD)."},
			errBackend},
		handle: removePhone,
	},
}

// POST /send-code/phone
func sendPhoneCode(c *call) (any, error) {
	var in sendPhoneCodeBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.SendPhoneCode(c.r.Context(), c.client, in.Phone, in.CodePurpose)
}

// verifyPhoneQuery is the query of GET /send-code/phone/verify.
type verifyPhoneQuery struct {
	Phone       string `query:"phone" validate:"required,max=64" required:"true" maxLength:"64" description:"Number the code was sent to (any form POST /send-code/phone accepts)."`
	CodePurpose string `query:"codePurpose" validate:"required,oneof=Login ChangePhone" msg:"must be one of the following values: Login, ChangePhone" required:"true" enum:"Login,ChangePhone" description:"Purpose the code was sent for."`
	Code        string `query:"code" validate:"required" required:"true" minLength:"1" description:"The code to check (not consumed)."`
}

// GET /send-code/phone/verify
func verifyPhoneCode(c *call) (any, error) {
	var in verifyPhoneQuery
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.VerifyPhoneCode(c.r.Context(), in.Phone, in.CodePurpose, in.Code)
}

// POST /login/phone
func phoneLogin(c *call) (any, error) {
	var in phoneLoginBody
	extra, err := c.decodeBody(&in)
	if err != nil {
		return nil, err
	}
	li := simpleuser.LoginInput{Phone: in.Phone, Code: in.Code}
	if len(extra) > 0 {
		li.Extra = extra
	}
	res, err := c.s.svc.LoginByPhone(c.r.Context(), c.client, li)
	if err != nil {
		return nil, err
	}
	c.setSessionCookie(res)
	return loginDataOf(res), nil
}

// POST /user-center/change-phone
func changePhone(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	var in changePhoneBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.ChangePhone(ctx, u, in.Phone, in.Code)
}

// POST /user-center/remove-phone
func removePhone(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, c.s.svc.RemovePhone(ctx, u)
}
