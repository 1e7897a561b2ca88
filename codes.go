package simpleuser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/user"
)

// ValidPurpose reports whether p is one of the four code purposes.
func ValidPurpose(p string) bool {
	switch p {
	case hooks.PurposeLogin, hooks.PurposeResetPassword, hooks.PurposeChangeEmail, hooks.PurposeUnregister:
		return true
	}
	return false
}

// checkEmail refuses (400) an address that is not storable text or that
// user.CheckEmail refuses, with a message naming the rule it broke.
func checkEmail(email string) error {
	if !textcheck.String(email) {
		return InvalidInput("email must be an email")
	}
	if err := user.CheckEmail(email); err != nil {
		if m := EmailMessage("email", err); m != "" {
			return InvalidInput(m)
		}
		return InvalidInput("email must be an email")
	}
	return nil
}

// EmailMessage is the client-facing message for an address that
// user.CheckEmail refused under one of its narrower rules (a look-alike
// character, mixed scripts: UTS #39), prefixed with the field's name; ""
// for any other error, which the caller reports as "<field> must be an
// email" (class-validator's wording, which nicot-simple-user answers).
func EmailMessage(field string, err error) string {
	switch {
	case errors.Is(err, user.ErrEmailMixedScript):
		return field + " mixes writing systems in a way that can imitate another address"
	case errors.Is(err, user.ErrEmailCharacter):
		return field + " holds a character that is invisible or can imitate another one"
	}
	return ""
}

func checkPurpose(p string) error {
	if !ValidPurpose(p) {
		return InvalidInput("codePurpose must be one of the following values: Login, ResetPassword, ChangeEmail, Unregister")
	}
	return nil
}

// SendCode takes the send limits of purpose in one atomic step (the
// cooldowns of the address and of the device, the budget of the client
// address), asks the SendCode hook to deliver a code and stores the code
// hashed with its TTL, replacing any previous code of that email and
// purpose. A delivery that failed gives the cooldowns back; it still counts
// against the client address's budget, so failing sends cannot be used to
// call the hook without bound. Errors: 400 invalid input, 429 cooldown or
// budget (Wait set), 502 delivery failed (no code stored), 503 backend
// unavailable.
func (s *Service) SendCode(ctx context.Context, c Client, email, purpose string) (err error) {
	defer func() { s.observeSend(purpose, err) }()
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	return s.sendCode(ctx, c, email, purpose)
}

// sendCode is SendCode for any purpose (SecondFactor included).
func (s *Service) sendCode(ctx context.Context, c Client, email, purpose string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	email = user.NormalizeEmail(email)
	return s.sendTo(ctx, c, user.EmailKey(email), purpose, func() (string, error) {
		return s.hooks.SendCode(ctx, hooks.SendCodeRequest{Email: email, Purpose: purpose, SSAID: c.SSAID, IP: ipString(c),
			AcceptLanguage: acceptLanguage(c.AcceptLanguage), TTL: s.cfg.CodeTTL})
	})
}

// sendTo takes the send limits of the address key (user.EmailKey, or
// phone.Key) and purpose, calls send and stores the code it sent.
func (s *Service) sendTo(ctx context.Context, c Client, key, purpose string, send func() (string, error)) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.SSAID == "" {
		return ErrSSAIDRequired
	}
	cooldowns, limits := s.limits.Send(key, purpose, c.SSAID, IPBucket(c.IP))
	id := risk.NewID()
	wait, err := s.limits.Take(ctx, limits, id)
	if err != nil {
		return err
	}
	if wait > 0 {
		return cooldownError(wait)
	}
	sent, err := send()
	if err != nil || sent == "" {
		if err == nil {
			err = errors.New("the hook returned an empty code")
		}
		s.limits.Release(ctx, cooldowns, id)
		s.log.WarnContext(ctx, "simpleuser: code delivery failed", slog.String("purpose", purpose), slog.Any("error", err))
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return &Error{Status: ErrSendFailed.Status, Code: ErrSendFailed.Code, Message: ErrSendFailed.Message, Err: err}
	}
	rec, err := code.Seal(s.cfg.Secret, sent)
	if err == nil {
		err = s.codes.Set(ctx, codeKey(key, purpose), rec, s.cfg.CodeTTL)
	}
	if err != nil {
		s.limits.Release(ctx, cooldowns, id) // the code delivered is unusable: let the client ask again
		return err
	}
	return nil
}

// VerifyCode checks a code without consuming it (GET /send-code/verify). A
// success clears the failed attempts of that email and purpose.
func (s *Service) VerifyCode(ctx context.Context, email, purpose, codeValue string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPurpose(purpose); err != nil {
		return err
	}
	if codeValue == "" {
		return InvalidInput("code should not be empty")
	}
	_, err := s.claimCode(ctx, user.EmailKey(email), purpose, codeValue)
	return err
}

// A codeClaim is a code that matched its stored record and is not spent
// yet. The flow that acts on it first does everything that can fail on its
// own (validation, hashing), then spends it with spend around the
// transaction that commits the change, which restores it if that
// transaction fails (SPEC §5): a request that fails for any other reason
// than the code leaves the code usable. Spending before the transaction,
// rather than inside it, makes concurrent users of one code fail at once
// (403) instead of queueing on the winner's row locks, and keeps Redis
// calls out of PostgreSQL transactions.
type codeClaim struct {
	key string
	rec []byte

	consumed   bool
	ttl        time.Duration // left to live when consumed
	consumedAt time.Time
}

