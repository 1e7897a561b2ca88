package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

// Config configures the factor flows (simpleuser.Config.MFA). Zero values
// mean the documented defaults; for the durations a negative value turns
// the feature off.
type Config struct {
	// Store keeps the factors. Default: in memory (mfa/memory), which a
	// restart loses: with users in PostgreSQL, use mfa/postgres.New on the
	// same pool (simpleuser.New logs a warning otherwise).
	Store Store
	// Issuer is the name authenticator apps show for the account (the
	// otpauth URI's issuer). Default "simpleuser".
	Issuer string
	// OldSecrets are app secrets used before the current one
	// (simpleuser.Config.Secret), newest first: TOTP secrets, recovery
	// codes and device tokens made under them stay usable. A TOTP secret
	// is sealed again under the current key at its next use; recovery
	// codes move with their next regeneration, device tokens expire.
	OldSecrets [][]byte
	// StepUpWindow is how long after an authentication a session may do
	// sensitive actions (change email or password, unlink a sign-in
	// method, manage factors, end other sessions, delete the account)
	// without re-authenticating. Default 10 min; negative: no step-up.
	StepUpWindow time.Duration
	// ChallengeTTL is the lifetime of a challenge-stage session (a correct
	// first factor, waiting for the second). Default 10 min.
	ChallengeTTL time.Duration
	// TrustDeviceFor is how long "trust this device" skips the second
	// factor on a device. Default 30 days; negative: the option is off.
	TrustDeviceFor time.Duration
	// MaxAttempts wrong TOTP or recovery codes per account within
	// AttemptWindow block further tries (429), as for passwords. Default
	// 5; negative disables.
	MaxAttempts int
	// AttemptWindow is the sliding window of MaxAttempts. Default 15 min.
	AttemptWindow time.Duration
	// MaxAuthenticators is the most TOTP authenticators one user may hold
	// (confirmed or not). Default 10.
	MaxAuthenticators int
	// MaxTrustedDevices is the most trusted devices one user may hold; a
	// new one beyond it replaces the oldest. Default 20.
	MaxTrustedDevices int
	// SkipForProviders names sign-in providers whose sign-in needs no
	// second factor (the provider enforces its own). Default: none, every
	// provider sign-in into an account with MFA on is challenged.
	SkipForProviders []string
	// ExtraFactors, when set, returns the factor kinds of userID this
	// package does not keep (FactorPasskey, from package passkey): they are
	// listed in sessions, /me and the login answer.
	ExtraFactors func(ctx context.Context, userID int64) ([]string, error)
}

// Defaults.
const (
	DefaultIssuer            = "simpleuser"
	DefaultStepUpWindow      = 10 * time.Minute
	DefaultChallengeTTL      = 10 * time.Minute
	DefaultTrustDeviceFor    = 30 * 24 * time.Hour
	DefaultMaxAttempts       = 5
	DefaultAttemptWindow     = 15 * time.Minute
	DefaultMaxAuthenticators = 10
	DefaultMaxTrustedDevices = 20
)

// Deps is what the service lends the flows (simpleuser.New fills it).
type Deps struct {
	Secret   []byte
	Risk     risk.Store
	Sessions *session.Manager
	// WithTx runs fn in one transaction of the user store (the factor
	// store on PostgreSQL joins it); events emitted inside are delivered
	// after commit.
	WithTx func(ctx context.Context, fn func(ctx context.Context) error) error
	// Emit delivers an event after the current transaction commits.
	Emit func(ctx context.Context, e hooks.Event)
	// CheckEmailCode checks and spends a SecondFactor code sent to email.
	CheckEmailCode func(ctx context.Context, email, code string) error
	// CheckPassword checks u's password under the password attempt limits.
	CheckPassword func(ctx context.Context, u *user.User, pw string) error
	// SendCode sends a SecondFactor code to email under the send limits.
	SendCode func(ctx context.Context, email string) error
	// User loads the user of session d: an error for one unregistered
	// (401) or disabled (403) since.
	User func(ctx context.Context, d *session.Data) (*user.User, error)
	Now  func() time.Time
	Log  *slog.Logger
}

// Service runs the factor flows. Create it with New.
type Service struct {
	cfg   Config
	d     Deps
	kr    *Keyring
	store Store
	locks [64]sync.Mutex // striped by user id: see change
}

