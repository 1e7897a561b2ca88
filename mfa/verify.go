package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// Verify checks one factor of u: factor is a kind among allowed
// (FactorTOTP, FactorRecovery, FactorEmail, FactorPassword) and code what
// the user typed. It returns the RFC 8176 method of the factor ("otp",
// "email", "pwd").
//
// A TOTP code is accepted at most once (its time step is spent
// atomically); a recovery code is spent (event RecoveryCodeUsed); an email
// code is checked and spent by Deps.CheckEmailCode (its own attempt
// limit); a password by Deps.CheckPassword (the password limits). TOTP and
// recovery codes count against Config.MaxAttempts per account, as
// passwords do: an attempt counts while in flight and a success releases
// it. Errors: 400 FACTOR_NOT_AVAILABLE (a kind not allowed), 403
// INVALID_FACTOR, 429 TOO_MANY_FACTOR_ATTEMPTS.
func (m *Service) Verify(ctx context.Context, u *user.User, allowed []string, factor, code string) (string, error) {
	if !slices.Contains(allowed, factor) {
		return "", ErrFactorUnavailable
	}
	switch factor {
	case FactorEmail:
		if u.Email == "" {
			return "", ErrFactorUnavailable
		}
		return AMREmail, m.d.CheckEmailCode(ctx, u.Email, code)
	case FactorPassword:
		return AMRPassword, m.d.CheckPassword(ctx, u, code)
	case FactorTOTP, FactorRecovery:
	default:
		return "", ErrFactorUnavailable // e.g. passkey: its own endpoints
	}
	limits := []risk.Limit{{Key: fmt.Sprintf("m:u:%d", u.ID), Max: m.cfg.MaxAttempts, Window: m.cfg.AttemptWindow}}
	id := NewID()
	dctx, cancel := detached(ctx)
	wait, err := m.d.Risk.Take(dctx, limits, id, m.now())
	cancel()
	if err != nil {
		return "", err
	}
	if wait > 0 {
		return "", blocked(wait)
	}
	ok := false
	if factor == FactorTOTP {
		ok, err = m.verifyTOTP(ctx, u.ID, code)
	} else {
		ok, err = m.verifyRecovery(ctx, u, code)
	}
	if err == nil && !ok {
		return "", ErrInvalidFactor // the attempt keeps counting
	}
	dctx, cancel = detached(ctx)
	if rerr := m.d.Risk.Release(dctx, risk.Keys(limits), id); rerr != nil {
		m.d.Log.WarnContext(ctx, "simpleuser: releasing a factor attempt failed", slog.Any("error", rerr))
	}
	cancel()
	return AMROTP, err
}

// detached is ctx without its cancellation, bounded by 5 s: for the
// attempt bookkeeping, which must happen whatever the client does.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// verifyTOTP tries code on every confirmed authenticator of userID and
// spends the matched step of the first that takes it.
func (m *Service) verifyTOTP(ctx context.Context, userID int64, code string) (bool, error) {
	auths, err := m.store.Authenticators(ctx, userID)
	if err != nil {
		return false, err
	}
	now := m.now()
	for _, a := range auths {
		if !a.Confirmed() {
			continue
		}
		secret, err := m.kr.Open(userID, a.ID, a.Secret)
		if err != nil {
			return false, err // a key missing from Config: a 500, logged
		}
		step, ok := MatchTOTP(secret, code, now)
		if !ok {
			continue
		}
		if ok, err := m.store.AcceptStep(ctx, userID, a.ID, step, now); err != nil || ok {
			if ok && m.kr.NeedsReseal(a.Secret) {
				m.reseal(ctx, userID, a.ID, secret)
			}
			return ok, err
		}
		// Matched a step already spent: a replay. Another authenticator
		// cannot share the secret, so the answer is no.
		return false, nil
	}
	return false, nil
}

