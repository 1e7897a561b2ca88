package passkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Account is the user a registration is for, as the authenticator shows
// it (WebAuthn L3 §5.4.3): Name is the account's identifier for people
// (its email address, say) and DisplayName a friendlier one; neither is
// used for any decision. An empty DisplayName takes Name.
type Account struct {
	UserID      int64
	Name        string
	DisplayName string
}

// waUser is a user as go-webauthn sees it.
type waUser struct {
	handle      []byte
	name, shown string
	creds       []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.shown }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// toWebAuthn is a stored credential as go-webauthn verifies it.
func toWebAuthn(c *Credential) webauthn.Credential {
	var flags protocol.AuthenticatorFlags
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	ts := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: c.ID, PublicKey: c.PublicKey, Transport: ts,
		Flags:         webauthn.NewCredentialFlags(flags | protocol.FlagUserPresent),
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// user loads the user's handle and credentials for go-webauthn.
func (rp *RelyingParty) user(ctx context.Context, userID int64) (*waUser, []Credential, error) {
	creds, err := rp.store.List(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	u := &waUser{creds: make([]webauthn.Credential, len(creds))}
	for i := range creds {
		u.creds[i] = toWebAuthn(&creds[i])
	}
	if len(creds) > 0 {
		u.handle = creds[0].UserHandle
	}
	return u, creds, nil
}

// BeginRegistration begins registering a new passkey for acct, bound to
// the device bind (the client's ssaid). The options ask for a
// discoverable credential (residentKey "required", §5.4.6) with user
// verification "required" (§5.4.6: a passkey that signs in alone must be
// two factors in one, possession and PIN or biometrics), no attestation
// (§5.4.7: "none", the model is not checked), and exclude the user's
// registered passkeys, so one authenticator is not registered twice.
// Errors: ErrTooMany, a Store error.
func (rp *RelyingParty) BeginRegistration(ctx context.Context, acct Account, bind string) (*Challenge, error) {
	u, creds, err := rp.user(ctx, acct.UserID)
	if err != nil {
		return nil, err
	}
	if len(creds) >= rp.max {
		return nil, fmt.Errorf("%w: at most %d", ErrTooMany, rp.max)
	}
	if u.handle, err = rp.store.UserHandle(ctx, acct.UserID); err != nil {
		return nil, err
	}
	u.name, u.shown = acct.Name, acct.DisplayName
	if u.shown == "" {
		u.shown = u.name
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i := range u.creds {
		exclude[i] = u.creds[i].Descriptor()
	}
	creation, sd, err := rp.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		}),
		webauthn.WithExclusions(exclude),
	)
	if err != nil {
		return nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return rp.begin(ctx, kindRegister, acct.UserID, bind, creation, sd)
}

// FinishRegistration verifies the client's response (the JSON of the
// PublicKeyCredential navigator.credentials.create returned) to the
// registration challengeID begun by BeginRegistration for the same user
// and device, stores the passkey under name (CheckName), and calls
// OnChange. The
// challenge is consumed by the first finish that names it, whatever the
// outcome: a refused registration must begin again.
//
// Errors: ErrInvalidName, ErrInvalidResponse (not parseable; the challenge
// is left), ErrChallenge, ErrRefused (does not verify: origin, relying
// party id, challenge, attestation, user verification), ErrExists (the
// credential id is registered), a Store error.
func (rp *RelyingParty) FinishRegistration(ctx context.Context, userID int64, bind, challengeID string, response []byte, name string) (*Credential, error) {
	name, err := CheckName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, devError(err))
	}
	rec, err := rp.take(ctx, challengeID, kindRegister, userID, bind)
	if err != nil {
		return nil, err
	}
	handle, err := rp.store.UserHandle(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(handle, rec.Session.UserID) {
		return nil, fmt.Errorf("%w: the user handle changed", ErrChallenge)
	}
	wc, err := rp.wa.CreateCredential(&waUser{handle: handle}, rec.Session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, devError(err))
	}
	c := &Credential{
		ID: wc.ID, UserID: userID, UserHandle: handle, Name: name, PublicKey: wc.PublicKey,
		SignCount: wc.Authenticator.SignCount, AAGUID: wc.Authenticator.AAGUID,
		Transports:     make([]string, len(wc.Transport)),
		BackupEligible: wc.Flags.BackupEligible, BackupState: wc.Flags.BackupState,
		UserVerified: wc.Flags.UserVerified,
	}
	for i, t := range wc.Transport {
		c.Transports[i] = string(t)
	}
	if len(c.ID) > MaxCredentialIDLen {
		return nil, fmt.Errorf("%w: credential id longer than %d bytes", ErrRefused, MaxCredentialIDLen)
	}
	if err := rp.store.Add(ctx, c, rp.now()); err != nil {
		return nil, err
	}
	if rp.OnChange != nil {
		rp.OnChange(ctx, c, true)
	}
	return c, nil
}

