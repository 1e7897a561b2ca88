package simpleuser

import (
	"context"
	"errors"

	"github.com/simpleuser/simpleuser/apierror"
	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/password"
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

// checkEmail refuses (400) an address that is not storable text or that
// user.CheckEmail refuses, with a message naming the rule it broke.
func checkEmail(email string) error {
	if !textcheck.String(email) {
		return InvalidInput("email must be an email")
	}
	if err := user.CheckEmail(email); err != nil {
		if m := EmailMessage("email", err); m != "" {
			return InvalidInput(m)
		}
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

// SendCode takes the send limits of purpose in one atomic step (the
// cooldowns of the address and of the device, the budget of the client
// address), asks the SendCode hook to deliver a code and stores the code
// hashed with its TTL, replacing any previous code of that email and
// purpose. A delivery that failed gives the cooldowns back; it still counts
// against the client address's budget, so failing sends cannot be used to
// call the hook without bound. Errors: 400 invalid input, 429 cooldown or
// budget (Wait set), 502 delivery failed (no code stored), 503 backend
// unavailable.
func (s *Service) SendCode(ctx context.Context, c Client, email, purpose string) (err error) {
	defer func() { s.observeSend(purpose, err) }()
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	return s.sendCode(ctx, c, email, purpose)
}

// sendCode is SendCode for any purpose (SecondFactor included).
func (s *Service) sendCode(ctx context.Context, c Client, email, purpose string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	email = user.NormalizeEmail(email)
	return s.sendTo(ctx, c, user.EmailKey(email), purpose, func() (string, error) {
		return s.hooks.SendCode(ctx, hooks.SendCodeRequest{Email: email, Purpose: purpose, SSAID: c.SSAID, IP: ipString(c),
			AcceptLanguage: acceptLanguage(c.AcceptLanguage), TTL: s.cfg.CodeTTL})
	})
}

// sendTo sends a code for purpose to the address key (user.EmailKey, or
// phone.Key) through send, under the send limits (code.Flow.Send).
func (s *Service) sendTo(ctx context.Context, c Client, key, purpose string, send func() (string, error)) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.SSAID == "" {
		return ErrSSAIDRequired
	}
	return apierror.FromCodeFlow(s.codeFlow.Send(ctx, key, purpose, c.SSAID, IPBucket(c.IP), send))
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
	_, err := s.claimCode(ctx, user.EmailKey(email), purpose, codeValue)
	return err
}

// A codeClaim is a code that matched and is not spent yet (code.Claim).
type codeClaim = code.Claim

// claimCode checks a code of the address key and purpose (code.Flow.Check).
func (s *Service) claimCode(ctx context.Context, key, purpose, codeValue string) (*codeClaim, error) {
	cl, err := s.codeFlow.Check(ctx, key, purpose, codeValue)
	return cl, apierror.FromCodeFlow(err)
}

// consume spends the claimed code (code.Flow.Consume).
func (s *Service) consume(ctx context.Context, cl *codeClaim) error {
	return apierror.FromCodeFlow(s.codeFlow.Consume(ctx, cl))
}

// spend consumes claim (nil: no code) and runs fn, restoring the code if
// fn fails (code.Flow.Spend).
func (s *Service) spend(ctx context.Context, claim *codeClaim, fn func() error) error {
	return apierror.FromCodeFlow(s.codeFlow.Spend(ctx, claim, fn))
}

// restore puts a consumed code back (code.Flow.Restore).
func (s *Service) restore(ctx context.Context, cl *codeClaim) { s.codeFlow.Restore(ctx, cl) }

// checkPassword verifies pw against u's hash under the password attempt
// limits and length bounds (password.Checker.Check), answering wrong for a
// wrong or empty password. It reports whether the hash should be upgraded.
func (s *Service) checkPassword(ctx context.Context, c Client, u *user.User, field, pw string, wrong *Error) (rehash bool, err error) {
	rehash, err = s.pwCheck.Check(ctx, u.ID, c.SSAID, IPBucket(c.IP), field, pw, u.PasswordHash)
	if errors.Is(err, password.ErrWrong) {
		return false, wrong
	}
	return rehash, apierror.FromPassword(err)
}

// checkPasswordLength refuses (400) a password outside the configured
// length bounds, before any hashing.
func (s *Service) checkPasswordLength(field, pw string) error {
	return apierror.FromPassword(s.pwCheck.CheckLength(field, pw))
}

// checkPasswordMax refuses (400) a password over PasswordMaxLength bytes.
func (s *Service) checkPasswordMax(field, pw string) error {
	return apierror.FromPassword(s.pwCheck.CheckMax(field, pw))
}
