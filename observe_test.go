package simpleuser

import (
	"testing"

	"github.com/simpleuser/simpleuser/apierror"
	"github.com/simpleuser/simpleuser/hooks"
)

// TestResultOf: a login's result is success, a kit code in lower case, or
// "rejected" for a hook's code of the app's own (bounded labels).
func TestResultOf(t *testing.T) {
	for err, want := range map[error]string{
		nil:                         "success",
		ErrInvalidCode:              "invalid_code",
		apierror.PasswordBlocked(1): "too_many_password_attempts",
		&hooks.Error{Status: 403, Code: "MY_APP_RULE_42"}: "rejected",
		hooks.Reject(403, "no"):                           "rejected",
	} {
		if got := resultOf(err); got != want {
			t.Errorf("resultOf(%v) = %q, want %q", err, got, want)
		}
	}
}
