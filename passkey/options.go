package passkey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/simpleuser/simpleuser/code"
)

// Options configure passkeys in a service (simpleuser.Config.Passkeys):
// whether they are on, the relying party, and the store. Off unless
// Enabled; RPID, RPName and Origins are then required (see Config).
type Options struct {
	// Enabled turns passkeys on.
	Enabled bool
	// RPID, RPName and Origins are the relying party: see Config.
	RPID    string
	RPName  string
	Origins []string
	// Store keeps the passkeys. Default: an in-memory store; use
	// passkey/postgres for several instances or persistence. It may be
	// set while passkeys are off: it is then unused.
	Store Store
	// ChallengeTTL and MaxPerUser: see Config (defaults 5 minutes and 20).
	ChallengeTTL time.Duration
	MaxPerUser   int
}

// Check reports options that cannot work, starting with the field at
// fault: passkeys on without a valid relying party (Config.Check), or a
// relying party given while passkeys are off (a configuration that would
// silently do nothing).
func (o Options) Check() error {
	if !o.Enabled {
		if o.RPID != "" || o.RPName != "" || len(o.Origins) > 0 {
			return errors.New("Enabled is false, yet RPID, RPName or Origins is set: set Enabled to turn passkeys on")
		}
		return nil
	}
	return o.config(nil).Check()
}

func (o Options) config(now func() time.Time) Config {
	return Config{RPID: o.RPID, RPName: o.RPName, Origins: o.Origins, ChallengeTTL: o.ChallengeTTL, MaxPerUser: o.MaxPerUser, Now: now}
}

// RelyingParty returns the relying party the options describe, with its
// challenges in challenges and the clock now, or nil when passkeys are
// off. newStore makes the store when Options.Store is nil.
func (o Options) RelyingParty(challenges code.Store, now func() time.Time, newStore func() Store) (*RelyingParty, error) {
	if !o.Enabled {
		return nil, nil
	}
	store := o.Store
	if store == nil {
		store = newStore()
	}
	return New(o.config(now), store, challenges)
}

// Rename names userID's passkey id (as EncodeID writes it) name, checked
// by CheckName, and returns it. Errors: ErrInvalidName, ErrNotFound (not
// the user's, or no such id), a Store error.
func (rp *RelyingParty) Rename(ctx context.Context, userID int64, id, name string) (*Credential, error) {
	raw, err := DecodeID(id)
	if err != nil {
		return nil, err
	}
	if name, err = CheckName(name); err != nil {
		return nil, err
	}
	if err := rp.store.Rename(ctx, userID, raw, name); err != nil {
		return nil, err
	}
	return rp.store.Get(ctx, raw)
}

// Remove deletes userID's passkey id (as EncodeID writes it), calls
// OnChange, and returns it as it was. Errors: ErrNotFound (not the user's, or no such id), a Store
// error.
func (rp *RelyingParty) Remove(ctx context.Context, userID int64, id string) (*Credential, error) {
	raw, err := DecodeID(id)
	if err != nil {
		return nil, err
	}
	c, err := rp.store.Get(ctx, raw)
	if err != nil {
		return nil, err
	}
	if c.UserID != userID {
		return nil, fmt.Errorf("%w: not the user's", ErrNotFound)
	}
	if err := rp.store.Remove(ctx, userID, raw); err != nil {
		return nil, err
	}
	if rp.OnChange != nil {
		rp.OnChange(ctx, c, false)
	}
	return c, nil
}
