package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Manager issues, resolves and revokes sessions. Set the fields, then call
// Init (or use New) before use.
type Manager struct {
	Store Store // session bodies by token hash; required
	Index Index // per-user index; required
	// Lifetime is the absolute lifetime of a session (default 30 days).
	Lifetime time.Duration
	// IdleTimeout, when > 0, ends a session unused for that long.
	IdleTimeout time.Duration
	// TouchInterval is how often Get records a session's use (Data.LastSeen):
	// at most once per interval per session, so a request costs no store
	// write otherwise. Default 1 minute; negative: never, unless IdleTimeout
	// is set, which needs it (then 1 minute).
	TouchInterval time.Duration
	// MaxPerUser is the most live sessions one user may hold: Create ends
	// the oldest beyond it (the one expiring first), which bounds the
	// per-user index. Default DefaultMaxPerUser; negative: no cap.
	MaxPerUser int
	// IDKey keys the HMAC-SHA-256 that turns a store key into the session's
	// public id (ID). Give every instance the same key; empty: ids are
	// then a plain hash of the store key, still one-way.
	IDKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Evicted, when set, is called after a Create that ended n of the
	// user's oldest sessions to stay within MaxPerUser (for metrics).
	Evicted func(n int)
}

// DefaultLifetime is the session lifetime when Manager.Lifetime is zero.
const DefaultLifetime = 30 * 24 * time.Hour

// DefaultMaxPerUser is the cap on live sessions per user when
// Manager.MaxPerUser is zero.
const DefaultMaxPerUser = 50

// DefaultTouchInterval is the touch interval when Manager.TouchInterval is zero.
const DefaultTouchInterval = time.Minute

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// SessionLifetime is the lifetime of a new session (Lifetime, default applied).
func (m *Manager) SessionLifetime() time.Duration { return m.lifetime() }

func (m *Manager) lifetime() time.Duration {
	if m.Lifetime > 0 {
		return m.Lifetime
	}
	return DefaultLifetime
}

// touchEvery is the effective touch interval; 0: never touch.
func (m *Manager) touchEvery() time.Duration {
	switch {
	case m.TouchInterval > 0:
		return m.TouchInterval
	case m.TouchInterval == 0 || m.IdleTimeout > 0:
		return DefaultTouchInterval
	}
	return 0
}

func (m *Manager) maxPerUser() int {
	if m.MaxPerUser == 0 {
		return DefaultMaxPerUser
	}
	return max(m.MaxPerUser, 0)
}

func (m *Manager) expiry(d *Data) time.Time {
	exp := d.ExpiresAt
	if m.IdleTimeout > 0 {
		if idle := d.LastSeen.Add(m.IdleTimeout); idle.Before(exp) {
			exp = idle
		}
	}
	return exp
}

// Create stores a new session for d.UserID and returns its token.
// CreatedAt and LastSeen are set from the clock, ExpiresAt from the
// lifetime, unless d.ExpiresAt is set and earlier (a short-lived session:
// a sign-in waiting for its second factor).
// When the user then holds more than MaxPerUser live sessions, the oldest
// are ended; if that fails, so does Create (the new session is ended too).
func (m *Manager) Create(ctx context.Context, d Data) (token string, err error) {
	token, err = NewToken()
	if err != nil {
		return "", fmt.Errorf("session: token: %w", err)
	}
	now := m.now().UTC().Truncate(time.Millisecond) // what the body keeps
	d.CreatedAt, d.LastSeen = now, now
	if full := now.Add(m.lifetime()); d.ExpiresAt.IsZero() || d.ExpiresAt.After(full) {
		d.ExpiresAt = full
	} else {
		d.ExpiresAt = d.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	key := Key(token)
	exp := m.expiry(&d)
	// Body first, then the index: a RevokeUser racing this Create either
	// sees the indexed session and deletes it, or runs before the session is
	// indexed, in which case the session counts as created after the revoke.
	// (Index first would let a revoke delete a body not yet written, leaving
	// an unindexed, unrevocable session.)
	if err := m.commit(key, &d, exp); err != nil {
		return "", err
	}
	over, err := m.Index.Add(ctx, d.UserID, key, d.ExpiresAt, m.maxPerUser())
	if err == nil && len(over) > 0 {
		err = m.endKeys(ctx, d.UserID, over)
	}
	if err != nil {
		_ = m.Store.Delete(key)
		_ = m.Index.Remove(context.WithoutCancel(ctx), d.UserID, key)
		return "", err
	}
	if len(over) > 0 && m.Evicted != nil {
		m.Evicted(len(over))
	}
	return token, nil
}

// endKeys ends the sessions of keys, all of userID: bodies first, then the
// index entries, so a failure between the two leaves them indexed (a later
// revocation or Create ends them again) rather than live and unindexed.
func (m *Manager) endKeys(ctx context.Context, userID int64, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := m.deleteBodies(ctx, keys); err != nil {
		return err
	}
	return m.Index.Remove(ctx, userID, keys...)
}

func (m *Manager) deleteBodies(ctx context.Context, keys []string) error {
	if bd, ok := m.Store.(BatchDeleter); ok {
		return bd.DeleteMany(ctx, keys)
	}
	var errs []error
	for _, k := range keys {
		errs = append(errs, m.Store.Delete(k))
	}
	return errors.Join(errs...)
}

func (m *Manager) commit(key string, d *Data, exp time.Time) error {
	return m.Store.Commit(key, Encode(d), exp)
}

// lastSeen is d.LastSeen, or CreatedAt for a body written without it.
func (m *Manager) lastSeen(d *Data) time.Time {
	if d.LastSeen.IsZero() {
		return d.CreatedAt
	}
	return d.LastSeen
}

// Get resolves a token. ErrNotFound when it is unknown, expired or revoked.
// When the session's LastSeen is TouchInterval old, Get rewrites it (one
// store write per session per interval at most; the only write a request
// makes here).
func (m *Manager) Get(ctx context.Context, token string) (*Data, error) {
	if len(token) != TokenLength {
		return nil, ErrNotFound
	}
	key := Key(token)
	b, found, err := m.Store.Find(key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ErrNotFound
	}
	d := new(Data)
	if err := Decode(b, d); err != nil {
		return nil, ErrNotFound
	}
	now := m.now()
	if !now.Before(m.expiry(d)) {
		return nil, ErrNotFound
	}
	if every := m.touchEvery(); every > 0 && now.Sub(m.lastSeen(d)) >= every {
		d.LastSeen = now.UTC().Truncate(time.Millisecond)
		ok, err := m.rewrite(ctx, key, d, m.expiry(d))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrNotFound // revoked meanwhile
		}
	}
	return d, nil
}

