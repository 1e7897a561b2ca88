package apierror

import (
	"errors"
	"testing"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/password"
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

// TestLoginResult: a login's result is success, a kit code in lower case,
// or "rejected" for a hook's code of the app's own or a factor flow's
// (bounded labels).
func TestLoginResult(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "success"},
		{ErrInvalidCode, "invalid_code"},
		{PasswordBlocked(1), "too_many_password_attempts"},
		{ErrEmailNotVerified, "email_not_verified"},
		{&hooks.Error{Status: 403, Code: "MY_APP_RULE_42"}, "rejected"},
		{hooks.Reject(403, "no"), "rejected"},
		{&mfa.Error{Status: 401, Code: mfa.Codes()[0]}, "rejected"},
	} {
		if got := LoginResult(c.err); got != c.want {
			t.Errorf("LoginResult(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestSendResult: a send's result by the status of its error.
func TestSendResult(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, metrics.SendSent},
		{Cooldown(1), metrics.SendLimited},
		{InvalidInput("no"), metrics.SendInvalid},
		{&backend.Error{Backend: "redis", Err: errors.New("down")}, metrics.SendUnavailable},
		{ErrSMSUnavailable, metrics.SendUnavailable},
		{ErrSendFailed, metrics.SendFailed},
	} {
		if got := SendResult(c.err); got != c.want {
			t.Errorf("SendResult(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestFromBlocks: the refusals of code.Flow and password.Checker become
// the service's errors; other errors and nil pass through.
func TestFromBlocks(t *testing.T) {
	hookErr := InvalidInput("bad address")
	other := errors.New("other")
	for _, c := range []struct {
		name      string
		got, want error
	}{
		{"invalid code", FromCodeFlow(code.ErrInvalid), ErrInvalidCode},
		{"send limit", FromCodeFlow(&code.LimitError{Send: true, Wait: 2}), Cooldown(2)},
		{"attempt limit", FromCodeFlow(&code.LimitError{Wait: 2}), CodeBlocked(2)},
		{"hook's own error", FromCodeFlow(&code.DeliveryError{Err: hookErr}), hookErr},
		{"delivery failed", FromCodeFlow(&code.DeliveryError{Err: other}), ErrSendFailed},
		{"password length", FromPassword(&password.LengthError{Field: "password", Max: 3}), InvalidInput("password must be at most 3 characters")},
		{"password blocked", FromPassword(&password.BlockedError{Wait: 2}), PasswordBlocked(2)},
		{"code other", FromCodeFlow(other), other},
		{"password wrong", FromPassword(password.ErrWrong), password.ErrWrong},
	} {
		if !errors.Is(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
		if e, ok := c.want.(*Error); ok && c.got.(*Error).Message != e.Message {
			t.Errorf("%s: message %q, want %q", c.name, c.got.(*Error).Message, e.Message)
		}
	}
	if FromCodeFlow(nil) != nil || FromPassword(nil) != nil {
		t.Error("nil is not passed through")
	}
	var e *Error
	if !errors.As(FromCodeFlow(&code.LimitError{Wait: 7}), &e) || e.Wait != 7 {
		t.Errorf("wait lost: %v", e)
	}
}