// reseal seals secret again under the current key (the app's secret was
// rotated: Config.OldSecrets), so that the old one can be dropped once
// every authenticator was used. A failure is logged: the old key still
// opens it.
func (m *Service) reseal(ctx context.Context, userID int64, id string, secret []byte) {
	sealed, err := m.kr.Seal(userID, id, secret)
	if err == nil {
		err = m.store.SetSecret(ctx, userID, id, sealed)
	}
	if err != nil {
		m.d.Log.WarnContext(ctx, "simpleuser: re-sealing a TOTP secret failed", slog.Any("error", err))
	}
}

func (m *Service) verifyRecovery(ctx context.Context, u *user.User, code string) (bool, error) {
	cands := m.kr.RecoveryDigests(u.ID, code)
	if cands == nil {
		return false, nil
	}
	ok, err := m.store.UseRecoveryCode(ctx, u.ID, cands)
	if err != nil || !ok {
		return false, err
	}
	m.d.Emit(ctx, hooks.Event{Type: hooks.RecoveryCodeUsed, User: u, Factor: FactorRecovery})
	m.Refresh(ctx, u.ID) // the last code gone: no longer a factor
	return true, nil
}

// ChallengeFactors are the factors that can complete the challenge of a
// session: its Factors, less the email code when the first factor was one
// (AMR "email": one channel is not two factors).
func ChallengeFactors(d *session.Data) []string {
	out := usable(d.Factors)
	if slices.Contains(d.AMR, AMREmail) {
		out = slices.DeleteFunc(out, func(f string) bool { return f == FactorEmail })
	}
	return out
}

// canComplete reports whether a challenge after a first factor by amr can
// be met with a factor other than a recovery code (the last resort, not a
// factor one signs in with every day).
func canComplete(factors []string, amr string) bool {
	d := session.Data{Factors: factors, AMR: []string{amr}}
	return slices.ContainsFunc(ChallengeFactors(&d), func(f string) bool { return f != FactorRecovery })
}

// Login decides whether a sign-in of userID by method amr (RFC 8176) into
// a session needs the second factor: MFA is on, the method is not already
// a strong one (a passkey: "hwk" or "swk", possession plus the user's PIN
// or biometrics), provider (the sign-in provider, "" for code and
// password) is not in Config.SkipForProviders, and deviceToken is not a
// valid, unrevoked trusted-device token of userID. It also returns the
// account's factor state, for the session.
func (m *Service) Login(ctx context.Context, userID int64, amr, provider, deviceToken string) (State, bool, error) {
	st, err := m.State(ctx, userID)
	strong := amr == AMRHardware || amr == AMRSoftware
	if err != nil || !st.Enabled || strong || m.SkipsChallenge(provider) {
		return st, false, err
	}
	if !canComplete(st.Factors, amr) {
		// An email-code sign-in into an account whose only second factor
		// is the email code: the mailbox was just proven, and one channel
		// is not two factors (ChallengeFactors drops it), so a challenge
		// could only be met with recovery codes, spending one per sign-in
		// until the account is locked out. The sign-in is not challenged.
		return st, false, nil
	}
	if deviceToken != "" {
		if uid, id, ok := m.kr.ParseDeviceToken(deviceToken, m.now()); ok && uid == userID {
			_, err := m.store.TrustedDevice(ctx, userID, id, m.now())
			if err == nil {
				return st, false, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return st, false, err
			}
		}
	}
	return st, true, nil
}

// Completion is a challenge completed: the full session's token, user and
// expiry and, when the user asked to trust the device, its token and
// expiry.
type Completion struct {
	Token           string
	UserID          int64
	ExpiresAt       time.Time
	DeviceToken     string
	DeviceExpiresAt time.Time
}

// sessionOf returns d, or when nil the session of token (any stage), and
// its user. session.ErrNotFound when the token names no live session.
func (m *Service) sessionOf(ctx context.Context, token string, d *session.Data) (*session.Data, *user.User, error) {
	if d == nil {
		var err error
		if d, err = m.d.Sessions.Get(ctx, token); err != nil {
			return nil, nil, err
		}
	}
	u, err := m.d.User(ctx, d)
	return d, u, err
}

