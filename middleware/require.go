package middleware

import (
	"net/http"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
)

// Every Require* answers 403 MUST_CHANGE_PASSWORD to a session whose user
// an administrator required to set a new password
// (simpleuser.Service.SetMustChangePassword), until the user does (the
// kit's change-password endpoint is not behind them). The flag is in the
// session: checking it reads no store.

// mustChange reports whether the request's session carries the flag
// (CurrentSession is memoized: no second read).
func mustChange(r *http.Request) bool {
	d, _ := simpleuser.CurrentSession(r.Context())
	return d != nil && d.MustChangePassword
}

// RequireUser answers the envelope error of simpleuser.CurrentUser (401 bad
// token or, with anonymous users off, no token; 400 no ssaid; 403
// ACCOUNT_DISABLED; 503 store unavailable) or calls next. Anonymous users
// pass (and are created on first need). It must run inside Identity;
// without it every request gets 401. With Config.RequireVerifiedEmail, a
// signed-in account without a verified address gets 403
// EMAIL_NOT_VERIFIED (from the session: no store read; the same holds for
// RequireRegistered and RequireSession). A 5xx is logged to slog.Default()
// (envelope.Error), with the request id.
func RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := simpleuser.CurrentUser(r.Context())
		if err == nil {
			err = simpleuser.VerifiedEmail(r.Context())
		}
		if err == nil && mustChange(r) {
			err = simpleuser.ErrMustChangePassword
		}
		if err != nil {
			envelope.Error(w, r, nil, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRegistered is RequireUser that also refuses anonymous users with
// 402 (nicot-simple-user's status for "registered user required").
func RequireRegistered(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := simpleuser.RegisteredUser(r.Context())
		if err == nil {
			err = simpleuser.VerifiedEmail(r.Context())
		}
		if err == nil && mustChange(r) {
			err = simpleuser.ErrMustChangePassword
		}
		if err != nil {
			envelope.Error(w, r, nil, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireSession requires a live session token: 401 when the request
// carries no x-client-token or one that is unknown, expired or revoked.
// It reads the session store only, never the user store, so it is the
// cheap guard for endpoints that need "logged in" but not the user row
// (the handler gets the session with simpleuser.CurrentSession, memoized).
func RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := simpleuser.CurrentSession(r.Context())
		if err == nil && d == nil {
			err = simpleuser.ErrAuthRequired
		}
		if err == nil {
			err = simpleuser.VerifiedEmail(r.Context())
		}
		if err == nil && d.MustChangePassword {
			err = simpleuser.ErrMustChangePassword
		}
		if err != nil {
			envelope.Error(w, r, nil, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
