// Package memory is the in-memory user.Store, the kit's embedded default.
//
// Users live in maps guarded by a mutex; every value going in or out is a
// deep copy, so callers never share memory with the store. Transactions are
// serialised: the outermost WithTx holds a store-wide gate for its whole
// duration, so calls from other goroutines that carry no transaction wait
// until it commits or rolls back, while calls carrying the transaction's ctx
// go straight through. Rollback replays an undo log.
//
// A call made inside WithTx's fn with a ctx that does not carry the
// transaction (e.g. context.Background()) waits for the transaction to end
// and so deadlocks if made from fn's own goroutine: always pass fn's ctx on.
package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/user"
)

// errTxDone is returned when a transaction's ctx is used after WithTx returned.
var errTxDone = errors.New("user/memory: transaction already finished")

// Store is an in-memory user.Store. Create one with New.
type Store struct {
	// Now is the clock Create and Update use for CreatedAt and UpdatedAt
	// (default time.Now). Every other time is taken as passed by the caller.
	Now func() time.Time

	gate sync.Mutex // held by the outermost transaction; taken briefly by calls outside one
	mu   sync.Mutex // guards everything below

	nextID  int64
	byID    map[int64]*user.User
	byEmail map[string]int64 // user.EmailKey → id, registered users whose address has a key
	bySSAID map[string]int64 // ssaid → id, anonymous users (Email == "", SSAID != "")
	byPhone map[string]int64 // E.164 phone → id
	idents  map[identKey]*user.Identity
	// userIdents indexes idents by user id.
	userIdents map[int64]map[identKey]struct{}
	deps       []Dependent // see CascadeTo
}

var _ user.Store = (*Store)(nil)

