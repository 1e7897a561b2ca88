package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/user"
)

// identKey is the identity of an identity: unique per (provider, subject).
type identKey struct{ provider, subject string }

// setIdent replaces (idn != nil) or deletes (idn == nil) the identity k,
// recording its previous state in t for rollback. Called with mu held.
func (s *Store) setIdent(t *tx, k identKey, idn *user.Identity) {
	if t != nil {
		if _, ok := t.identBefore[k]; !ok {
			t.identBefore[k] = s.idents[k] // stored values are replaced, never mutated in place
		}
	}
	s.storeIdent(k, idn)
}

// storeIdent replaces (idn != nil) or deletes (idn == nil) the identity k
// in both indexes. Called with mu held.
func (s *Store) storeIdent(k identKey, idn *user.Identity) {
	if old, ok := s.idents[k]; ok {
		delete(s.userIdents[old.UserID], k)
		if len(s.userIdents[old.UserID]) == 0 {
			delete(s.userIdents, old.UserID)
		}
		delete(s.idents, k)
	}
	if idn == nil {
		return
	}
	s.idents[k] = idn
	if s.userIdents[idn.UserID] == nil {
		s.userIdents[idn.UserID] = map[identKey]struct{}{}
	}
	s.userIdents[idn.UserID][k] = struct{}{}
}

// LinkIdentity links (id.Provider, id.Subject) to id.UserID; see
// user.IdentityStore. CreatedAt and LastUsedAt come from Now.
func (s *Store) LinkIdentity(ctx context.Context, id *user.Identity) error {
	if !textcheck.String(id.Provider) || !textcheck.String(id.Subject) || !textcheck.String(id.Email) {
		return user.ErrInvalidText
	}
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	k := identKey{id.Provider, id.Subject}
	if cur, ok := s.idents[k]; ok {
		if cur.UserID != id.UserID {
			return user.ErrIdentityTaken
		}
		*id = *cur
		return nil
	}
	if _, ok := s.byID[id.UserID]; !ok {
		return user.ErrNotFound
	}
	now := s.now()
	c := *id
	c.CreatedAt, c.LastUsedAt = now, now
	s.setIdent(t, k, &c)
	id.CreatedAt, id.LastUsedAt = now, now
	return nil
}

// GetIdentity returns a copy of the identity (provider, subject), or user.ErrNotFound.
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (*user.Identity, error) {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if idn, ok := s.idents[identKey{provider, subject}]; ok {
		c := *idn
		return &c, nil
	}
	return nil, user.ErrNotFound
}

// ListIdentities returns the user's identities, oldest link first.
func (s *Store) ListIdentities(ctx context.Context, userID int64) ([]user.Identity, error) {
	_, unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := []user.Identity{}
	for k := range s.userIdents[userID] {
		out = append(out, *s.idents[k])
	}
	slices.SortFunc(out, func(a, b user.Identity) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Subject, b.Subject))
	})
	return out, nil
}

// UnlinkIdentity removes the user's identity (provider, subject), or
// returns user.ErrNotFound.
func (s *Store) UnlinkIdentity(ctx context.Context, userID int64, provider, subject string) error {
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	k := identKey{provider, subject}
	if cur, ok := s.idents[k]; !ok || cur.UserID != userID {
		return user.ErrNotFound
	}
	s.setIdent(t, k, nil)
	return nil
}

// TouchIdentity sets LastUsedAt, Email and EmailVerified of the identity.
func (s *Store) TouchIdentity(ctx context.Context, provider, subject, email string, emailVerified bool, at time.Time) error {
	if !textcheck.String(email) {
		return user.ErrInvalidText
	}
	t, unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	k := identKey{provider, subject}
	cur, ok := s.idents[k]
	if !ok {
		return user.ErrNotFound
	}
	c := *cur
	c.Email, c.EmailVerified, c.LastUsedAt = email, emailVerified, at
	s.setIdent(t, k, &c)
	return nil
}
