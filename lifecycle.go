package simpleuser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/user"
)

// deleteInTx hard-deletes u inside the current transaction: BeforeDelete,
// the row (the app's rows linked with ON DELETE CASCADE go with it), then a
// UserDeleted event with the snapshot, delivered after commit.
func (s *Service) deleteInTx(ctx context.Context, u *user.User) error {
	if err := s.runHook(ctx, s.hooks.BeforeDelete, u); err != nil {
		return err
	}
	if err := s.users.Delete(ctx, u.ID); err != nil && !errors.Is(err, user.ErrNotFound) {
		return err
	}
	s.emit(ctx, hooks.Event{Type: hooks.UserDeleted, User: u})
	return nil
}

// purgeExpiredHolder hard-deletes the account holding email if its unregister
// grace period is over, freeing the address. Call inside a transaction.
func (s *Service) purgeExpiredHolder(ctx context.Context, email string, now time.Time) error {
	u, err := s.users.GetByEmail(ctx, email)
	if errors.Is(err, user.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !s.expired(u, now) {
		return nil
	}
	if _, err := s.revokeUser(ctx, u.ID, metrics.EndedDeleted); err != nil {
		return err
	}
	return s.deleteInTx(ctx, u)
}

// PurgeAnonymous deletes anonymous users inactive for longer than olderThan
// (at most limit per call; limit <= 0 means 1000) and returns how many. So
// rotating ssaids cannot grow the users table without bound. No hooks run:
// anonymous placeholders have no account to speak of.
func (s *Service) PurgeAnonymous(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.users.PurgeAnonymous(ctx, s.now().Add(-olderThan), limit)
}

// PurgeUnregistered hard-deletes up to limit accounts (limit <= 0: 1000)
// whose unregister grace period is over, each in its own transaction with
// BeforeDelete and a UserDeleted event, and returns how many it deleted. An
// account whose BeforeDelete refuses is skipped (and logged).
func (s *Service) PurgeUnregistered(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	now := s.now()
	cutoff := now
	if s.cfg.UnregisterGrace > 0 {
		cutoff = now.Add(-s.cfg.UnregisterGrace)
	}
	us, err := s.users.ListUnregistered(ctx, cutoff, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range us {
		deleted := false
		err := s.WithTx(ctx, func(ctx context.Context) error {
			cur, err := s.users.Get(ctx, u.ID)
			if errors.Is(err, user.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if !s.expired(cur, now) { // recovered by a login meanwhile
				return nil
			}
			if _, err := s.revokeUser(ctx, cur.ID, metrics.EndedDeleted); err != nil {
				return err
			}
			deleted = true
			return s.deleteInTx(ctx, cur)
		})
		switch {
		case err == nil && deleted:
			n++
		case err != nil && AsError(err).Status == 503:
			return n, err // the backend is down: stop, the next run resumes
		case err != nil:
			s.log.WarnContext(ctx, "simpleuser: purge of an unregistered account refused", slog.Int64("user", u.ID), slog.Any("error", err))
		}
	}
	return n, nil
}

// StartPurger runs, every interval until ctx is done, PurgeUnregistered
// (accounts past their grace period, with UserDeleted events) and
// PurgeAnonymous (anonymous users inactive for anonymousTTL; 0 skips it).
// Opt-in: call it once per process (several instances may run it; the
// deletions are idempotent). Errors are logged.
func (s *Service) StartPurger(ctx context.Context, interval, anonymousTTL time.Duration) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.PurgeUnregistered(ctx, 1000); err != nil {
				s.observeError(err)
				s.log.WarnContext(ctx, "simpleuser: unregistered purge failed", slog.Any("error", err))
			}
			for anonymousTTL > 0 {
				n, err := s.PurgeAnonymous(ctx, anonymousTTL, 1000)
				if err != nil {
					s.observeError(err)
					s.log.WarnContext(ctx, "simpleuser: anonymous purge failed", slog.Any("error", err))
				}
				if err != nil || n < 1000 {
					break
				}
			}
		}
	}()
}

// EnsureInitialUsers applies Config.InitialUsers (New calls it): each missing
// account is created through CreateUser; an existing one gets the configured
// metadata keys and, if its password does not verify, the configured one.
// Safe to run on several instances at once.
func (s *Service) EnsureInitialUsers(ctx context.Context) error {
	for _, iu := range s.cfg.InitialUsers {
		if err := s.ensureInitialUser(ctx, iu); err != nil {
			return fmt.Errorf("%s: %w", iu.Email, err)
		}
	}
	return nil
}

func (s *Service) ensureInitialUser(ctx context.Context, iu InitialUser) error {
	for i := 0; ; i++ {
		u, err := s.users.GetByEmail(ctx, iu.Email)
		if errors.Is(err, user.ErrNotFound) {
			_, err = s.CreateUser(ctx, NewUser{Email: iu.Email, Password: iu.Password, Metadata: iu.Metadata})
			if errors.Is(err, ErrEmailTaken) && i < maxRetries {
				continue // another instance created it first
			}
			return err
		}
		if err != nil {
			return err
		}
		if !metadataHas(u.Metadata, iu.Metadata) {
			if _, err := s.UpdateMetadata(ctx, u.ID, func(m map[string]any) error {
				for k, v := range iu.Metadata {
					m[k] = v
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if iu.Password != "" {
			ok, _, err := s.hasher.Verify(ctx, iu.Password, u.PasswordHash)
			if err != nil {
				return err
			}
			if !ok {
				return s.SetPassword(ctx, u.ID, iu.Password)
			}
		}
		return nil
	}
}

// metadataHas reports whether m already holds every key of want with an
// equal JSON value.
func metadataHas(m, want map[string]any) bool {
	for k, v := range want {
		a, err1 := json.Marshal(m[k])
		b, err2 := json.Marshal(v)
		if _, ok := m[k]; !ok || err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}
