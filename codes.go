package simpleuser

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

// ValidPurpose reports whether p is one of the four code purposes.
func ValidPurpose(p string) bool {
	switch p {
	case hooks.PurposeLogin, hooks.PurposeResetPassword, hooks.PurposeChangeEmail, hooks.PurposeUnregister:
		return true
	}
	return false
}

func checkEmail(email string) error {
	if !user.ValidEmail(email) {
		return InvalidInput("email must be an email")
	}
	return nil
}

func checkPurpose(p string) error {
	if !ValidPurpose(p) {
		return InvalidInput("codePurpose must be one of the following values: Login, ResetPassword, ChangeEmail, Unregister")
	}
	return nil
}

// SendCode takes the send cooldowns of email, IP and ssaid for purpose in one
// atomic step, asks the SendCode hook to deliver a code and stores the code
// hashed with its TTL, replacing any previous code of that email and purpose.
// Errors: 400 invalid input, 429 cooldown (Wait set), 502 delivery failed (no
// code stored), 503 backend unavailable.
func (s *Service) SendCode(ctx context.Context, c Client, email, purpose string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	if c.SSAID == "" {
		return ErrSSAIDRequired
	}
	email = user.NormalizeEmail(email)
	ek := user.EmailKey(email)
	now := s.now()
	if s.cfg.SendCooldown > 0 {
		wait, err := s.risk.Take(ctx, sendKeys(ek, purpose, c), newID(), 1, s.cfg.SendCooldown, now)
		if err != nil {
			return err
		}
		if wait > 0 {
			return cooldownError(wait)
		}
	}
	sent, err := s.hooks.SendCode(ctx, hooks.SendCodeRequest{Email: email, Purpose: purpose, SSAID: c.SSAID, IP: c.IP.String()})
	if err != nil || sent == "" {
		if err == nil {
			err = errors.New("SendCode returned an empty code")
		}
		s.log.WarnContext(ctx, "simpleuser: code delivery failed", slog.String("purpose", purpose), slog.Any("error", err))
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return &Error{Status: ErrSendFailed.Status, Code: ErrSendFailed.Code, Message: ErrSendFailed.Message, Err: err}
	}
	rec, err := code.Seal(s.cfg.Secret, sent)
	if err != nil {
		return err
	}
	return s.codes.Set(ctx, codeKey(ek, purpose), rec, s.cfg.CodeTTL)
}

// VerifyCode checks a code without consuming it (GET /send-code/verify). A
// success clears the failed attempts of that email and purpose.
func (s *Service) VerifyCode(ctx context.Context, email, purpose, codeValue string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	return s.checkCode(ctx, user.EmailKey(email), purpose, codeValue, false)
}

// checkCode verifies (and, when consume is set, atomically consumes) a code,
// counting the attempt against the email+purpose window before looking.
func (s *Service) checkCode(ctx context.Context, emailKey, purpose, codeValue string, consume bool) error {
	vk := []string{verifyKey(emailKey, purpose)}
	if s.cfg.VerifyMaxAttempts > 0 {
		wait, err := s.risk.Take(ctx, vk, newID(), s.cfg.VerifyMaxAttempts, s.cfg.VerifyWindow, s.now())
		if err != nil {
			return err
		}
		if wait > 0 {
			return codeBlockedError(wait)
		}
	}
	ck := codeKey(emailKey, purpose)
	rec, err := s.codes.Get(ctx, ck)
	if errors.Is(err, code.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return err
	}
	if !code.Match(s.cfg.Secret, rec, codeValue) {
		return ErrInvalidCode
	}
	if consume {
		ok, err := s.codes.DeleteIfEqual(ctx, ck, rec)
		if err != nil {
			return err
		}
		if !ok { // a concurrent request consumed it first
			return ErrInvalidCode
		}
	}
	if s.cfg.VerifyMaxAttempts > 0 {
		if err := s.risk.Clear(ctx, vk...); err != nil {
			s.log.WarnContext(ctx, "simpleuser: clearing code attempts failed", slog.Any("error", err))
		}
	}
	return nil
}

// checkPassword verifies pw against u's hash under the password attempt
// limit on user, ssaid and IP. A success releases its own attempt; earlier
// failures keep counting. It reports whether the hash should be upgraded.
func (s *Service) checkPassword(ctx context.Context, c Client, u *user.User, pw string, wrong *Error) (rehash bool, err error) {
	keys := passwordKeys(u.ID, c)
	id := newID()
	if s.cfg.PasswordMaxAttempts > 0 {
		wait, err := s.risk.Take(ctx, keys, id, s.cfg.PasswordMaxAttempts, s.cfg.PasswordWindow, s.now())
		if err != nil {
			return false, err
		}
		if wait > 0 {
			return false, passwordBlockedError(wait)
		}
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err == nil && !ok {
		return false, wrong // the attempt keeps counting
	}
	// Success, or no verdict (hasher busy): the attempt does not count.
	if s.cfg.PasswordMaxAttempts > 0 {
		if rerr := s.risk.Release(ctx, keys, id); rerr != nil {
			s.log.WarnContext(ctx, "simpleuser: releasing password attempt failed", slog.Any("error", rerr))
		}
	}
	return rehash, err
}

func (s *Service) checkPasswordLength(field, pw string) error {
	if s.cfg.PasswordMinLength > 0 && len(pw) < s.cfg.PasswordMinLength {
		return InvalidInput(fmt.Sprintf("%s must be at least %d characters", field, s.cfg.PasswordMinLength))
	}
	if len(pw) > s.cfg.PasswordMaxLength {
		return InvalidInput(fmt.Sprintf("%s must be at most %d characters", field, s.cfg.PasswordMaxLength))
	}
	return nil
}

// newID returns a random attempt id.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
