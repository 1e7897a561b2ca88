// Package config holds the configuration of a simpleuser Service: Config
// (every field documented with its default), the Default* values, and
// WithDefaults, which applies them and validates the whole, naming the
// field in any error. The root package re-exports it (simpleuser.Config is
// an alias of Config), so apps write simpleuser.Config{...}.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/browser"
	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth/signin"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/phone"
	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
)

// Config configures a simpleuser.Service (simpleuser.New). The zero value
// of every field means its documented default; for the rules (cooldowns,
// attempt limits) a negative value disables the rule. WithDefaults (which
// New calls) validates the config and names the field in any error.
type Config struct {
	// Users keeps auth users. Default: in-memory (user/memory).
	Users user.Store
	// SessionStore keeps session bodies (an scs store). Default: scs/memstore.
	// SessionIndex must be set together with it.
	SessionStore session.Store
	// SessionIndex is the per-user session index. Default: in-memory.
	SessionIndex session.Index
	// Codes keeps one-time codes. Default: in-memory (code/memory).
	Codes code.Store
	// Risk keeps cooldowns and attempt counters. Default: in-memory (risk/memory).
	Risk risk.Store

	// Hooks are the app's extension points; Hooks.SendCode is required.
	Hooks hooks.Hooks
	// Logger receives structured logs (never codes, passwords, tokens or hashes).
	// Default: slog.Default(). New wraps its handler with logging.Handler, so
	// each line logged for a request carries its request id.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Metrics receives what operators watch: logins, codes sent, rate-limit
	// refusals by rule, sessions created and ended, backend errors, the
	// password hasher's queue wait and hash time, and (through package
	// handlers) request latency by route. metrics/prommetrics implements
	// it with Prometheus; see package metrics and docs/operations.md.
	// Default: metrics.Nop (nothing is measured, nothing is timed).
	Metrics metrics.Observer
	// Secret keys the HMAC of stored codes. Set the same value on every
	// instance sharing a Redis. Default: empty key (codes are still salted and
	// hashed, but a dump of the store could be brute-forced offline).
	Secret []byte

	// DisableAnonymous turns anonymous users off: requests without a token get 401.
	DisableAnonymous bool

	// CodeTTL is how long a sent code stays valid. Default 10 min.
	CodeTTL time.Duration
	// SendCooldown is the wait between two sends of a code for one purpose
	// to one email address, and from one device (ssaid). Default 60 s;
	// negative disables both.
	SendCooldown time.Duration
	// SendAddressLimit is the budget of sends per purpose from one client
	// address (an IPv6 address counts by its /64) within SendAddressWindow:
	// a budget rather than a cooldown, so people behind one NAT address do
	// not block each other. Default 20; negative disables.
	SendAddressLimit int
	// SendAddressWindow is the sliding window of SendAddressLimit. Default 10 min.
	SendAddressWindow time.Duration
	// VerifyMaxAttempts wrong codes per email+purpose within VerifyWindow
	// block further tries. Default 5; negative disables.
	VerifyMaxAttempts int
	// VerifyWindow is the sliding window of VerifyMaxAttempts. Default 15 min.
	VerifyWindow time.Duration
	// PasswordMaxAttempts is the number of password failures within
	// PasswordWindow, per account and per device (ssaid), that block further
	// tries on that account or device (429). Attempts in flight count.
	// Default 5; negative disables.
	PasswordMaxAttempts int
	// PasswordWindow is the sliding window of PasswordMaxAttempts. Default 15 min.
	PasswordWindow time.Duration
	// PasswordAddressMaxAttempts is the number of password failures within
	// PasswordAddressWindow from one client address (IPv6: its /64), on any
	// accounts, that block further tries from it: high enough that people
	// behind one NAT address are not locked out by each other's typos, low
	// enough to stop spraying. Default 100; negative disables.
	PasswordAddressMaxAttempts int
	// PasswordAddressWindow is the sliding window of
	// PasswordAddressMaxAttempts. Default 15 min.
	PasswordAddressWindow time.Duration
	// AnonymousAddressLimit is the budget of anonymous users created for
	// one client address (IPv6: its /64) within AnonymousAddressWindow;
	// beyond it a request that would create one gets 429. It bounds how fast
	// one address can grow the users table by rotating ssaids. Default 1000;
	// negative disables.
	AnonymousAddressLimit int
	// AnonymousAddressWindow is the sliding window of AnonymousAddressLimit.
	// Default 1 h.
	AnonymousAddressWindow time.Duration

	// SessionLifetime is the absolute lifetime of a session. Default 30 days.
	SessionLifetime time.Duration
	// SessionIdleTimeout ends sessions unused for that long. Default 0: none.
	SessionIdleTimeout time.Duration
	// MaxSessionsPerUser is the most live sessions one user may hold: a
	// login beyond it ends the user's oldest session (the one expiring
	// first), which keeps the per-user session index bounded. Default 50;
	// negative: no cap.
	MaxSessionsPerUser int
	// UnregisterGrace is how long an unregistered account can be recovered by
	// logging in. Default 30 days; negative means no grace (gone at once).
	UnregisterGrace time.Duration
	// ActiveTouchInterval bounds how often last-active time is written per
	// user, and a session's last use (its lastSeenAt) per session: a request
	// writes neither more than once per interval. Default 1 min; negative
	// disables both writes.
	ActiveTouchInterval time.Duration

	// PasswordMinLength is the minimum password length in bytes. Default 8; negative: no minimum.
	PasswordMinLength int
	// PasswordMaxLength is the maximum password length in bytes. Default 1024.
	PasswordMaxLength int
	// Argon2 are the argon2id parameters. Zero fields: OWASP defaults (m=19 MiB, t=2, p=1).
	Argon2 password.Params
	// HashConcurrency is the number of argon2id hashes allowed at once. Default: number of CPUs.
	HashConcurrency int
	// InitialUsers are created idempotently by New (seed or admin accounts):
	// a missing one is created; an existing one gets the configured metadata
	// keys, and the configured password when its current one differs.
	InitialUsers []InitialUser

	// HashMaxWait is how long a password operation waits for a hashing slot
	// before the request gets 503 with Retry-After. Default 5 s.
	HashMaxWait time.Duration

	// OAuth configures sign-in with OAuth 2.0 / OpenID Connect providers.
	// Default: none.
	OAuth signin.Config

	// Browser configures cookie mode and the origins trusted by CORS and
	// the CSRF check (see browser.Config). Default: cookie mode off, no
	// trusted origin.
	Browser browser.Config

	// Passkeys configures passkeys (WebAuthn): registration by signed-in
	// users and usernameless sign-in. Default: off.
	Passkeys passkey.Options

	// MFA configures second factors, step-up and trusted devices (see
	// mfa.Config and docs/factors.md). Its Store defaults to memory; with
	// users in PostgreSQL give it mfa/postgres.New on the same pool.
	MFA mfa.Config

	// Phone configures phone numbers (sign-in and account numbers by SMS
	// code through Hooks.SendSMS; docs/sign-in-methods.md).
	Phone phone.Config
	// RequireVerifiedEmail makes the middleware's guards refuse a session
	// whose account has no verified email address (403 EMAIL_NOT_VERIFIED).
	RequireVerifiedEmail bool
	// Tenants configures tenants, memberships and roles (package tenant):
	// the store and which tenant a new session starts in.
	Tenants tenant.Config
}

