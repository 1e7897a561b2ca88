package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/passkey/passkeytest"
	passkeypg "github.com/simpleuser/simpleuser/passkey/postgres"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// migrated returns a pool on a fresh schema with the kit's tables.
func migrated(t *testing.T) *pgxpool.Pool {
	pool := testenv.Postgres(t)
	if err := userpg.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func newUser(t *testing.T, users *userpg.Store) int64 {
	t.Helper()
	u := &user.User{}
	if err := users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestConformance(t *testing.T) {
	passkeytest.Run(t, func(t *testing.T) (passkey.Store, func() int64) {
		pool := migrated(t)
		users := userpg.New(pool)
		return passkeypg.New(pool), func() int64 { return newUser(t, users) }
	})
}

// TestUserDeleted: the conformance check of a user's deletion, on
// user/postgres (ON DELETE CASCADE).
func TestUserDeleted(t *testing.T) {
	pool := migrated(t)
	users := userpg.New(pool)
	passkeytest.RunUserDeleted(t, passkeypg.New(pool), func() int64 { return newUser(t, users) }, func(id int64) {
		if err := users.Delete(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCascade: deleting a user deletes their passkeys and handle (the
// foreign keys' ON DELETE CASCADE), and a handle or passkey for a user
// that does not exist is ErrNotFound.
func TestCascade(t *testing.T) {
	ctx := t.Context()
	pool := migrated(t)
	users, s := userpg.New(pool), passkeypg.New(pool)
	id := newUser(t, users)
	h, err := s.UserHandle(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c := &passkey.Credential{ID: []byte("cred-1"), UserID: id, UserHandle: h, Name: "k", PublicKey: []byte{1}}
	if err := s.Add(ctx, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Get after the user's deletion = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByHandle(ctx, h); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("UserByHandle after the user's deletion = %v, want ErrNotFound", err)
	}
	if _, err := s.UserHandle(ctx, id); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("UserHandle of a missing user = %v, want ErrNotFound", err)
	}
}

// TestJoinsTransaction: a Store call with a context carrying the user
// store's transaction runs in it and rolls back with it.
func TestJoinsTransaction(t *testing.T) {
	ctx := t.Context()
	pool := migrated(t)
	users, s := userpg.New(pool), passkeypg.New(pool)
	id := newUser(t, users)
	h, _ := s.UserHandle(ctx, id)
	c := &passkey.Credential{ID: []byte("in-tx"), UserID: id, UserHandle: h, Name: "k", PublicKey: []byte{1}}
	boom := errors.New("boom")
	err := users.WithTx(ctx, func(ctx context.Context) error {
		if err := s.Add(ctx, c, time.Now()); err != nil {
			return err
		}
		if _, err := s.Get(ctx, c.ID); err != nil {
			t.Errorf("Get inside the transaction: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx = %v", err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("the rolled-back Add is visible: %v", err)
	}
}

// TestUnavailable: a closed pool is a *backend.Error naming postgres.
func TestUnavailable(t *testing.T) {
	pool := migrated(t)
	s := passkeypg.New(pool)
	pool.Close()
	_, err := s.List(t.Context(), 1)
	if backend.Name(err) != "postgres" {
		t.Errorf("List on a closed pool = %v, want a postgres backend error", err)
	}
}
