package simpleuser

import (
	"context"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// The second-factor flows live in package mfa (Service.MFA: enrolment,
// the challenge, re-authentication); mfaDeps lends them what only the
// service has: sessions, codes, passwords, users, events.
func (s *Service) mfaDeps() mfa.Deps {
	return mfa.Deps{
		Secret: s.cfg.Secret, Risk: s.limits.Observed(), Sessions: s.sessions, WithTx: s.WithTx, Emit: s.emit,
		Now: s.now, Log: s.log,
		CheckEmailCode: func(ctx context.Context, email, code string) error {
			claim, err := s.claimCode(ctx, user.EmailKey(email), hooks.PurposeSecondFactor, code)
			if err != nil {
				return err
			}
			return s.consume(ctx, claim)
		},
		CheckPassword: func(ctx context.Context, u *user.User, pw string) error {
			c, _ := ClientFrom(ctx) // the limits per device and address
			_, err := s.checkPassword(ctx, c, u, "code", pw, ErrInvalidPassword)
			return err
		},
		SendCode: func(ctx context.Context, email string) error {
			c, _ := ClientFrom(ctx)
			return s.sendCode(ctx, c, email, hooks.PurposeSecondFactor)
		},
		User: func(ctx context.Context, d *session.Data) (*user.User, error) {
			c, _ := ClientFrom(ctx)
			return s.userOfSession(ctx, c, d)
		},
	}
}

// StepUp requires a recent authentication of the request's session for a
// sensitive action: 403 REAUTH_REQUIRED, listing the factors that can
// re-authenticate (data.factors), when the session last authenticated
// longer ago than Config.MFA.StepUpWindow (default 10 min; NIST SP
// 800-63B §4.2.3, OWASP ASVS V3.7.1). The kit's own sensitive actions call
// it (change email or password, unlink a sign-in method, manage factors,
// end other sessions, unregister); an app calls it before its own. A
// context without a session token (an anonymous user, or a Go call
// outside a request) passes. It reads no store on success.
func (s *Service) StepUp(ctx context.Context) error {
	d, err := CurrentSession(ctx)
	if err != nil || d == nil {
		return err
	}
	if s.mfa.StepUp(&user.User{}, d) == nil {
		return nil
	}
	u, err := CurrentUser(ctx) // the failure path only: the factors to list
	if err != nil {
		return err
	}
	return s.mfa.StepUp(u, d)
}