// New validates cfg (errors name the field, relative to
// simpleuser.Config) and returns the service. cfg.Store must be set.
func New(cfg Config, d Deps) (*Service, error) {
	var errs []error
	bad := func(field, why string) { errs = append(errs, fmt.Errorf("simpleuser: Config.MFA.%s %s", field, why)) }
	if cfg.Store == nil {
		bad("Store", "is required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	dur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	dur(&cfg.StepUpWindow, DefaultStepUpWindow)
	dur(&cfg.ChallengeTTL, DefaultChallengeTTL)
	dur(&cfg.TrustDeviceFor, DefaultTrustDeviceFor)
	dur(&cfg.AttemptWindow, DefaultAttemptWindow)
	if cfg.ChallengeTTL < time.Second {
		bad("ChallengeTTL", "must be at least 1 s")
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxAttempts > 0 && cfg.AttemptWindow < time.Millisecond {
		bad("AttemptWindow", "must be at least 1 ms while MaxAttempts is enabled")
	}
	if cfg.MaxAuthenticators <= 0 {
		cfg.MaxAuthenticators = DefaultMaxAuthenticators
	}
	if cfg.MaxTrustedDevices <= 0 {
		cfg.MaxTrustedDevices = DefaultMaxTrustedDevices
	}
	kr, err := NewKeyring(d.Secret, cfg.OldSecrets...)
	if err != nil {
		bad("OldSecrets", err.Error())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, d: d, kr: kr, store: cfg.Store}, nil
}

// Config returns the effective configuration (defaults applied).
func (m *Service) Config() Config { return m.cfg }

// Store returns the factor store.
func (m *Service) Store() Store { return m.store }

// Keyring returns the keys derived from the app's secrets.
func (m *Service) Keyring() *Keyring { return m.kr }

func (m *Service) now() time.Time { return m.d.Now() }

// State is what a sign-in needs to know of an account's factors.
type State struct {
	// Enabled: the account has MFA on.
	Enabled bool
	// Factors are the factor kinds the account has (FactorTOTP,
	// FactorRecovery, FactorEmail, FactorPasskey...), in that order.
	Factors []string
}

// State reads the factor state of userID: the settings, and when MFA is
// on the authenticators and recovery codes (an account with MFA off has
// none: the flows turn MFA on with the first factor and remove them all
// when it goes off), plus ExtraFactors. A sign-in into an account without
// MFA costs one read of the factor store.
func (m *Service) State(ctx context.Context, userID int64) (State, error) {
	st, err := m.store.Settings(ctx, userID)
	if err != nil {
		return State{}, err
	}
	out := State{Enabled: st.Enabled}
	if !st.Enabled {
		return out, m.extra(ctx, userID, &out)
	}
	auths, err := m.store.Authenticators(ctx, userID)
	if err != nil {
		return State{}, err
	}
	if slices.ContainsFunc(auths, func(a Authenticator) bool { return a.Confirmed() }) {
		out.Factors = append(out.Factors, FactorTOTP)
	}
	n, err := m.store.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return State{}, err
	}
	if n > 0 {
		out.Factors = append(out.Factors, FactorRecovery)
	}
	if st.EmailFactor {
		out.Factors = append(out.Factors, FactorEmail)
	}
	return out, m.extra(ctx, userID, &out)
}

// extra appends the ExtraFactors of userID to st.
func (m *Service) extra(ctx context.Context, userID int64, st *State) error {
	if m.cfg.ExtraFactors == nil {
		return nil
	}
	extra, err := m.cfg.ExtraFactors(ctx, userID)
	st.Factors = append(st.Factors, extra...)
	return err
}

// SkipsChallenge reports whether a sign-in with provider ("" for code and
// password) skips the second factor (Config.SkipForProviders).
func (m *Service) SkipsChallenge(provider string) bool {
	return provider != "" && slices.Contains(m.cfg.SkipForProviders, provider)
}

// ChallengeTTL returns the lifetime of a challenge-stage session.
func (m *Service) ChallengeTTL() time.Duration { return m.cfg.ChallengeTTL }

// Refresh writes the account's factor state into every live session of
// userID (session.Data.MFA and Factors), so that requests keep answering
// from the session alone. It runs after the change committed; a failure
// is logged (the sessions show the old list until they are renewed). A
// package keeping factors of its own (passkeys) calls it after a change.
func (m *Service) Refresh(ctx context.Context, userID int64) {
	st, err := m.State(ctx, userID)
	if err == nil {
		_, err = m.d.Sessions.UpdateUser(ctx, userID, func(d *session.Data) {
			d.MFA, d.Factors = st.Enabled, st.Factors
		})
	}
	if err != nil {
		m.d.Log.WarnContext(ctx, "simpleuser: updating the sessions' factor list failed", slog.Any("error", err))
	}
}

// event emits typ for u with the factor kind and name.
func (m *Service) event(ctx context.Context, typ string, u *user.User, factor, name string) {
	m.d.Emit(ctx, hooks.Event{Type: typ, User: u, Factor: factor, FactorName: name})
}

// mapStore turns the store's sentinel errors into the flows' errors.
func mapStore(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrFactorNotFound
	case errors.Is(err, ErrNameTaken):
		return ErrFactorNameTaken
	}
	return err
}
