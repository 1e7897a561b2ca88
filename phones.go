package simpleuser

import (
	"context"
	"errors"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/phone"
	"github.com/simpleuser/simpleuser/user"
)

// parsePhone is phone.Parse in Config.Phone.DefaultRegion, refusing (400) a number it cannot read.
func (s *Service) parsePhone(number string) (string, error) {
	p, err := phone.Parse(number, s.cfg.Phone.DefaultRegion)
	if err != nil {
		return "", InvalidInput(err.Error())
	}
	return p, nil
}

// SendPhoneCode sends a code by SMS (Hooks.SendSMS) to number for purpose
// (hooks.PurposeLogin or PurposeChangePhone) under the rules of SendCode:
// cooldowns per number (E.164) and device, a budget per client address,
// failed deliveries giving the cooldowns back. Errors: 400 invalid input,
// 429, 502 SEND_FAILED, 503 SMS_UNAVAILABLE (no hook) or backend.
func (s *Service) SendPhoneCode(ctx context.Context, c Client, number, purpose string) (err error) {
	defer func() { s.observeSend(purpose, err) }()
	if purpose != hooks.PurposeLogin && purpose != hooks.PurposeChangePhone {
		return InvalidInput("codePurpose must be one of the following values: Login, ChangePhone")
	}
	p, err := s.parsePhone(number)
	if err != nil {
		return err
	}
	if s.hooks.SendSMS == nil {
		return ErrSMSUnavailable
	}
	return s.sendTo(ctx, c, phone.Key(p), purpose, func() (string, error) {
		return s.hooks.SendSMS(ctx, hooks.SendSMSRequest{Phone: p, Purpose: purpose, SSAID: c.SSAID, IP: ipString(c),
			AcceptLanguage: acceptLanguage(c.AcceptLanguage), TTL: s.cfg.CodeTTL})
	})
}

// VerifyPhoneCode is VerifyCode for a code sent by SMS (GET
// /send-code/phone/verify): the number read into E.164, purpose Login or
// ChangePhone; the code is not consumed, the same attempt limit applies.
func (s *Service) VerifyPhoneCode(ctx context.Context, number, purpose, codeValue string) error {
	p, err := s.parsePhone(number)
	if err == nil && purpose != hooks.PurposeLogin && purpose != hooks.PurposeChangePhone {
		err = InvalidInput("codePurpose must be one of the following values: Login, ChangePhone")
	} else if err == nil && codeValue == "" {
		err = InvalidInput("code should not be empty")
	}
	if err == nil {
		_, err = s.claimCode(ctx, phone.Key(p), purpose, codeValue)
	}
	return err
}

// LoginByPhone signs in with a Login code sent by SMS to in.Phone (in.Email
// is ignored): into the account holding the number, or, for a number no
// account holds, by upgrading the anonymous user of c's ssaid into an
// account with that number (verified), as a first email-code login does.
// An account holding the number whose unregister grace period is over is
// deleted first, as for an address.
// The code is spent with the login's transaction and given back if it
// fails. Errors: those of Login, and 409 PHONE_TAKEN when another
// registration took the number meanwhile.
func (s *Service) LoginByPhone(ctx context.Context, c Client, in LoginInput) (res *LoginResult, err error) {
	defer func() { s.observeLogin(metrics.MethodCode, "", res, err) }()
	p, err := s.parsePhone(in.Phone)
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	if in.Code == "" {
		return nil, InvalidInput("code should not be empty")
	}
	if err := checkPayload(in.Extra); err != nil {
		return nil, err
	}
	claim, err := s.claimCode(ctx, phone.Key(p), hooks.PurposeLogin, in.Code)
	if err != nil {
		return nil, err
	}
	var u *user.User
	created := false
	err = s.spend(ctx, claim, func() error {
		return s.WithTx(ctx, func(ctx context.Context) error {
			holder, err := s.users.GetByPhone(ctx, p)
			if err == nil && s.expired(holder, s.now()) { // gone, as for an address: the number is free
				if _, err = s.sessions.RevokeUser(ctx, holder.ID); err == nil {
					err = s.deleteInTx(ctx, holder)
				}
				if err != nil {
					return err
				}
				err = user.ErrNotFound
			}
			switch {
			case err == nil:
				u, err = s.enter(ctx, c, holder.ID, entry{method: "code", verified: "phone"})
			case errors.Is(err, user.ErrNotFound):
				created = true
				u, err = s.upgradeAnonymous(ctx, c, signup{phone: p, payload: in.Extra, method: "code"})
			}
			return phoneErr(err)
		})
	})
	if err != nil {
		return nil, err
	}
	res, err = s.issue(ctx, c, u, mfa.AMRSMS, "")
	if err != nil {
		s.restore(ctx, claim)
		return nil, err
	}
	res.Created = created
	return res, nil
}

