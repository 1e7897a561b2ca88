package handlers

import (
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
)

// formatTime writes t in the wire format of times: RFC 3339 UTC with
// milliseconds, as JavaScript's Date.prototype.toISOString writes them.
func formatTime(t time.Time) string {
	var a [24]byte
	return string(envelope.AppendTimestamp(a[:0], t))
}

// POST /send-code/send
func sendCode(c *call) (any, error) {
	var in sendCodeBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.SendCode(c.r.Context(), c.client, in.Email, in.CodePurpose)
}

// GET /send-code/verify
func verifyCode(c *call) (any, error) {
	var in verifyQuery
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.VerifyCode(c.r.Context(), in.Email, in.CodePurpose, in.Code)
}

// GET /login/user-exists
func userExists(c *call) (any, error) {
	var in userExistsQuery
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	ok, err := c.s.svc.UserExists(c.r.Context(), in.Email)
	if err != nil {
		return nil, err
	}
	return &userExistsData{Exists: ok}, nil
}

// POST /login
func login(c *call) (any, error) {
	var in loginBody
	extra, err := c.decodeBody(&in)
	if err != nil {
		return nil, err
	}
	li := simpleuser.LoginInput{Email: in.Email, Password: in.Password, SetPassword: in.SetPassword}
	if in.Code != nil {
		li.Code = *in.Code
	}
	if len(extra) > 0 {
		li.Extra = extra
	}
	res, err := c.s.svc.Login(c.r.Context(), c.client, li)
	if err != nil {
		return nil, err
	}
	c.setSessionCookie(res)
	return loginDataOf(res), nil
}

// POST /login/reset-password
func resetPassword(c *call) (any, error) {
	var in resetPasswordBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.ResetPassword(c.r.Context(), in.Email, in.Code, in.NewPassword)
}

// POST /login/unregister-with-code
func unregisterWithCode(c *call) (any, error) {
	var in unregisterWithCodeBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.UnregisterWithCode(c.r.Context(), in.Email, in.Code)
}

// POST /user-center/change-password. The user is resolved before the body
// is validated (nicot's order: 400 no ssaid / 401 bad token win).
func changePassword(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	var in changePasswordBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	cur := ""
	if in.CurrentPassword != nil {
		cur = *in.CurrentPassword
	}
	return nil, c.s.svc.ChangePassword(ctx, c.client, u, in.NewPassword, cur)
}

// POST /user-center/change-email
func changeEmail(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	var in changeEmailBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	return nil, c.s.svc.ChangeEmail(ctx, u, in.Email, in.Code)
}

// POST /user-center/unregister
func unregister(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.s.svc.Unregister(ctx, u); err != nil {
		return nil, err
	}
	c.sessionEnded(c.client.Token) // every session of the user is gone
	return nil, nil
}

// POST /user-center/logout
func logout(c *call) (any, error) {
	if c.client.Token == "" {
		return nil, simpleuser.ErrAuthRequired
	}
	if err := c.s.svc.Logout(c.r.Context(), c.client.Token); err != nil { // one read: End returns what it revoked
		return nil, err
	}
	c.sessionEnded(c.client.Token)
	return nil, nil
}

// GET /user-center/session
func currentSession(c *call) (any, error) {
	d, err := simpleuser.CurrentSession(c.r.Context())
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, simpleuser.ErrAuthRequired
	}
	return &sessionInfo{UserID: d.UserID, CreatedAt: formatTime(d.CreatedAt), ExpiresAt: formatTime(d.ExpiresAt), Data: d.UserData}, nil
}
