// Package hooks declares the functions an app plugs into simpleuser's flows.
// Every hook is a plain func field; a nil hook does nothing.
package hooks

import (
	"context"

	"github.com/simpleuser/simpleuser/user"
)

// Code purposes, as sent by clients in codePurpose.
const (
	PurposeLogin         = "Login"
	PurposeResetPassword = "ResetPassword"
	PurposeChangeEmail   = "ChangeEmail"
	PurposeUnregister    = "Unregister"
)

// SendCodeRequest is what SendCode receives.
type SendCodeRequest struct {
	Email   string // trimmed, as typed
	Purpose string // one of the Purpose constants
	SSAID   string
	IP      string
}

// Hooks are the app's extension points.
type Hooks struct {
	// SendCode delivers a one-time code to req.Email and returns the code it
	// sent. Required. It runs outside any transaction, after the send
	// cooldown was taken. An error (or an empty code) means nothing was
	// delivered: no code is stored and the client gets 502 (or the status of
	// a *simpleuser.Error it returns). The cooldown stays, so failing sends
	// cannot be retried in a tight loop.
	SendCode func(ctx context.Context, req SendCodeRequest) (code string, err error)

	// OnMigrateUser runs when a device whose ssaid has an anonymous user logs
	// into an existing account, inside the login transaction, after the
	// credentials were checked and before the session is issued. The app
	// moves the anonymous user's data (cart, drafts) to account. An error
	// rolls back and fails the login.
	OnMigrateUser func(ctx context.Context, anonymous, account *user.User) error

	// OnUnregister runs inside the unregister transaction, after the
	// unregister time was set. An error rolls the unregister back (and no
	// session is revoked).
	OnUnregister func(ctx context.Context, u *user.User) error
}
