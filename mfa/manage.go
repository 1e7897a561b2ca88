package mfa

import (
	"context"
	"fmt"
	"slices"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/user"
)

// What a user does with their own factors. The caller has checked the
// step-up (a recent authentication) where the flow needs one; Disable
// checks a current factor itself.

// Status is a user's factors as the user may see them (no secret).
type Status struct {
	Enabled     bool
	EmailFactor bool
	// Authenticators are the TOTP authenticators, oldest first, their
	// Secret cleared.
	Authenticators    []Authenticator
	RecoveryCodesLeft int
	TrustedDevices    []TrustedDevice
}

// Status returns the factors of userID.
func (m *Service) Status(ctx context.Context, userID int64) (*Status, error) {
	st, err := m.store.Settings(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := &Status{Enabled: st.Enabled, EmailFactor: st.EmailFactor}
	if out.Authenticators, err = m.store.Authenticators(ctx, userID); err != nil {
		return nil, err
	}
	for i := range out.Authenticators {
		out.Authenticators[i].Secret = nil
	}
	if out.RecoveryCodesLeft, err = m.store.RecoveryCodesLeft(ctx, userID); err != nil {
		return nil, err
	}
	if out.TrustedDevices, err = m.store.TrustedDevices(ctx, userID, m.now()); err != nil {
		return nil, err
	}
	return out, nil
}

// checkName trims an authenticator name and checks it (textcheck.Name): at
// most MaxNameLength characters of text without invisible or control
// characters ("" becomes "Authenticator").
func checkName(name string) (string, error) {
	name, ok := textcheck.Name(name, MaxNameLength)
	if !ok {
		return "", &Error{Status: 400, Code: "INVALID_INPUT", Message: fmt.Sprintf("name must be at most %d characters of text, without control or invisible characters", MaxNameLength)}
	}
	if name == "" {
		name = "Authenticator"
	}
	return name, nil
}

// EnrolTOTP starts adding a TOTP authenticator named name to u: a fresh
// secret, sealed and stored unconfirmed (it cannot sign in until
// ConfirmTOTP). It returns the record and what the user scans (the
// otpauth URI, its QR code, the secret in base32), shown once. Errors:
// 400 bad name, 409 FACTOR_NAME_TAKEN, 409 TOO_MANY_FACTORS.
func (m *Service) EnrolTOTP(ctx context.Context, u *user.User, name string) (*Authenticator, *Enrolment, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, nil, err
	}
	list, err := m.store.Authenticators(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(list) >= m.cfg.MaxAuthenticators {
		return nil, nil, ErrTooManyFactors
	}
	secret, err := NewTOTPSecret()
	if err != nil {
		return nil, nil, err
	}
	account := u.Email
	if account == "" {
		account = fmt.Sprintf("user %d", u.ID)
	}
	enr, err := NewEnrolment(m.cfg.Issuer, account, secret)
	if err != nil {
		return nil, nil, err
	}
	a := &Authenticator{UserID: u.ID, ID: NewID(), Name: name, CreatedAt: m.now()}
	if a.Secret, err = m.kr.Seal(u.ID, a.ID, secret); err != nil {
		return nil, nil, err
	}
	if err := m.store.AddAuthenticator(ctx, a); err != nil {
		return nil, nil, mapStore(err)
	}
	out := *a
	out.Secret = nil
	return &out, enr, nil
}

// ConfirmTOTP proves authenticator id of u with a first code (its time
// step is then spent: the same code cannot sign in). The first factor of
// an account turns MFA on and, when the account has no recovery codes
// left, generates them: they are returned (shown once), else nil. Events:
// FactorAdded, MFAEnabled when it turned on. Errors: 404
// FACTOR_NOT_FOUND, 403 INVALID_FACTOR.
func (m *Service) ConfirmTOTP(ctx context.Context, u *user.User, id, code string) ([]string, error) {
	a, err := m.store.Authenticator(ctx, u.ID, id)
	if err != nil {
		return nil, mapStore(err)
	}
	secret, err := m.kr.Open(u.ID, a.ID, a.Secret)
	if err != nil {
		return nil, err
	}
	now := m.now()
	step, ok := MatchTOTP(secret, code, now)
	if !ok {
		return nil, ErrInvalidFactor
	}
	var codes []string
	err = m.change(ctx, u.ID, func(ctx context.Context) error {
		if ok, err := m.store.AcceptStep(ctx, u.ID, a.ID, step, now); err != nil || !ok {
			if err == nil {
				err = ErrInvalidFactor // that step was used: wait for the next code
			}
			return err
		}
		if a.Confirmed() {
			return nil // already confirmed: the code merely checked out
		}
		m.event(ctx, hooks.FactorAdded, u, FactorTOTP, a.Name)
		codes, err = m.turnOn(ctx, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Refresh(ctx, u.ID)
	return codes, nil
}

// change runs fn, a change of userID's factors, as one unit: in one
// transaction of the user store whose first statement locks the user's
// settings row (PostgreSQL: concurrent changes of one user's factors, on
// any instance, take turns), and under a lock of this process (the memory
// store has no transaction). So two concurrent removals cannot each
// remove one of the last two factors, nor two first factors each
// generate recovery codes.
func (m *Service) change(ctx context.Context, userID int64, fn func(ctx context.Context) error) error {
	mu := &m.locks[uint64(userID)%uint64(len(m.locks))]
	mu.Lock()
	defer mu.Unlock()
	return m.d.WithTx(ctx, func(ctx context.Context) error {
		if _, err := m.store.UpdateSettings(ctx, userID, SettingsPatch{}, m.now()); err != nil {
			return err
		}
		return fn(ctx)
	})
}

// turnOn enables MFA for u if it is off (event MFAEnabled) and, when u has
// no recovery codes left, generates a set and returns it. Inside change.
func (m *Service) turnOn(ctx context.Context, u *user.User) ([]string, error) {
	st, err := m.store.Settings(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !st.Enabled {
		on := true
		if _, err := m.store.UpdateSettings(ctx, u.ID, SettingsPatch{Enabled: &on}, m.now()); err != nil {
			return nil, err
		}
		m.event(ctx, hooks.MFAEnabled, u, "", "")
	}
	n, err := m.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil || n > 0 {
		return nil, err
	}
	return m.newRecoveryCodes(ctx, u)
}

func (m *Service) newRecoveryCodes(ctx context.Context, u *user.User) ([]string, error) {
	codes, err := NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	digests := make([][]byte, len(codes))
	for i, c := range codes {
		digests[i] = m.kr.RecoveryDigest(u.ID, c)
	}
	if err := m.store.ReplaceRecoveryCodes(ctx, u.ID, digests, m.now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// RemoveTOTP removes authenticator id of u (event FactorRemoved). With MFA
// on, the last second factor cannot be removed: 409 LAST_FACTOR (turning
// MFA off needs a current code: Disable). 404 FACTOR_NOT_FOUND.
func (m *Service) RemoveTOTP(ctx context.Context, u *user.User, id string) error {
	err := m.change(ctx, u.ID, func(ctx context.Context) error {
		a, err := m.store.Authenticator(ctx, u.ID, id)
		if err != nil {
			return mapStore(err)
		}
		if a.Confirmed() {
			if err := m.keepsAFactor(ctx, u.ID, FactorTOTP, a.ID); err != nil {
				return err
			}
			m.event(ctx, hooks.FactorRemoved, u, FactorTOTP, a.Name)
		}
		return mapStore(m.store.RemoveAuthenticator(ctx, u.ID, id))
	})
	if err == nil {
		m.Refresh(ctx, u.ID)
	}
	return err
}

// keepsAFactor returns ErrLastFactor when MFA is on and removing the
// factor (kind, and for TOTP the authenticator id) would leave no second
// factor but recovery codes.
func (m *Service) keepsAFactor(ctx context.Context, userID int64, kind, id string) error {
	st, err := m.store.Settings(ctx, userID)
	if err != nil || !st.Enabled {
		return err
	}
	if st.EmailFactor && kind != FactorEmail {
		return nil
	}
	auths, err := m.store.Authenticators(ctx, userID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(auths, func(a Authenticator) bool { return a.Confirmed() && a.ID != id }) {
		return nil
	}
	if m.cfg.ExtraFactors != nil {
		extra, err := m.cfg.ExtraFactors(ctx, userID)
		if err != nil || len(extra) > 0 {
			return err
		}
	}
	return ErrLastFactor
}

// RegenerateRecoveryCodes replaces u's recovery codes with a fresh set,
// returned once; the old set is void at once. Event FactorAdded
// ("recovery"). 400 FACTOR_NOT_AVAILABLE when MFA is off.
func (m *Service) RegenerateRecoveryCodes(ctx context.Context, u *user.User) ([]string, error) {
	var codes []string
	err := m.change(ctx, u.ID, func(ctx context.Context) error {
		st, err := m.store.Settings(ctx, u.ID)
		if err != nil {
			return err
		}
		if !st.Enabled {
			return ErrFactorUnavailable
		}
		codes, err = m.newRecoveryCodes(ctx, u)
		m.event(ctx, hooks.FactorAdded, u, FactorRecovery, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Refresh(ctx, u.ID)
	return codes, nil
}

// SetEmailFactor turns the email code on or off as a second factor of u
// (a SecondFactor code sent to u's address). On: 400 FACTOR_NOT_AVAILABLE
// without an address; the first factor turns MFA on and may return fresh
// recovery codes, as ConfirmTOTP. Off: 409 LAST_FACTOR when it is the last
// one. Events FactorAdded / FactorRemoved ("email"), MFAEnabled.
func (m *Service) SetEmailFactor(ctx context.Context, u *user.User, on bool) ([]string, error) {
	if on && u.Email == "" {
		return nil, ErrFactorUnavailable
	}
	var codes []string
	err := m.change(ctx, u.ID, func(ctx context.Context) error {
		st, err := m.store.Settings(ctx, u.ID)
		if err != nil || st.EmailFactor == on {
			return err
		}
		if !on {
			if err := m.keepsAFactor(ctx, u.ID, FactorEmail, ""); err != nil {
				return err
			}
		}
		if _, err := m.store.UpdateSettings(ctx, u.ID, SettingsPatch{EmailFactor: &on}, m.now()); err != nil {
			return err
		}
		if !on {
			m.event(ctx, hooks.FactorRemoved, u, FactorEmail, "")
			return nil
		}
		m.event(ctx, hooks.FactorAdded, u, FactorEmail, "")
		codes, err = m.turnOn(ctx, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Refresh(ctx, u.ID)
	return codes, nil
}

// Disable turns MFA off for u, proven by a current factor (factor and
// code, as Verify takes them; a recent sign-in alone is not enough): every
// authenticator, recovery code and trusted device of u is deleted and the
// email factor turned off. Event MFADisabled. 400 FACTOR_NOT_AVAILABLE
// when MFA is off.
func (m *Service) Disable(ctx context.Context, u *user.User, factor, code string) error {
	st, err := m.State(ctx, u.ID)
	if err != nil {
		return err
	}
	if !st.Enabled {
		return ErrFactorUnavailable
	}
	if _, err := m.Verify(ctx, u, st.Factors, factor, code); err != nil {
		return err
	}
	return m.Reset(ctx, u)
}

// Reset turns MFA off for u without a factor, as Disable does after its
// check: for an administrator (a support desk that verified the person
// out of band) or the app's own recovery flow. Event MFADisabled. It
// never runs on a request's say-so alone: the JSON API has no route to it.
func (m *Service) Reset(ctx context.Context, u *user.User) error {
	err := m.change(ctx, u.ID, func(ctx context.Context) error {
		st, err := m.store.Settings(ctx, u.ID)
		if err != nil {
			return err
		}
		off := false
		if _, err := m.store.UpdateSettings(ctx, u.ID, SettingsPatch{Enabled: &off, EmailFactor: &off}, m.now()); err != nil {
			return err
		}
		auths, err := m.store.Authenticators(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, a := range auths {
			if err := m.store.RemoveAuthenticator(ctx, u.ID, a.ID); err != nil {
				return err
			}
		}
		if err := m.store.ReplaceRecoveryCodes(ctx, u.ID, nil, m.now()); err != nil {
			return err
		}
		if _, err := m.store.RemoveTrustedDevices(ctx, u.ID); err != nil {
			return err
		}
		if st.Enabled {
			m.event(ctx, hooks.MFADisabled, u, "", "")
		}
		return nil
	})
	if err == nil {
		m.Refresh(ctx, u.ID)
	}
	return err
}

// RevokeDevices ends the trust of u's devices of ids (none: all of them)
// and returns how many it revoked; their tokens no longer skip the second
// factor.
func (m *Service) RevokeDevices(ctx context.Context, userID int64, ids ...string) (int, error) {
	return m.store.RemoveTrustedDevices(ctx, userID, ids...)
}
