package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/mfa/mfatest"
	"github.com/simpleuser/simpleuser/mfa/postgres"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// newStores migrates a fresh schema and returns the user store and the mfa
// store on it.
func newStores(t *testing.T) (*userpg.Store, *postgres.Store) {
	pool := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := userpg.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return userpg.New(pool), postgres.New(pool)
}

var emails atomic.Int64

func newUser(t *testing.T, users *userpg.Store) int64 {
	u := &user.User{Email: fmt.Sprintf("mfa%d@example.com", emails.Add(1))}
	if err := users.Create(t.Context(), u); err != nil {
		t.Fatalf("Create user: %v", err)
	}
	return u.ID
}

func TestConformance(t *testing.T) {
	users, store := newStores(t) // one schema for the suite: users are distinct
	mfatest.Run(t, func(t *testing.T) mfatest.Harness {
		return mfatest.Harness{Store: store, NewUser: func(t *testing.T) int64 { return newUser(t, users) },
			DeleteUser: func(t *testing.T, id int64) {
				if err := users.Delete(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			}}
	})
}

// A user's factors go with the user (ON DELETE CASCADE), and a write for a
// user that does not exist is user.ErrNotFound.
func TestCascadeAndMissingUser(t *testing.T) {
	users, store := newStores(t)
	ctx := t.Context()
	id := newUser(t, users)
	a := &mfa.Authenticator{UserID: id, ID: mfa.NewID(), Name: "Phone", Secret: []byte{1}, CreatedAt: time.Now()}
	if err := store.AddAuthenticator(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := store.ReplaceRecoveryCodes(ctx, id, [][]byte{[]byte("d")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if list, err := store.Authenticators(ctx, id); err != nil || len(list) != 0 {
		t.Errorf("authenticators of a deleted user: %v, %v", list, err)
	}
	if n, err := store.RecoveryCodesLeft(ctx, id); err != nil || n != 0 {
		t.Errorf("recovery codes of a deleted user: %d, %v", n, err)
	}
	if err := store.AddAuthenticator(ctx, a); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("adding for a missing user: %v, want user.ErrNotFound", err)
	}
}

// Inside the user store's transaction the mfa store's writes join it and
// roll back with it.
func TestJoinsTheTransaction(t *testing.T) {
	users, store := newStores(t)
	ctx := t.Context()
	id := newUser(t, users)
	boom := errors.New("boom")
	on := true
	err := users.WithTx(ctx, func(ctx context.Context) error {
		if _, err := store.UpdateSettings(ctx, id, mfa.SettingsPatch{Enabled: &on}, time.Now()); err != nil {
			return err
		}
		if err := store.ReplaceRecoveryCodes(ctx, id, [][]byte{[]byte("d")}, time.Now()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if st, err := store.Settings(ctx, id); err != nil || st.Enabled {
		t.Errorf("settings after rollback: %+v, %v; want MFA off", st, err)
	}
	if n, _ := store.RecoveryCodesLeft(ctx, id); n != 0 {
		t.Errorf("%d recovery codes after rollback, want 0", n)
	}
}

// The flows on PostgreSQL, in the user store's transactions.
func TestFlows(t *testing.T) {
	users, store := newStores(t)
	st, idx := sessionmemory.New()
	var svcs []*mfa.Service // two instances: only the database orders them
	for range 2 {
		svc, err := mfa.New(mfa.Config{Store: store}, mfa.Deps{
			Secret: []byte("s"), Risk: riskmemory.New(), Now: time.Now, WithTx: users.WithTx,
			Sessions: &session.Manager{Store: st, Index: idx},
			Emit:     func(context.Context, hooks.Event) {},
			Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	mfatest.RunFlows(t, svcs, func(t *testing.T) *user.User {
		u, err := users.Get(t.Context(), newUser(t, users))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}, time.Now)
}
