package risk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser/metrics"
)

// Policy is the service's rate-limit policy: the keys of its rules, their
// limits, the names of the rules for the metrics, and Take and Release on a
// Store detached from the request's cancellation. simpleuser.New fills it
// from the simpleuser.Config fields of the same names (defaults applied);
// a Max <= 0 turns a rule off, as for a Limit.
//
// Keys are "<kind>:<sub>:<hash>", the client-supplied part hashed (Hash):
// s:<purpose>:e|s|b (send cooldowns per address and device, send budget
// per client address), v:<purpose> (code attempts), p:u|s|b (password
// attempts per account, device, client address), a:b (anonymous users per
// client address), m:u (mfa's factor attempts, built by package mfa).
type Policy struct {
	Store Store

	SendCooldown               time.Duration
	SendAddressLimit           int
	SendAddressWindow          time.Duration
	VerifyMaxAttempts          int
	VerifyWindow               time.Duration
	PasswordMaxAttempts        int
	PasswordWindow             time.Duration
	PasswordAddressMaxAttempts int
	PasswordAddressWindow      time.Duration
	AnonymousAddressLimit      int
	AnonymousAddressWindow     time.Duration

	// Refused, when set, is told the rule (RuleOf) of every limit that
	// refused a Take (metrics.Observer.Refusal).
	Refused func(rule string)
	// Failed is told every error of a Release or Clear, which are logged
	// and not returned (the service counts backend errors with it). Optional.
	Failed func(err error)
	Log    *slog.Logger
	Now    func() time.Time
}

// CleanupTimeout bounds each piece of work that runs detached from the
// request (a release, a restore, a compensating write).
const CleanupTimeout = 5 * time.Second

// Detached returns a context with ctx's values but not its cancellation,
// bounded by CleanupTimeout: for work that must happen whatever the client
// does (SPEC §7).
func Detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
}

// NewID returns a random entry id for Take.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Hash turns a client-supplied value into a fixed-size key part that
// cannot collide with another key's structure (no ':' or '{' can leak in).
func Hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// Send returns the keys of the send cooldowns of purpose (the address key
// addrKey, and the device ssaid when not "") and every send limit: those
// cooldowns plus the budget of the client address bucket (when not "").
func (p *Policy) Send(addrKey, purpose, ssaid, bucket string) (cooldowns []string, limits []Limit) {
	limits = []Limit{{Key: "s:" + purpose + ":e:" + Hash(addrKey), Max: 1, Window: p.SendCooldown}}
	if ssaid != "" {
		limits = append(limits, Limit{Key: "s:" + purpose + ":s:" + Hash(ssaid), Max: 1, Window: p.SendCooldown})
	}
	cooldowns = Keys(limits)
	if bucket != "" {
		limits = append(limits, Limit{Key: "s:" + purpose + ":b:" + Hash(bucket), Max: p.SendAddressLimit, Window: p.SendAddressWindow})
	}
	return cooldowns, limits
}

// Verify is the limit of wrong codes tried for address key addrKey and purpose.
func (p *Policy) Verify(addrKey, purpose string) Limit {
	return Limit{Key: "v:" + purpose + ":" + Hash(addrKey), Max: p.VerifyMaxAttempts, Window: p.VerifyWindow}
}

// Password returns the password attempt limits of account userID tried
// from device ssaid and client address bucket (either "" when unknown).
func (p *Policy) Password(userID int64, ssaid, bucket string) []Limit {
	n, w := p.PasswordMaxAttempts, p.PasswordWindow
	limits := []Limit{{Key: "p:u:" + strconv.FormatInt(userID, 10), Max: n, Window: w}}
	if ssaid != "" {
		limits = append(limits, Limit{Key: "p:s:" + Hash(ssaid), Max: n, Window: w})
	}
	if bucket != "" {
		limits = append(limits, Limit{Key: "p:b:" + Hash(bucket), Max: p.PasswordAddressMaxAttempts, Window: p.PasswordAddressWindow})
	}
	return limits
}

