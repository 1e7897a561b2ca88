package simpleuser

import (
	"github.com/simpleuser/simpleuser/config"
	"github.com/simpleuser/simpleuser/oauth/signin"
)

// Config configures a Service: the stores, hooks, limits and
// capabilities, each field documented with its default in config.Config.
// The zero value of every field means its documented default; for the
// rules (cooldowns, attempt limits) a negative value disables the rule.
// New validates the config (Config.WithDefaults) and names the field in any
// error.
type Config = config.Config

// InitialUser is a seed or admin account created at start if missing
// (config.InitialUser).
type InitialUser = config.InitialUser

// OAuthConfig configures sign-in with providers (package oauth; see
// signin.Config for each field and its default).
type OAuthConfig = signin.Config

// Defaults of Config's fields (config's Default* constants).
const (
	DefaultCodeTTL                    = config.DefaultCodeTTL
	DefaultSendCooldown               = config.DefaultSendCooldown
	DefaultVerifyMaxAttempts          = config.DefaultVerifyMaxAttempts
	DefaultVerifyWindow               = config.DefaultVerifyWindow
	DefaultPasswordMaxAttempts        = config.DefaultPasswordMaxAttempts
	DefaultPasswordWindow             = config.DefaultPasswordWindow
	DefaultSendAddressLimit           = config.DefaultSendAddressLimit
	DefaultSendAddressWindow          = config.DefaultSendAddressWindow
	DefaultPasswordAddressMaxAttempts = config.DefaultPasswordAddressMaxAttempts
	DefaultPasswordAddressWindow      = config.DefaultPasswordAddressWindow
	DefaultAnonymousAddressLimit      = config.DefaultAnonymousAddressLimit
	DefaultAnonymousAddressWindow     = config.DefaultAnonymousAddressWindow
	DefaultSessionLifetime            = config.DefaultSessionLifetime
	DefaultMaxSessionsPerUser         = config.DefaultMaxSessionsPerUser
	DefaultUnregisterGrace            = config.DefaultUnregisterGrace
	DefaultActiveTouchInterval        = config.DefaultActiveTouchInterval
	DefaultPasswordMinLength          = config.DefaultPasswordMinLength
	DefaultPasswordMaxLength          = config.DefaultPasswordMaxLength
)