// Complete finishes the sign-in of the challenge-stage session of token
// (d, its data when the caller has it, else nil) with a second factor:
// the factor is checked (Verify, among ChallengeFactors(d)), the challenge
// session ended and a full session issued with a fresh token, the methods
// of both factors in its AMR (plus "mfa") and AuthAt now: the old token is
// dead (no fixation). With trust, the device is trusted for
// Config.TrustDeviceFor (label: its description). Errors: those of Verify,
// 409 NOT_IN_CHALLENGE, session.ErrNotFound (401) when the session ended.
func (m *Service) Complete(ctx context.Context, token string, d *session.Data, factor, code string, trust bool, label string) (*Completion, error) {
	d, u, err := m.sessionOf(ctx, token, d)
	if err != nil {
		return nil, err
	}
	if d.Stage != session.StageMFA {
		return nil, ErrNotInChallenge
	}
	amr, err := m.Verify(ctx, u, ChallengeFactors(d), factor, code)
	if err != nil {
		return nil, err
	}
	return m.finish(ctx, token, u, amr, trust, label)
}

// CompleteVerified is Complete for a second factor the caller verified
// itself (a passkey assertion, package passkey): amr is its RFC 8176
// method ("hwk", "swk"). The session of token must be in the challenge
// stage (409 NOT_IN_CHALLENGE) and the caller must have checked that the
// factor belongs to that session's user.
func (m *Service) CompleteVerified(ctx context.Context, token string, d *session.Data, amr string, trust bool, label string) (*Completion, error) {
	d, u, err := m.sessionOf(ctx, token, d)
	if err != nil {
		return nil, err
	}
	if d.Stage != session.StageMFA {
		return nil, ErrNotInChallenge
	}
	return m.finish(ctx, token, u, amr, trust, label)
}

// finish ends the challenge session of token and issues the full one.
func (m *Service) finish(ctx context.Context, token string, u *user.User, amr string, trust bool, label string) (*Completion, error) {
	old, err := m.d.Sessions.End(ctx, token)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, session.ErrNotFound // completed or logged out concurrently
	}
	nd := *old
	nd.Stage, nd.ExpiresAt, nd.AuthAt = "", time.Time{}, m.now()
	nd.AMR = addAMR(old.AMR, amr, AMRMFA)
	out := &Completion{UserID: u.ID, ExpiresAt: m.now().Add(m.d.Sessions.SessionLifetime()).UTC()}
	if out.Token, err = m.d.Sessions.Create(ctx, nd); err != nil {
		return nil, err
	}
	if trust && m.cfg.TrustDeviceFor > 0 {
		if out.DeviceToken, out.DeviceExpiresAt, err = m.trust(ctx, u.ID, label); err != nil {
			m.d.Log.WarnContext(ctx, "simpleuser: trusting the device failed", slog.Any("error", err))
			out.DeviceToken = "" // signed in all the same; the next sign-in asks again
		}
	}
	return out, nil
}

// trust records a trusted device of userID, ending the oldest beyond
// Config.MaxTrustedDevices, and returns its token.
func (m *Service) trust(ctx context.Context, userID int64, label string) (string, time.Time, error) {
	now := m.now()
	if len(label) > MaxNameLength {
		cut := MaxNameLength
		for cut > 0 && !utf8.RuneStart(label[cut]) {
			cut-- // never split a character
		}
		label = label[:cut]
	}
	d := &TrustedDevice{UserID: userID, ID: NewID(), Label: label, CreatedAt: now, ExpiresAt: now.Add(m.cfg.TrustDeviceFor)}
	list, err := m.store.TrustedDevices(ctx, userID, now)
	if err != nil {
		return "", time.Time{}, err
	}
	if over := len(list) + 1 - m.cfg.MaxTrustedDevices; over > 0 {
		ids := make([]string, 0, over)
		for _, o := range list[:over] {
			ids = append(ids, o.ID)
		}
		if _, err := m.store.RemoveTrustedDevices(ctx, userID, ids...); err != nil {
			return "", time.Time{}, err
		}
	}
	if err := m.store.AddTrustedDevice(ctx, d); err != nil {
		return "", time.Time{}, err
	}
	return m.kr.DeviceToken(d), d.ExpiresAt, nil
}

