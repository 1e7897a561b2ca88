package memory

import (
	"context"
	"sync/atomic"

	"github.com/simpleuser/simpleuser/user"
)

// tx is one transaction: the state of every user it touched, as it was
// before the first touch (nil: absent).
type tx struct {
	before      map[int64]*user.User
	identBefore map[identKey]*user.Identity // nil value: the identity was absent
	undo        []func()                    // the app's rollback actions, newest last
	done        atomic.Bool
}

// OnRollback registers undo to run if the transaction carried by ctx rolls
// back, so an app keeping its own rows in memory (the AppUser table of the
// embedded default) gets the same all-or-nothing behaviour as on
// PostgreSQL. Undo actions run newest first, outside the store's lock. It
// reports false (and registers nothing) when ctx carries no transaction.
func (s *Store) OnRollback(ctx context.Context, undo func()) bool {
	t := s.txFrom(ctx)
	if t == nil || t.done.Load() {
		return false
	}
	s.mu.Lock()
	t.undo = append(t.undo, undo)
	s.mu.Unlock()
	return true
}

type txKey struct{ s *Store }

func (s *Store) txFrom(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{s}).(*tx)
	return t
}

// lock locks the store for one call and returns the caller's transaction
// (nil outside one) and the unlock function.
func (s *Store) lock(ctx context.Context) (*tx, func(), error) {
	if t := s.txFrom(ctx); t != nil {
		s.mu.Lock()
		if t.done.Load() {
			s.mu.Unlock()
			return nil, nil, errTxDone
		}
		return t, s.mu.Unlock, nil
	}
	s.gate.Lock()
	s.mu.Lock()
	return nil, func() { s.mu.Unlock(); s.gate.Unlock() }, nil
}

// WithTx runs fn in a transaction; see user.Store. A nested call on a ctx
// that already carries a live transaction of s joins it.
func (s *Store) WithTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if t := s.txFrom(ctx); t != nil && !t.done.Load() {
		return fn(ctx)
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	t := &tx{before: map[int64]*user.User{}, identBefore: map[identKey]*user.Identity{}}
	committed := false
	defer func() {
		s.mu.Lock()
		if !committed {
			s.rollback(t)
		}
		t.done.Store(true)
		undo := t.undo
		s.mu.Unlock()
		if !committed {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{s}, t)); err != nil {
		return err
	}
	committed = true
	return nil
}

// rollback restores every user t touched. Called with mu held.
func (s *Store) rollback(t *tx) {
	for id := range t.before {
		s.unindex(id)
	}
	for _, old := range t.before {
		if old != nil {
			s.index(old)
		}
	}
	for k, old := range t.identBefore {
		s.storeIdent(k, old)
	}
}