// Defaults.
const (
	DefaultCodeTTL             = 10 * time.Minute
	DefaultSendCooldown        = time.Minute
	DefaultVerifyMaxAttempts   = 5
	DefaultVerifyWindow        = 15 * time.Minute
	DefaultPasswordMaxAttempts = 5
	DefaultPasswordWindow      = 15 * time.Minute

	DefaultSendAddressLimit           = 20
	DefaultSendAddressWindow          = 10 * time.Minute
	DefaultPasswordAddressMaxAttempts = 100
	DefaultPasswordAddressWindow      = 15 * time.Minute
	DefaultAnonymousAddressLimit      = 1000
	DefaultAnonymousAddressWindow     = time.Hour

	DefaultSessionLifetime     = 30 * 24 * time.Hour
	DefaultMaxSessionsPerUser  = 50
	DefaultUnregisterGrace     = 30 * 24 * time.Hour
	DefaultActiveTouchInterval = time.Minute
	DefaultPasswordMinLength   = 8
	DefaultPasswordMaxLength   = 1024
)

func orDuration(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// WithDefaults returns a copy of c with defaults applied, or an error
// naming every invalid field (errors.Join); simpleuser.New calls it.
func (c Config) WithDefaults() (Config, error) {
	var errs []error
	bad := func(field, why string) { errs = append(errs, fmt.Errorf("simpleuser: Config.%s %s", field, why)) }

	if c.Hooks.SendCode == nil {
		bad("Hooks.SendCode", "is required")
	}
	if !phone.ValidRegion(c.Phone.DefaultRegion) {
		bad("Phone.DefaultRegion", "must be an ISO 3166-1 alpha-2 region with a numbering plan")
	}
	if (c.SessionStore == nil) != (c.SessionIndex == nil) {
		bad("SessionIndex", "must be set together with Config.SessionStore")
	}
	c.Logger = logging.Logger(c.Logger) // every line carries its request's id
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Nop{}
	}
	c.CodeTTL = orDuration(c.CodeTTL, DefaultCodeTTL)
	if c.CodeTTL < 0 {
		bad("CodeTTL", "must not be negative")
	}
	c.SendCooldown = orDuration(c.SendCooldown, DefaultSendCooldown)
	c.SendAddressLimit = orInt(c.SendAddressLimit, DefaultSendAddressLimit)
	c.SendAddressWindow = orDuration(c.SendAddressWindow, DefaultSendAddressWindow)
	c.PasswordAddressMaxAttempts = orInt(c.PasswordAddressMaxAttempts, DefaultPasswordAddressMaxAttempts)
	c.PasswordAddressWindow = orDuration(c.PasswordAddressWindow, DefaultPasswordAddressWindow)
	c.AnonymousAddressLimit = orInt(c.AnonymousAddressLimit, DefaultAnonymousAddressLimit)
	c.AnonymousAddressWindow = orDuration(c.AnonymousAddressWindow, DefaultAnonymousAddressWindow)
	c.VerifyMaxAttempts = orInt(c.VerifyMaxAttempts, DefaultVerifyMaxAttempts)
	c.VerifyWindow = orDuration(c.VerifyWindow, DefaultVerifyWindow)
	c.PasswordMaxAttempts = orInt(c.PasswordMaxAttempts, DefaultPasswordMaxAttempts)
	c.PasswordWindow = orDuration(c.PasswordWindow, DefaultPasswordWindow)
	for _, w := range []struct {
		limit          int
		window         time.Duration
		field, ofLimit string
	}{
		{c.SendAddressLimit, c.SendAddressWindow, "SendAddressWindow", "SendAddressLimit"},
		{c.PasswordAddressMaxAttempts, c.PasswordAddressWindow, "PasswordAddressWindow", "PasswordAddressMaxAttempts"},
		{c.AnonymousAddressLimit, c.AnonymousAddressWindow, "AnonymousAddressWindow", "AnonymousAddressLimit"},
		{c.VerifyMaxAttempts, c.VerifyWindow, "VerifyWindow", "VerifyMaxAttempts"},
		{c.PasswordMaxAttempts, c.PasswordWindow, "PasswordWindow", "PasswordMaxAttempts"},
	} {
		if w.limit > 0 && w.window < time.Millisecond {
			bad(w.field, "must be at least 1 ms while "+w.ofLimit+" is enabled")
		}
	}
	c.SessionLifetime = orDuration(c.SessionLifetime, DefaultSessionLifetime)
	if c.SessionLifetime < 0 {
		bad("SessionLifetime", "must not be negative")
	}
	if c.SessionIdleTimeout < 0 {
		bad("SessionIdleTimeout", "must not be negative")
	}
	c.MaxSessionsPerUser = orInt(c.MaxSessionsPerUser, DefaultMaxSessionsPerUser)
	c.UnregisterGrace = orDuration(c.UnregisterGrace, DefaultUnregisterGrace)
	c.ActiveTouchInterval = orDuration(c.ActiveTouchInterval, DefaultActiveTouchInterval)
	c.PasswordMinLength = orInt(c.PasswordMinLength, DefaultPasswordMinLength)
	c.PasswordMaxLength = orInt(c.PasswordMaxLength, DefaultPasswordMaxLength)
	if c.PasswordMaxLength < 0 {
		bad("PasswordMaxLength", "must not be negative")
	} else if c.PasswordMinLength > c.PasswordMaxLength {
		bad("PasswordMinLength", fmt.Sprintf("(%d) exceeds Config.PasswordMaxLength (%d)", c.PasswordMinLength, c.PasswordMaxLength))
	}
	for i, iu := range c.InitialUsers {
		if c.PasswordMaxLength >= 0 && len(iu.Password) > c.PasswordMaxLength {
			bad(fmt.Sprintf("InitialUsers[%d].Password", i), fmt.Sprintf("is longer than Config.PasswordMaxLength (%d bytes)", c.PasswordMaxLength))
		}
	}
	if c.HashConcurrency < 0 {
		bad("HashConcurrency", "must not be negative")
	}
	if c.HashMaxWait < 0 {
		bad("HashMaxWait", "must not be negative")
	}
	if c.Argon2.Memory != 0 && c.Argon2.Memory < 8*uint32(max(c.Argon2.Threads, 1)) {
		bad("Argon2.Memory", "must be at least 8 KiB per thread")
	}
	if c.OAuth.StateTTL < 0 {
		bad("OAuth.StateTTL", "must not be negative")
	}
	c.Browser = c.Browser.WithDefaults(bad)
	if err := c.Passkeys.Check(); err != nil {
		errs = append(errs, fmt.Errorf("simpleuser: Config.Passkeys.%w", err))
	}
	return c, errors.Join(errs...)
}

// InitialUser is a seed or admin account created at start if missing.
type InitialUser struct {
	Email    string
	Password string         // optional; set when the account has none or it no longer matches
	Metadata map[string]any // optional; keys are (re)applied at every start
}