// ChangePhone sets the number of the registered account u (adding one, or
// replacing its number) with a ChangePhone code sent to the new number,
// which is then verified. It needs a recent authentication (StepUp).
// Errors: 400, 402 anonymous, 403 wrong code, 409 PHONE_TAKEN, 429, 503.
func (s *Service) ChangePhone(ctx context.Context, u *user.User, number, codeValue string) error {
	p, err := s.parsePhone(number)
	if err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	if !u.Registered() {
		return ErrRegisteredRequired
	}
	if err := s.StepUp(ctx); err != nil {
		return err
	}
	if h, err := s.users.GetByPhone(ctx, p); err == nil && h.ID != u.ID {
		return ErrPhoneTaken
	}
	claim, err := s.claimCode(ctx, phone.Key(p), hooks.PurposeChangePhone, codeValue)
	if err != nil {
		return err
	}
	return s.spend(ctx, claim, func() error { return s.setPhone(ctx, u.ID, p, s.now()) })
}

// RemovePhone removes the number of the registered account u. It needs a
// recent authentication (StepUp); 409 LAST_SIGN_IN_METHOD when the account
// has no email address and no provider account to sign in with instead.
func (s *Service) RemovePhone(ctx context.Context, u *user.User) error {
	if !u.Registered() {
		return ErrRegisteredRequired
	}
	if err := s.StepUp(ctx); err != nil {
		return err
	}
	if u.Email == "" {
		ids, err := s.users.ListIdentities(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return ErrLastSignInMethod
		}
	}
	return s.setPhone(ctx, u.ID, "", time.Time{})
}

// setPhone writes number and its verification time on the account id.
// A PhoneChanged event carries the old number when it changed.
func (s *Service) setPhone(ctx context.Context, id int64, number string, verified time.Time) error {
	old := ""
	u, err := s.update(ctx, id, func(u *user.User) error {
		if u.Disabled {
			return blocked(u)
		}
		old, u.Phone, u.PhoneVerifiedAt = u.Phone, number, verified
		return nil
	})
	if err == nil && old != number {
		s.emit(ctx, hooks.Event{Type: hooks.PhoneChanged, User: u, Phone: old})
	}
	return phoneErr(err)
}

func phoneErr(err error) error {
	if errors.Is(err, user.ErrPhoneTaken) {
		return ErrPhoneTaken
	}
	return err
}

// VerifiedEmail returns 403 EMAIL_NOT_VERIFIED when Config.RequireVerifiedEmail
// is on and the request's session belongs to an account whose email address
// is not verified; nil otherwise (also without a session: anonymous users
// have no address). It reads the session's flag, never the user store.
// The middleware's guards call it.
func VerifiedEmail(ctx context.Context) error {
	r := fromContext(ctx)
	if r == nil || !r.svc.cfg.RequireVerifiedEmail {
		return nil
	}
	d, err := CurrentSession(ctx)
	if err != nil || d == nil || d.EmailVerified {
		return err
	}
	return ErrEmailNotVerified
}
