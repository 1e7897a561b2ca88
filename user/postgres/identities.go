package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/simpleuser/simpleuser/user"
)

// LinkIdentity links (id.Provider, id.Subject) to id.UserID in
// simpleuser_identities, setting id.CreatedAt and id.LastUsedAt from Now;
// see user.IdentityStore. The insert runs under a savepoint inside a
// transaction, so a refusal (user.ErrNotFound for a missing user) leaves the
// transaction usable.
func (s *Store) LinkIdentity(ctx context.Context, id *user.Identity) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for range 3 {
		now := s.now()
		var linked []user.Identity
		err := s.guarded(ctx, func(q querier) error {
			rows, err := q.Query(ctx, sqlLinkIdentity, id.UserID, id.Provider, id.Subject,
				nullString(id.Email), id.EmailVerified, now)
			if err != nil {
				return err
			}
			linked, err = pgx.CollectRows(rows, scanIdentity)
			return err
		})
		if err != nil {
			return mapErr("link identity", err)
		}
		if len(linked) == 1 {
			*id = linked[0]
			return nil
		}
		// The key is held: by this user (nothing to do) or another one.
		cur, err := s.GetIdentity(ctx, id.Provider, id.Subject)
		if errors.Is(err, user.ErrNotFound) {
			continue // unlinked meanwhile: try again
		}
		if err != nil {
			return err
		}
		if cur.UserID != id.UserID {
			return user.ErrIdentityTaken
		}
		*id = *cur
		return nil
	}
	return user.ErrConflict
}

// GetIdentity returns the identity (provider, subject), or user.ErrNotFound.
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (*user.Identity, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.q(ctx).Query(ctx, sqlGetIdentity, provider, subject)
	if err != nil {
		return nil, mapErr("get identity", err)
	}
	id, err := pgx.CollectExactlyOneRow(rows, scanIdentity)
	if err != nil {
		return nil, mapErr("get identity", err)
	}
	return &id, nil
}

// ListIdentities returns the user's identities, oldest link first.
func (s *Store) ListIdentities(ctx context.Context, userID int64) ([]user.Identity, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.q(ctx).Query(ctx, sqlListIdentities, userID)
	if err != nil {
		return nil, mapErr("list identities", err)
	}
	ids, err := pgx.CollectRows(rows, scanIdentity)
	if err != nil {
		return nil, mapErr("list identities", err)
	}
	if ids == nil {
		ids = []user.Identity{}
	}
	return ids, nil
}

// UnlinkIdentity removes the user's identity (provider, subject), or returns
// user.ErrNotFound.
func (s *Store) UnlinkIdentity(ctx context.Context, userID int64, provider, subject string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.q(ctx).Exec(ctx, sqlUnlinkIdentity, userID, provider, subject)
	if err != nil {
		return mapErr("unlink identity", err)
	}
	if tag.RowsAffected() == 0 {
		return user.ErrNotFound
	}
	return nil
}

// TouchIdentity sets last_used_at, email and email_verified of the identity.
func (s *Store) TouchIdentity(ctx context.Context, provider, subject, email string, emailVerified bool, at time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.q(ctx).Exec(ctx, sqlTouchIdentity, provider, subject, nullString(email), emailVerified, dbTime(at))
	if err != nil {
		return mapErr("touch identity", err)
	}
	if tag.RowsAffected() == 0 {
		return user.ErrNotFound
	}
	return nil
}