// Anonymous is the budget of anonymous users created for client address bucket.
func (p *Policy) Anonymous(bucket string) Limit {
	return Limit{Key: "a:b:" + Hash(bucket), Max: p.AnonymousAddressLimit, Window: p.AnonymousAddressWindow}
}

// Take records entry id under limits (Store.Take at Now), detached from
// ctx's cancellation: redigo answers a call whose context ends at once,
// while Redis still runs the script it was sent, which would leave an entry
// recorded that no release gives back (five of them lock an account). A
// caller releases the entry itself on every failure that gives no verdict.
// Each refusing limit is reported to Refused by rule.
func (p *Policy) Take(ctx context.Context, limits []Limit, id string) (time.Duration, error) {
	dctx, cancel := Detached(ctx)
	defer cancel()
	return p.Observed().Take(dctx, limits, id, p.Now())
}

// Release gives entry id back on keys, detached from ctx's cancellation (a
// client that went away must not leave its attempt counting); a failure is
// logged.
func (p *Policy) Release(ctx context.Context, keys []string, id string) {
	if len(keys) == 0 {
		return
	}
	dctx, cancel := Detached(ctx)
	defer cancel()
	p.failed(ctx, "releasing a rate-limit entry", p.Store.Release(dctx, keys, id))
}

// Clear removes every entry of keys, detached from ctx's cancellation; a
// failure is logged.
func (p *Policy) Clear(ctx context.Context, keys ...string) {
	dctx, cancel := Detached(ctx)
	defer cancel()
	p.failed(ctx, "clearing rate-limit entries", p.Store.Clear(dctx, keys...))
}

func (p *Policy) failed(ctx context.Context, what string, err error) {
	if err == nil {
		return
	}
	if p.Failed != nil {
		p.Failed(err)
	}
	p.Log.WarnContext(ctx, "simpleuser: "+what+" failed", slog.Any("error", err))
}

// Observed returns Store reporting the limits that refuse a Take to
// Refused (with a store that can tell which: Explainer), for the blocks
// that take limits of their own (mfa's attempts). Without Refused it is
// Store.
func (p *Policy) Observed() Store {
	if p.Refused == nil {
		return p.Store
	}
	return observed{p.Store, p.Refused}
}

type observed struct {
	Store
	refused func(rule string)
}

func (o observed) Take(ctx context.Context, limits []Limit, id string, now time.Time) (time.Duration, error) {
	if ex, ok := o.Store.(Explainer); ok {
		wait, refused, err := ex.TakeExplain(ctx, limits, id, now)
		for _, i := range refused {
			o.refused(RuleOf(limits[i].Key))
		}
		return wait, err
	}
	wait, err := o.Store.Take(ctx, limits, id, now)
	if wait > 0 {
		rule := metrics.RuleOther
		if keys := Keys(limits); len(keys) == 1 {
			rule = RuleOf(keys[0])
		}
		o.refused(rule)
	}
	return wait, err
}

// RuleOf names the rule (metrics.Rule*) of a key of the policy by its
// prefix: metrics.RuleOther for any other key.
func RuleOf(key string) string {
	kind, rest, _ := strings.Cut(key, ":")
	switch kind {
	case "v":
		return metrics.RuleCodeAttempts
	case "s": // s:<purpose>:<e|s|b>:<hash>
		_, rest, _ = strings.Cut(rest, ":")
	}
	sub, _, _ := strings.Cut(rest, ":")
	if r, ok := keyRules[kind+":"+sub]; ok {
		return r
	}
	return metrics.RuleOther
}

var keyRules = map[string]string{
	"s:e": metrics.RuleSendCooldownEmail, "s:s": metrics.RuleSendCooldownDevice, "s:b": metrics.RuleSendAddressBudget,
	"p:u": metrics.RulePasswordAttemptsAccount, "p:s": metrics.RulePasswordAttemptsDevice,
	"p:b": metrics.RulePasswordAttemptsAddress, "a:b": metrics.RuleAnonymousAddressBudget,
	"m:u": metrics.RuleFactorAttempts,
}
