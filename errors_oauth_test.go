package simpleuser_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/user"
)

// TestAsErrorMapsOAuthErrors: AsError, the one mapping place, gives the
// flow's errors oauth.HTTPStatus's status and a machine code.
func TestAsErrorMapsOAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
		wait   bool
	}{
		{fmt.Errorf("%w: %q", oauth.ErrDenied, "access_denied"), 403, simpleuser.CodeOAuthDenied, false},
		{fmt.Errorf("%w: expired", oauth.ErrBadState), 403, simpleuser.CodeOAuthState, false},
		{&oauth.ProviderError{Provider: "google", Op: "token", Status: 400, Kind: oauth.ErrExchange}, 403, simpleuser.CodeOAuthExchange, false},
		{&oauth.ProviderError{Provider: "google", Op: "id_token", Kind: oauth.ErrBadToken}, 403, simpleuser.CodeOAuthExchange, false},
		{&oauth.ProviderError{Provider: "github", Op: "token", Status: 500, Kind: oauth.ErrProviderUnavailable}, 502, simpleuser.CodeOAuthUnavailable, false},
		{&oauth.ProviderError{Provider: "x", Op: "token", Status: 429, Kind: oauth.ErrProviderUnavailable}, 503, simpleuser.CodeOAuthUnavailable, true},
		{&oauth.ProviderError{Provider: "x", Op: "token", Kind: oauth.ErrProviderUnavailable, Err: context.DeadlineExceeded}, 503, simpleuser.CodeOAuthUnavailable, true},
		{fmt.Errorf("%w: %q", oauth.ErrUnknownProvider, "myspace"), 404, simpleuser.CodeUnknownProvider, false},
		{oauth.ErrRedirectNotAllowed, 400, simpleuser.CodeRedirectNotAllowed, false},
		{oauth.ErrSSAIDRequired, 400, simpleuser.CodeSSAIDRequired, false},
		{fmt.Errorf("oauth: reading state: %w", backend.Unavailable("redis", errors.New("refused"))), 503, simpleuser.CodeUnavailable, true},
		{user.ErrIdentityTaken, 409, simpleuser.CodeIdentityTaken, false},
	} {
		e := simpleuser.AsError(tc.err)
		if e.Status != tc.status || e.Code != tc.code || (e.Wait > 0) != tc.wait {
			t.Errorf("AsError(%v) = %d %s wait %v, want %d %s wait %v", tc.err, e.Status, e.Code, e.Wait, tc.status, tc.code, tc.wait)
		}
	}
}