// BeginSignIn begins a usernameless sign-in (a discoverable credential
// assertion, §5.5 with no allowCredentials) bound to the device bind, with
// user verification "required": the passkey alone proves the user.
func (rp *RelyingParty) BeginSignIn(ctx context.Context, bind string) (*Challenge, error) {
	assertion, sd, err := rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin sign-in: %w", err)
	}
	return rp.begin(ctx, kindSignIn, 0, bind, assertion, sd)
}

// FinishSignIn verifies the client's response (the JSON of the
// PublicKeyCredential navigator.credentials.get returned) to the sign-in
// challengeID begun by BeginSignIn on the same device, finds the user by
// the user handle it carries, checks and records the signature counter,
// and returns the passkey used (UserID is who signed in). The challenge
// is consumed by the first finish that names it, whatever the outcome.
//
// Errors: ErrInvalidResponse (the challenge is left), ErrChallenge,
// ErrUnknownCredential (not registered, or not the user handle's),
// ErrRefused, ErrCounter (possible clone; the credential is returned with
// it, as stored, so the caller can tell its owner), a Store error.
func (rp *RelyingParty) FinishSignIn(ctx context.Context, bind, challengeID string, response []byte) (*Credential, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, devError(err))
	}
	rec, err := rp.take(ctx, challengeID, kindSignIn, 0, bind)
	if err != nil {
		return nil, err
	}
	var (
		used    *Credential
		findErr error
	)
	find := func(rawID, handle []byte) (webauthn.User, error) {
		used, findErr = rp.discover(ctx, rawID, handle)
		if findErr != nil {
			return nil, findErr
		}
		u, _, err := rp.user(ctx, used.UserID)
		if err != nil {
			findErr = err
			return nil, err
		}
		return u, nil
	}
	if _, _, err := rp.wa.ValidatePasskeyLogin(find, rec.Session, parsed); err != nil {
		if findErr != nil {
			return nil, findErr
		}
		return nil, fmt.Errorf("%w: %w", ErrRefused, devError(err))
	}
	return rp.recordUse(ctx, used, parsed)
}

// discover returns the credential rawID when it belongs to the user of
// handle: ErrUnknownCredential otherwise.
func (rp *RelyingParty) discover(ctx context.Context, rawID, handle []byte) (*Credential, error) {
	c, err := rp.store.Get(ctx, rawID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownCredential
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(c.UserHandle, handle) {
		return nil, fmt.Errorf("%w: the user handle is not the credential's", ErrUnknownCredential)
	}
	return c, nil
}

// BeginLogin begins an assertion by one of userID's passkeys (§5.5 with
// allowCredentials listing them), for a user already known: a passkey as a
// second factor. User verification is "preferred": presence of the
// authenticator is the factor, the first factor having been checked
// already. Errors: ErrNoPasskey, a Store error.
func (rp *RelyingParty) BeginLogin(ctx context.Context, userID int64, bind string) (*Challenge, error) {
	u, creds, err := rp.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, ErrNoPasskey
	}
	assertion, sd, err := rp.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return rp.begin(ctx, kindUserLogin, userID, bind, assertion, sd)
}

// FinishLogin verifies the response to the login challengeID begun by
// BeginLogin for the same user and device, checks and records the
// signature counter, and returns the passkey used. Errors as for
// FinishSignIn.
func (rp *RelyingParty) FinishLogin(ctx context.Context, userID int64, bind, challengeID string, response []byte) (*Credential, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, devError(err))
	}
	rec, err := rp.take(ctx, challengeID, kindUserLogin, userID, bind)
	if err != nil {
		return nil, err
	}
	u, creds, err := rp.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	var used *Credential
	for i := range creds {
		if bytes.Equal(creds[i].ID, parsed.RawID) {
			used = &creds[i]
		}
	}
	if used == nil {
		return nil, ErrUnknownCredential
	}
	if _, err := rp.wa.ValidateLogin(u, rec.Session, parsed); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, devError(err))
	}
	return rp.recordUse(ctx, used, parsed)
}

// recordUse records a verified assertion by c (§7.2: the signature counter and backup state) and
// returns c as stored now.
func (rp *RelyingParty) recordUse(ctx context.Context, c *Credential, parsed *protocol.ParsedCredentialAssertionData) (*Credential, error) {
	ad := parsed.Response.AuthenticatorData
	use := Use{SignCount: ad.Counter, BackupState: ad.Flags.HasBackupState(), At: rp.now()}
	if err := rp.store.RecordUse(ctx, c.ID, use); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrUnknownCredential // removed meanwhile
		}
		if errors.Is(err, ErrCounter) {
			return c, err // the caller may warn the owner
		}
		return nil, err
	}
	c.SignCount, c.BackupState, c.LastUsedAt = use.SignCount, use.BackupState, use.At
	return c, nil
}

// devError keeps go-webauthn's developer detail (the reason a response was
// refused) in the error chain, for logs; clients see only the kit's
// message.
func devError(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%s (%s)", pe.Details, pe.DevInfo)
	}
	return err
}