// claimCode checks a code against the stored record of email and purpose,
// counting the attempt against that pair's window first (429 once
// VerifyMaxAttempts wrong codes were tried). A match clears the failures
// and returns the claim; it consumes nothing.
func (s *Service) claimCode(ctx context.Context, emailKey, purpose, codeValue string) (*codeClaim, error) {
	limits := []risk.Limit{s.limits.Verify(emailKey, purpose)}
	id := risk.NewID()
	wait, err := s.limits.Take(ctx, limits, id)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, codeBlockedError(wait)
	}
	ck := codeKey(emailKey, purpose)
	rec, err := s.codes.Get(ctx, ck)
	if errors.Is(err, code.ErrNotFound) {
		return nil, ErrInvalidCode
	}
	if err != nil {
		s.limits.Release(ctx, risk.Keys(limits), id) // no verdict: the attempt does not count
		return nil, err
	}
	if !code.Match(s.cfg.Secret, rec, codeValue) {
		return nil, ErrInvalidCode
	}
	if s.cfg.VerifyMaxAttempts > 0 {
		s.limits.Clear(ctx, limits[0].Key)
	}
	return &codeClaim{key: ck, rec: rec}, nil
}

// consume spends the claimed code, atomically: ErrInvalidCode when a
// concurrent request spent it first (one code acts at most once). Inside a
// transaction (an app's WithTx around the call), the code is restored if
// that transaction rolls back or fails to commit.
func (s *Service) consume(ctx context.Context, cl *codeClaim) error {
	// Detached: a call cut by the client's cancellation may still delete
	// the code on Redis with nobody told, and Consume cannot be resent.
	dctx, cancel := risk.Detached(ctx)
	ttl, ok, err := s.codes.Consume(dctx, cl.key, cl.rec)
	cancel()
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCode
	}
	cl.consumed, cl.ttl, cl.consumedAt = true, ttl, s.now()
	s.onRollback(ctx, func(ctx context.Context) { s.restore(ctx, cl) })
	return nil
}

// spend consumes claim (nil: no code) and runs fn, the unit that commits
// the change the code authorises; if fn fails, the code is restored.
func (s *Service) spend(ctx context.Context, claim *codeClaim, fn func() error) error {
	if claim != nil {
		if err := s.consume(ctx, claim); err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		s.restore(ctx, claim)
		return err
	}
	return nil
}

// restore puts a consumed code back, with the time it had left, when the
// change it authorised did not happen (or its answer never reached the
// client): the client can retry with the same code. A newer code sent
// meanwhile is kept. It runs detached from ctx's cancellation; a failure is
// logged. A nil or unconsumed claim is a no-op, so restore may be called
// on every failure path.
func (s *Service) restore(ctx context.Context, cl *codeClaim) {
	if cl == nil || !cl.consumed {
		return
	}
	cl.consumed = false
	left := cl.ttl - s.now().Sub(cl.consumedAt)
	dctx, cancel := risk.Detached(ctx)
	defer cancel()
	if err := s.codes.Restore(dctx, cl.key, cl.rec, left); err != nil {
		s.observeError(err)
		s.log.WarnContext(ctx, "simpleuser: restoring a code failed", slog.Any("error", err))
	}
}

// checkPassword verifies pw against u's hash under the password attempt
// limits: per account and per device (PasswordMaxAttempts), per client
// address (PasswordAddressMaxAttempts). The attempt counts while in
// flight; a success, or a failure that gives no verdict (hasher busy,
// client gone), releases it, detached from ctx's cancellation. It reports
// whether the hash should be upgraded.
func (s *Service) checkPassword(ctx context.Context, c Client, u *user.User, field, pw string, wrong *Error) (rehash bool, err error) {
	if pw == "" { // a missing password is no guess: refused, but it spends no attempt
		return false, wrong
	}
	if err := s.checkPasswordMax(field, pw); err != nil {
		return false, err
	}
	limits := s.limits.Password(u.ID, c.SSAID, IPBucket(c.IP))
	id := risk.NewID()
	wait, err := s.limits.Take(ctx, limits, id)
	if err != nil {
		return false, err
	}
	if wait > 0 {
		return false, passwordBlockedError(wait)
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err == nil && !ok {
		return false, wrong // the attempt keeps counting
	}
	s.limits.Release(ctx, risk.Keys(limits), id)
	return rehash, err
}

// checkPasswordLength refuses (400) a password outside the configured
// length bounds, before any hashing.
func (s *Service) checkPasswordLength(field, pw string) error {
	if s.cfg.PasswordMinLength > 0 && len(pw) < s.cfg.PasswordMinLength {
		return InvalidInput(fmt.Sprintf("%s must be at least %d characters", field, s.cfg.PasswordMinLength))
	}
	return s.checkPasswordMax(field, pw)
}

// checkPasswordMax refuses (400) a password over PasswordMaxLength bytes:
// every path that takes a password calls it before hashing or queueing.
func (s *Service) checkPasswordMax(field, pw string) error {
	if len(pw) > s.cfg.PasswordMaxLength {
		return InvalidInput(fmt.Sprintf("%s must be at most %d characters", field, s.cfg.PasswordMaxLength))
	}
	return nil
}
