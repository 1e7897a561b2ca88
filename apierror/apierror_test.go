package apierror

import (
	"errors"
	"testing"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/session"
)

// TestWith: a copy with a cause keeps status, code and message, matches
// the original by errors.Is and unwraps to the cause.
func TestWith(t *testing.T) {
	cause := errors.New("boom")
	e := ErrInvalidToken.With(cause)
	if e == ErrInvalidToken || e.Status != 401 || e.Code != CodeInvalidToken || e.Message != ErrInvalidToken.Message {
		t.Fatalf("With: %+v", e)
	}
	if !errors.Is(e, ErrInvalidToken) || !errors.Is(e, cause) || ErrInvalidToken.Err != nil {
		t.Fatalf("With: Is/Unwrap wrong, or the original changed: %+v", ErrInvalidToken)
	}
	if got := AsError(session.ErrNotFound); !errors.Is(got, ErrInvalidToken) || !errors.Is(got, session.ErrNotFound) {
		t.Fatalf("AsError(session.ErrNotFound) = %+v", got)
	}
}

// TestOwn: the package's own codes are Own, the factor flows' and an
// app's are not.
func TestOwn(t *testing.T) {
	if !Own(CodeBusy) || !Own(CodeEmailNotVerified) || Own("MY_APP_RULE") || Own(mfa.Codes()[0]) {
		t.Fatal("Own: wrong membership")
	}
}
