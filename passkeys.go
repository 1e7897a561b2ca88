package simpleuser

import (
	"context"
	"errors"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/user"
)

// PasskeyConfig configures passkeys (WebAuthn; docs/passkeys.md): Enabled,
// the relying party (RPID, RPName, Origins), Store (default passkey/memory);
// challenges live in Config.Codes.
type PasskeyConfig = passkey.Options

// Passkeys returns the passkey relying party, which registers, lists,
// renames and removes a user's passkeys and runs the ceremonies (its
// OnChange emits PasskeyAdded and PasskeyRemoved), or nil when passkeys
// are off. Sign in with PasskeySignIn.
func (s *Service) Passkeys() *passkey.RelyingParty { return s.passkeys }

// passkeyChanged emits PasskeyAdded or PasskeyRemoved for the client of ctx.
func (s *Service) passkeyChanged(ctx context.Context, cred *passkey.Credential, added bool) {
	c, _ := ClientFrom(ctx)
	e := clientEvent(hooks.PasskeyRemoved, nil, c)
	if added {
		e.Type = hooks.PasskeyAdded
	}
	e.UserID, e.Passkey = cred.UserID, &hooks.PasskeyRef{ID: passkey.EncodeID(cred.ID), Name: cred.Name}
	s.emit(ctx, e)
	s.mfa.Refresh(ctx, cred.UserID) // the sessions' factor list
}

// passkeyFactor lists FactorPasskey when userID has a passkey
// (mfa.Config.ExtraFactors while passkeys are on).
func (s *Service) passkeyFactor(ctx context.Context, userID int64) ([]string, error) {
	list, err := s.passkeys.Store().List(ctx, userID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return []string{mfa.FactorPasskey}, nil
}

// PasskeySignIn finishes a usernameless sign-in begun on the device c.SSAID
// by Passkeys().BeginSignIn (passkey.RelyingParty.FinishSignIn: response
// verified, counter checked and recorded) and signs the passkey's owner in
// as Login does, one strong step: disabled refused, grace-period recovery,
// OnMigrateUser, OnLogin (Method "passkey"), LoggedIn, a fresh session (the
// token c presented revoked). A counter regression emits LoginFailed
// (Reason "passkey"). Errors: 400 SSAID_REQUIRED, PASSKEY_CHALLENGE or
// INVALID_INPUT; 403 PASSKEY_REFUSED, PASSKEY_UNKNOWN (also for an account
// gone), PASSKEY_COUNTER or ACCOUNT_DISABLED; 404 PASSKEYS_DISABLED; 503.
func (s *Service) PasskeySignIn(ctx context.Context, c Client, challengeID string, response []byte) (*LoginResult, error) {
	res, err := s.passkeySignIn(ctx, c, challengeID, response)
	s.observeLogin(metrics.MethodPasskey, "", res, err)
	return res, err
}

func (s *Service) passkeySignIn(ctx context.Context, c Client, challengeID string, response []byte) (*LoginResult, error) {
	if s.passkeys == nil {
		return nil, passkey.ErrDisabled
	}
	if c.SSAID == "" {
		return nil, ErrSSAIDRequired
	}
	cred, err := s.passkeys.FinishSignIn(ctx, c.SSAID, challengeID, response)
	if errors.Is(err, passkey.ErrCounter) && cred != nil {
		e := clientEvent(hooks.LoginFailed, nil, c)
		e.UserID, e.Reason, e.Passkey = cred.UserID, "passkey", &hooks.PasskeyRef{ID: passkey.EncodeID(cred.ID), Name: cred.Name}
		s.emit(ctx, e)
	}
	if err != nil {
		return nil, err
	}
	u, err := s.users.Get(ctx, cred.UserID)
	if errors.Is(err, user.ErrNotFound) || (err == nil && s.expired(u, s.now())) {
		return nil, passkey.ErrUnknownCredential // the account is gone
	}
	if err == nil {
		err = s.WithTx(ctx, func(ctx context.Context) error {
			u, err = s.enter(ctx, c, u.ID, entry{method: "passkey"})
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, c, u, mfa.AMRHardware, "") // one strong step: never challenged
}