// New returns an empty store whose IDs start at 1.
func New() *Store {
	return &Store{
		byID:    map[int64]*user.User{},
		byEmail: map[string]int64{},
		bySSAID: map[string]int64{},
		byPhone: map[string]int64{},
		idents:  map[identKey]*user.Identity{},

		userIdents: map[int64]map[identKey]struct{}{},
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// index stores u (owned by the store) and indexes it. Called with mu held.
func (s *Store) index(u *user.User) {
	s.byID[u.ID] = u
	if k := user.EmailKey(u.Email); k != "" {
		s.byEmail[k] = u.ID
	} else if u.SSAID != "" {
		s.bySSAID[u.SSAID] = u.ID
	}
	if u.Phone != "" {
		s.byPhone[u.Phone] = u.ID
	}
}

// unindex removes the user with id from every map. Called with mu held.
func (s *Store) unindex(id int64) {
	u, ok := s.byID[id]
	if !ok {
		return
	}
	delete(s.byID, id)
	if k := user.EmailKey(u.Email); k != "" && s.byEmail[k] == id {
		delete(s.byEmail, k)
	}
	if u.SSAID != "" && s.bySSAID[u.SSAID] == id {
		delete(s.bySSAID, u.SSAID)
	}
	if u.Phone != "" && s.byPhone[u.Phone] == id {
		delete(s.byPhone, u.Phone)
	}
}

// touch records the state of id before t first changes it. Called with mu held.
func (s *Store) touch(t *tx, id int64) {
	if t == nil {
		return
	}
	if _, ok := t.before[id]; ok {
		return
	}
	t.before[id] = s.byID[id] // stored values are replaced, never mutated in place
}

// put replaces (or inserts) u, a value the store now owns. Called with mu held.
func (s *Store) put(t *tx, u *user.User) {
	s.touch(t, u.ID)
	s.unindex(u.ID)
	s.index(u)
}

// remove deletes the user with id and, as ON DELETE CASCADE does, its
// identities. Called with mu held.
func (s *Store) remove(t *tx, id int64) {
	s.touch(t, id)
	s.unindex(id)
	for k := range s.userIdents[id] {
		s.setIdent(t, k, nil)
	}
}

// check reports whether u may be stored without breaking uniqueness, and
// that its address has a key unless it is old's, unchanged (old is nil for a
// Create). Called with mu held.
func (s *Store) check(u, old *user.User) error {
	k := user.EmailKey(u.Email)
	if k == "" && u.Email != "" && (old == nil || old.Email != u.Email) {
		return user.ErrInvalidEmail
	}
	if k != "" {
		if id, ok := s.byEmail[k]; ok && id != u.ID {
			return user.ErrEmailTaken
		}
	} else if u.SSAID != "" {
		if id, ok := s.bySSAID[u.SSAID]; ok && id != u.ID {
			return fmt.Errorf("%w: ssaid held by another anonymous user", user.ErrConflict)
		}
	}
	if u.Phone != "" && !user.ValidE164(u.Phone) {
		return user.ErrInvalidPhone
	}
	if u.Phone != "" {
		if id, ok := s.byPhone[u.Phone]; ok && id != u.ID {
			return user.ErrPhoneTaken
		}
	}
	return nil
}

// Get returns the user with the id, or user.ErrNotFound. Returned users are
// copies with a non-nil Metadata.
func (s *Store) Get(ctx context.Context, id int64) (*user.User, error) {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if u, ok := s.byID[id]; ok {
		return u.Clone(), nil
	}
	return nil, user.ErrNotFound
}

// GetByEmail returns the user whose address has email's user.EmailKey, or
// user.ErrNotFound (also when email has no key).
func (s *Store) GetByEmail(ctx context.Context, email string) (*user.User, error) {
	k := user.EmailKey(email)
	if k == "" {
		return nil, user.ErrNotFound
	}
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if id, ok := s.byEmail[k]; ok {
		return s.byID[id].Clone(), nil
	}
	return nil, user.ErrNotFound
}

// GetByPhone returns the user whose Phone is phone, or user.ErrNotFound.
func (s *Store) GetByPhone(ctx context.Context, phone string) (*user.User, error) {
	if phone == "" {
		return nil, user.ErrNotFound
	}
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if id, ok := s.byPhone[phone]; ok {
		return s.byID[id].Clone(), nil
	}
	return nil, user.ErrNotFound
}

// GetAnonymous returns the anonymous user of ssaid, or user.ErrNotFound.
func (s *Store) GetAnonymous(ctx context.Context, ssaid string) (*user.User, error) {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if id, ok := s.bySSAID[ssaid]; ok {
		return s.byID[id].Clone(), nil
	}
	return nil, user.ErrNotFound
}

// GetOrCreateAnonymous returns the anonymous user of ssaid, creating it
// (CreatedAt = UpdatedAt = now, Version 1) when there is none.
func (s *Store) GetOrCreateAnonymous(ctx context.Context, ssaid string, now time.Time) (*user.User, error) {
	if ssaid == "" {
		return nil, errors.New("user/memory: empty ssaid")
	}
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if id, ok := s.bySSAID[ssaid]; ok {
		return s.byID[id].Clone(), nil
	}
	s.nextID++
	u := &user.User{ID: s.nextID, SSAID: ssaid, Metadata: map[string]any{}, Settings: map[string]any{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	s.put(t, u)
	return u.Clone(), nil
}

// Create inserts u and sets its ID, CreatedAt, UpdatedAt (from Now) and
// Version (1). u.Email is stored trimmed (and so written back). Besides
// user.ErrEmailTaken and user.ErrInvalidEmail, it returns an error wrapping
// user.ErrConflict when u is anonymous and another anonymous user holds its
// ssaid (Update likewise).
func (s *Store) Create(ctx context.Context, u *user.User) error {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := stored(u)
	if err != nil {
		return err
	}
	c.ID = 0
	if err := s.check(c, nil); err != nil {
		return err
	}
	s.nextID++
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.Version = s.nextID, now, now, 1
	s.put(t, c)
	u.ID, u.CreatedAt, u.UpdatedAt, u.Version, u.Email = c.ID, c.CreatedAt, c.UpdatedAt, c.Version, c.Email
	return nil
}

// Update writes u when u.Version is the stored version, then bumps u.Version
// and sets u.UpdatedAt from Now. CreatedAt is kept as stored; u.Email is
// stored trimmed. Errors as user.Store says.
func (s *Store) Update(ctx context.Context, u *user.User) error {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	old, ok := s.byID[u.ID]
	if !ok {
		return user.ErrNotFound
	}
	if old.Version != u.Version {
		return user.ErrConflict
	}
	c, err := stored(u)
	if err != nil {
		return err
	}
	if err := s.check(c, old); err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt, c.Version = old.CreatedAt, s.now(), old.Version+1
	c.LastActiveIP, c.LastActiveTime = old.LastActiveIP, old.LastActiveTime // TouchActive's, never Update's
	s.put(t, c)
	u.UpdatedAt, u.Version, u.Email = c.UpdatedAt, c.Version, c.Email
	return nil
}

// Delete removes the user, or returns user.ErrNotFound.
func (s *Store) Delete(ctx context.Context, id int64) error {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	if _, ok := s.byID[id]; !ok {
		unlock()
		return user.ErrNotFound
	}
	s.remove(t, id)
	unlock()
	s.cascade(ctx, []int64{id})
	return nil
}

// TouchActive sets LastActiveIP and LastActiveTime without bumping the version.
func (s *Store) TouchActive(ctx context.Context, id int64, ip string, at time.Time) error {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	old, ok := s.byID[id]
	if !ok {
		return user.ErrNotFound
	}
	c := old.Clone()
	c.LastActiveIP, c.LastActiveTime = ip, at
	s.put(t, c)
	return nil
}

// ListUnregistered returns at most limit users unregistered at or before
// cutoff, oldest first, leaving disabled users out.
func (s *Store) ListUnregistered(ctx context.Context, cutoff time.Time, limit int) ([]*user.User, error) {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*user.User
	for _, u := range s.byID {
		if u.Unregistered() && !u.Disabled && !u.UnregisterTime.After(cutoff) {
			out = append(out, u.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *user.User) int { return a.UnregisterTime.Compare(b.UnregisterTime) })
	if limit <= 0 {
		return nil, nil
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PurgeAnonymous deletes at most limit anonymous users last active (or
// created, when never active) before cutoff, least recently active first.
func (s *Store) PurgeAnonymous(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return 0, err
	}
	if limit <= 0 {
		unlock()
		return 0, nil
	}
	var stale []*user.User
	for _, id := range s.bySSAID {
		if u := s.byID[id]; activity(u).Before(cutoff) {
			stale = append(stale, u)
		}
	}
	slices.SortFunc(stale, func(a, b *user.User) int {
		return cmp.Or(activity(a).Compare(activity(b)), cmp.Compare(a.ID, b.ID))
	})
	stale = stale[:min(limit, len(stale))]
	ids := make([]int64, len(stale))
	for i, u := range stale {
		s.remove(t, u.ID)
		ids[i] = u.ID
	}
	unlock()
	s.cascade(ctx, ids)
	return len(stale), nil
}

// stored returns the copy of u to store. Its metadata and settings go
// through JSON, as they would through a database, so values read back have
// JSON types (float64 numbers, []any, map[string]any) whichever backend is
// used.
func stored(u *user.User) (*user.User, error) {
	c := *u
	c.Email = user.NormalizeEmail(u.Email)
	for _, f := range []string{c.Phone, c.SSAID, c.PasswordHash, c.RegisterIP, c.LoginIP, c.LastActiveIP} { // the email has its key check
		if !textcheck.String(f) {
			return nil, user.ErrInvalidText
		}
	}
	var err error
	if c.Metadata, err = jsonObject(u.Metadata); err != nil {
		return nil, fmt.Errorf("user/memory: metadata: %w", err)
	}
	if c.Settings, err = jsonObject(u.Settings); err != nil {
		return nil, fmt.Errorf("user/memory: settings: %w", err)
	}
	return &c, nil
}

// jsonObject returns a copy of m made through JSON; {} for nil.
// user.ErrInvalidText when it holds a NUL (as PostgreSQL's jsonb would) or
// invalid UTF-8 (which encoding/json would replace).
func jsonObject(m map[string]any) (map[string]any, error) {
	if !textcheck.Value(m) {
		return nil, user.ErrInvalidText
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if !textcheck.JSON(b) {
		return nil, user.ErrInvalidText
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

func activity(u *user.User) time.Time {
	if u.LastActiveTime.IsZero() {
		return u.CreatedAt
	}
	return u.LastActiveTime
}

// Each calls fn with a copy of every user, in no order, until fn returns
// false (the admin search of admin/memory walks it: O(users)).
func (s *Store) Each(ctx context.Context, fn func(*user.User) bool) error {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, u := range s.byID {
		if !fn(u.Clone()) {
			break
		}
	}
	return nil
}