func addAMR(amr []string, add ...string) []string {
	out := slices.Clone(amr)
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// ReauthFactors are what can re-authenticate u's session d: the password
// (when u has one and an address to sign in with), the session's factors,
// and the email code when it is one of them or the account has MFA off
// (an account signing in by code alone has nothing else).
func ReauthFactors(u *user.User, d *session.Data) []string {
	var out []string
	if u.PasswordSet() && u.Email != "" {
		out = append(out, FactorPassword)
	}
	out = append(out, usable(d.Factors)...)
	if u.Email != "" && !d.MFA && !slices.Contains(out, FactorEmail) {
		out = append(out, FactorEmail)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// StepUp returns 403 REAUTH_REQUIRED when the session d of u last
// authenticated (d.AuthAt; a session from before AuthAt was kept counts
// from its creation) longer ago than Config.StepUpWindow; nil otherwise,
// and always when the window is negative. It reads nothing.
func (m *Service) StepUp(u *user.User, d *session.Data) error {
	if m.cfg.StepUpWindow < 0 {
		return nil
	}
	at := d.AuthAt
	if at.IsZero() {
		at = d.CreatedAt
	}
	if m.now().Sub(at) <= m.cfg.StepUpWindow {
		return nil
	}
	return ReauthRequired(ReauthFactors(u, d))
}

// Reauth re-authenticates the full session of token (d, its data when
// the caller has it, else nil) with the password (factor "password") or a
// factor, among ReauthFactors: its AuthAt becomes now and the method joins
// its AMR, which opens the sensitive actions again (StepUp). It returns
// the new AuthAt. Errors: those of Verify, 403 MFA_REQUIRED for a
// challenge-stage session, session.ErrNotFound (401) when it ended.
func (m *Service) Reauth(ctx context.Context, token string, d *session.Data, factor, code string) (time.Time, error) {
	d, u, err := m.sessionOf(ctx, token, d)
	if err != nil {
		return time.Time{}, err
	}
	if d.Stage != "" {
		return time.Time{}, MFARequired(ChallengeFactors(d))
	}
	amr, err := m.Verify(ctx, u, ReauthFactors(u, d), factor, code)
	if err != nil {
		return time.Time{}, err
	}
	return m.reauthed(ctx, token, amr)
}

// ReauthVerified is Reauth for a factor the caller verified itself (a
// passkey assertion of the session's user): amr is its RFC 8176 method.
// The session must be a full one (403 MFA_REQUIRED otherwise).
func (m *Service) ReauthVerified(ctx context.Context, token string, d *session.Data, amr string) (time.Time, error) {
	d, _, err := m.sessionOf(ctx, token, d)
	if err != nil {
		return time.Time{}, err
	}
	if d.Stage != "" {
		return time.Time{}, MFARequired(ChallengeFactors(d))
	}
	return m.reauthed(ctx, token, amr)
}

// reauthed records an authentication by amr, now, in the session of token.
func (m *Service) reauthed(ctx context.Context, token, amr string) (time.Time, error) {
	now := m.now().UTC().Truncate(time.Millisecond)
	_, err := m.d.Sessions.Update(ctx, token, func(d *session.Data) {
		d.AuthAt, d.AMR = now, addAMR(d.AMR, amr)
	})
	return now, err
}

// SendCode sends a SecondFactor code to the address of the user of the
// session of token (d, its data when the caller has it, else nil), for
// completing its challenge (when the email code is among
// ChallengeFactors) or for Reauth, under the send limits of that purpose,
// which need the client in ctx (the middleware puts it there; a Go caller
// uses simpleuser.Service.WithClient). 400 FACTOR_NOT_AVAILABLE when the
// email code is not usable for it.
func (m *Service) SendCode(ctx context.Context, token string, d *session.Data) error {
	d, u, err := m.sessionOf(ctx, token, d)
	if err != nil {
		return err
	}
	allowed := ChallengeFactors(d)
	if d.Stage == "" {
		allowed = ReauthFactors(u, d)
	}
	if u.Email == "" || !slices.Contains(allowed, FactorEmail) {
		return ErrFactorUnavailable
	}
	return m.d.SendCode(ctx, u.Email)
}
