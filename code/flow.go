package code

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/risk"
)

// ErrInvalid is Flow's answer to a code that is wrong, unknown, expired or
// spent (simpleuser.ErrInvalidCode).
var ErrInvalid = errors.New("code: invalid code")

// LimitError is Flow's refusal by a rate limit: a send within a cooldown
// or over a budget (Send), or a check after too many wrong codes (Check).
type LimitError struct {
	Send bool          // the send limits refused it (else the attempt limit)
	Wait time.Duration // until a retry can succeed
}

func (e *LimitError) Error() string { return "code: rate limited for " + e.Wait.String() }

// DeliveryError is Flow.Send's error when the delivery failed (Err, the
// deliverer's error) or returned no code (Err nil): no code is stored.
type DeliveryError struct{ Err error }

func (e *DeliveryError) Error() string {
	if e.Err == nil {
		return "code: the hook returned an empty code"
	}
	return "code: delivery failed: " + e.Err.Error()
}

// Unwrap returns the deliverer's error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Flow sends and checks the one-time codes of the service under its rate
// limits (simpleuser.New fills it). A code is kept under the key of its
// address (user.EmailKey, phone.Key) and purpose, sealed, for TTL.
type Flow struct {
	Store  Store
	Secret []byte
	TTL    time.Duration
	Limits *risk.Policy
	// OnRollback registers undo to run if the transaction carried by ctx
	// rolls back or fails to commit; outside one it does nothing.
	OnRollback func(ctx context.Context, undo func(context.Context))
	Log        *slog.Logger
	Now        func() time.Time
	// Failed is told every error of a Restore, which is logged and not
	// returned. Optional.
	Failed func(err error)
}

// Key is the Store key of the code of address key addr and purpose.
func Key(addr, purpose string) string { return "c:" + purpose + ":" + risk.Hash(addr) }

// Send takes the send limits of addr and purpose for the device ssaid and
// client address bucket (risk.Policy.Send) in one atomic step, calls
// deliver, and stores the code it delivered, replacing any previous one. A
// delivery that failed (*DeliveryError) gives the cooldowns back; it still
// counts against the client address's budget, so failing sends cannot call
// the deliverer without bound. *LimitError when a limit refused.
func (f *Flow) Send(ctx context.Context, addr, purpose, ssaid, bucket string, deliver func() (string, error)) error {
	cooldowns, limits := f.Limits.Send(addr, purpose, ssaid, bucket)
	id := risk.NewID()
	wait, err := f.Limits.Take(ctx, limits, id)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &LimitError{Send: true, Wait: wait}
	}
	sent, err := deliver()
	if err != nil || sent == "" {
		f.Limits.Release(ctx, cooldowns, id)
		de := &DeliveryError{Err: err}
		f.Log.WarnContext(ctx, "simpleuser: code delivery failed", slog.String("purpose", purpose), slog.Any("error", de))
		return de
	}
	rec, err := Seal(f.Secret, sent)
	if err == nil {
		err = f.Store.Set(ctx, Key(addr, purpose), rec, f.TTL)
	}
	if err != nil {
		f.Limits.Release(ctx, cooldowns, id) // the code delivered is unusable: let the client ask again
		return err
	}
	return nil
}

// A Claim is a code that matched its stored record and is not spent yet.
// The flow that acts on it first does everything that can fail on its own
// (validation, hashing), then spends it with Spend around the transaction
// that commits the change, which restores it if that transaction fails
// (SPEC §5): a request that fails for any other reason than the code
// leaves the code usable. Spending before the transaction, rather than
// inside it, makes concurrent users of one code fail at once (403) instead
// of queueing on the winner's row locks, and keeps Redis calls out of
// PostgreSQL transactions.
type Claim struct {
	key string
	rec []byte

	consumed   bool
	ttl        time.Duration // left to live when consumed
	consumedAt time.Time
}

// Check checks value against the stored code of addr and purpose,
// counting the attempt against that pair's window first (*LimitError once
// the policy's VerifyMaxAttempts wrong codes were tried). A match clears
// the failures and returns the claim; it consumes nothing. ErrInvalid for
// a wrong or unknown code.
func (f *Flow) Check(ctx context.Context, addr, purpose, value string) (*Claim, error) {
	limit := f.Limits.Verify(addr, purpose)
	id := risk.NewID()
	wait, err := f.Limits.Take(ctx, []risk.Limit{limit}, id)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, &LimitError{Wait: wait}
	}
	key := Key(addr, purpose)
	rec, err := f.Store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalid
	}
	if err != nil {
		f.Limits.Release(ctx, risk.Keys([]risk.Limit{limit}), id) // no verdict: the attempt does not count
		return nil, err
	}
	if !Match(f.Secret, rec, value) {
		return nil, ErrInvalid
	}
	if limit.On() {
		f.Limits.Clear(ctx, limit.Key)
	}
	return &Claim{key: key, rec: rec}, nil
}

// Consume spends the claimed code, atomically: ErrInvalid when a
// concurrent request spent it first (one code acts at most once). Inside a
// transaction (OnRollback), the code is restored if that transaction rolls
// back or fails to commit.
func (f *Flow) Consume(ctx context.Context, cl *Claim) error {
	// Detached: a call cut by the client's cancellation may still delete
	// the code on Redis with nobody told, and Consume cannot be resent.
	dctx, cancel := risk.Detached(ctx)
	ttl, ok, err := f.Store.Consume(dctx, cl.key, cl.rec)
	cancel()
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalid
	}
	cl.consumed, cl.ttl, cl.consumedAt = true, ttl, f.Now()
	f.OnRollback(ctx, func(ctx context.Context) { f.Restore(ctx, cl) })
	return nil
}

// Spend consumes claim (nil: no code) and runs fn, the unit that commits
// the change the code authorises; if fn fails, the code is restored.
func (f *Flow) Spend(ctx context.Context, claim *Claim, fn func() error) error {
	if claim != nil {
		if err := f.Consume(ctx, claim); err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		f.Restore(ctx, claim)
		return err
	}
	return nil
}

// Restore puts a consumed code back, with the time it had left, when the
// change it authorised did not happen (or its answer never reached the
// client): the client can retry with the same code. A newer code sent
// meanwhile is kept. It runs detached from ctx's cancellation; a failure is
// logged. A nil or unconsumed claim is a no-op, so Restore may be called
// on every failure path.
func (f *Flow) Restore(ctx context.Context, cl *Claim) {
	if cl == nil || !cl.consumed {
		return
	}
	cl.consumed = false
	left := cl.ttl - f.Now().Sub(cl.consumedAt)
	dctx, cancel := risk.Detached(ctx)
	defer cancel()
	if err := f.Store.Restore(dctx, cl.key, cl.rec, left); err != nil {
		if f.Failed != nil {
			f.Failed(err)
		}
		f.Log.WarnContext(ctx, "simpleuser: restoring a code failed", slog.Any("error", err))
	}
}