// rewrite stores d under key only if the session still exists (atomically
// when the store is a Replacer).
func (m *Manager) rewrite(ctx context.Context, key string, d *Data, exp time.Time) (bool, error) {
	b := Encode(d)
	if r, ok := m.Store.(Replacer); ok {
		return r.Replace(ctx, key, b, exp)
	}
	if _, found, err := m.Store.Find(key); err != nil || !found {
		return false, err
	}
	return true, m.Store.Commit(key, b, exp)
}

// Revoke ends the session of token. Unknown tokens are not an error.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	_, err := m.End(ctx, token)
	return err
}

// End revokes the session of token and returns what it held, or nil when
// the token named no live session (an expired body still present is
// deleted all the same). One read, one delete, one index removal.
func (m *Manager) End(ctx context.Context, token string) (*Data, error) {
	return m.endKey(ctx, Key(token))
}

func (m *Manager) endKey(ctx context.Context, key string) (*Data, error) {
	var b []byte
	var found bool
	var err error
	if t, ok := m.Store.(Taker); ok {
		b, found, err = t.Take(ctx, key)
	} else if b, found, err = m.Store.Find(key); err == nil && found {
		err = m.Store.Delete(key)
	}
	if err != nil || !found {
		return nil, err
	}
	d := new(Data)
	if Decode(b, d) != nil {
		return nil, nil
	}
	if err := m.Index.Remove(ctx, d.UserID, key); err != nil {
		return nil, err
	}
	if !m.now().Before(m.expiry(d)) {
		return nil, nil
	}
	return d, nil
}

// RevokeUser ends every session of userID and returns how many there were.
// It costs O(sessions of the user).
//
// The pop of the index and the deletes are one unit, run detached from
// ctx's cancellation (bounded by revokeTimeout): cut between them, or with
// the pop's reply lost to a client that went away (redigo answers at once
// while Redis runs the script), the sessions would stay live but
// unindexed, beyond every later revocation.
func (m *Manager) RevokeUser(ctx context.Context, userID int64) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	keys, err := m.Index.PopAll(ctx, userID)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	if bd, ok := m.Store.(BatchDeleter); ok {
		return len(keys), bd.DeleteMany(ctx, keys)
	}
	var errs []error
	for _, k := range keys {
		errs = append(errs, m.Store.Delete(k))
	}
	return len(keys), errors.Join(errs...)
}

// revokeTimeout bounds RevokeUser, which runs whatever the caller's
// context does.
const revokeTimeout = 5 * time.Second

// SetUserData replaces the app payload stored in every live session of
// userID (e.g. after the app changes a nickname). It returns how many
// sessions were updated.
func (m *Manager) SetUserData(ctx context.Context, userID int64, data json.RawMessage) (int, error) {
	return m.UpdateUser(ctx, userID, func(d *Data) { d.UserData = data })
}

// Update applies fn to the live session of token and writes it back (only
// if it still exists: a concurrent revocation wins). It returns the new
// data; ErrNotFound when the token names no live session. fn must not
// change UserID, CreatedAt or ExpiresAt.
func (m *Manager) Update(ctx context.Context, token string, fn func(*Data)) (*Data, error) {
	d, err := m.Get(ctx, token)
	if err != nil {
		return nil, err
	}
	fn(d)
	ok, err := m.rewrite(ctx, Key(token), d, m.expiry(d))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return d, nil
}

// UpdateUser applies fn to every live session of userID and writes each
// back (only if it still exists). It returns how many sessions were
// updated; it costs O(sessions of the user). fn must not change UserID,
// CreatedAt or ExpiresAt.
func (m *Manager) UpdateUser(ctx context.Context, userID int64, fn func(*Data)) (int, error) {
	now := m.now()
	keys, err := m.Index.List(ctx, userID, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		b, found, err := m.Store.Find(key)
		if err != nil {
			return n, err
		}
		if !found {
			continue
		}
		var d Data
		if Decode(b, &d) != nil || d.UserID != userID {
			continue
		}
		fn(&d)
		exp := m.expiry(&d)
		if !now.Before(exp) {
			continue
		}
		ok, err := m.rewrite(ctx, key, &d, exp)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
