package simpleuser

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// The second-factor flows live in package mfa (Service.MFA); these are
// the parts that need the service: sessions, codes, passwords, events.

func (s *Service) mfaDeps() mfa.Deps {
	return mfa.Deps{
		Secret: s.cfg.Secret, Risk: s.risk, Sessions: s.sessions, WithTx: s.WithTx, Emit: s.emit,
		Now: s.now, Log: s.log,
		CheckEmailCode: func(ctx context.Context, email, code string) error {
			claim, err := s.claimCode(ctx, user.EmailKey(email), hooks.PurposeSecondFactor, code)
			if err != nil {
				return err
			}
			return s.consume(ctx, claim)
		},
		CheckPassword: func(ctx context.Context, u *user.User, pw string) error {
			if err := s.checkPasswordMax("code", pw); err != nil {
				return err
			}
			c, _ := ClientFrom(ctx) // the limits per device and address
			_, err := s.checkPassword(ctx, c, u, pw, ErrInvalidPassword)
			return err
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
	err = s.mfa.StepUp(&user.User{}, d)
	if err == nil {
		return nil
	}
	u, uerr := CurrentUser(ctx) // the failure path only: the factors to list
	if uerr != nil {
		return uerr
	}
	return s.mfa.StepUp(u, d)
}

// pending returns the session of c.Token whatever its stage, and its user.
func (s *Service) pending(ctx context.Context, c Client) (*session.Data, *user.User, error) {
	if c.Token == "" {
		return nil, nil, ErrAuthRequired
	}
	d, err := s.session(ctx, c.Token)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.userOfSession(ctx, c, d)
	return d, u, err
}

// CompleteChallenge completes the sign-in of c.Token, a challenge-stage
// session, with a second factor (factor: "totp", "recovery" or "email";
// code: what the user typed): the challenge session ends and a full
// session is issued with a fresh token (no fixation). With trust, the
// result also carries a trusted-device token (Config.MFA.TrustDeviceFor).
// Errors: 401 bad token; 409 NOT_IN_CHALLENGE; 400 FACTOR_NOT_AVAILABLE;
// 403 INVALID_FACTOR or INVALID_CODE; 429.
func (s *Service) CompleteChallenge(ctx context.Context, c Client, factor, code string, trust bool) (*LoginResult, error) {
	d, u, err := s.pending(ctx, c)
	if err != nil {
		return nil, err
	}
	done, err := s.mfa.Complete(ctx, u, c.Token, d, factor, code, trust, session.Device(c.UserAgent))
	if errors.Is(err, session.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: done.Token, ExpiresAt: s.now().Add(s.cfg.SessionLifetime).UTC(), UserID: u.ID, User: u,
		DeviceToken: done.DeviceToken, DeviceExpiresAt: done.DeviceExpiresAt}, nil
}

// Reauth re-authenticates the full session of c.Token with its password
// (factor "password") or a factor, for StepUp, and returns the new
// authentication time. Errors: 401, 403 MFA_REQUIRED (challenge stage),
// 400 FACTOR_NOT_AVAILABLE, 403 INVALID_FACTOR / INVALID_PASSWORD /
// INVALID_CODE, 429.
func (s *Service) Reauth(ctx context.Context, c Client, factor, code string) (time.Time, error) {
	d, u, err := s.pending(ctx, c)
	if err != nil {
		return time.Time{}, err
	}
	at, err := s.mfa.Reauth(ctx, u, c.Token, d, factor, code)
	if errors.Is(err, session.ErrNotFound) {
		return time.Time{}, ErrInvalidToken
	}
	return at, err
}

// SendFactorCode sends a SecondFactor code to the address of the user of
// c.Token, for completing its challenge (when the email code is one of
// its factors) or for re-authenticating, under the send limits of that
// purpose. 400 FACTOR_NOT_AVAILABLE when the email code is not usable for
// the session.
func (s *Service) SendFactorCode(ctx context.Context, c Client) error {
	d, u, err := s.pending(ctx, c)
	if err != nil {
		return err
	}
	allowed := mfa.ChallengeFactors(d)
	if d.Stage == "" {
		allowed = mfa.ReauthFactors(u, d)
	}
	if u.Email == "" || !slices.Contains(allowed, mfa.FactorEmail) {
		return mfa.ErrFactorUnavailable
	}
	return s.sendCode(ctx, c, u.Email, hooks.PurposeSecondFactor)
}
