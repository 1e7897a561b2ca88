package usertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser/user"
)

func testTxCommit(t *testing.T, s user.Store) {
	var id int64
	err := s.WithTx(t.Context(), func(ctx context.Context) error {
		u := &user.User{Email: "tx@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		id = u.ID
		got, err := s.GetByEmail(ctx, "tx@x.com") // the tx sees its own writes
		if err != nil {
			return err
		}
		got.LoginIP = "192.0.2.1"
		return s.Update(ctx, got)
	})
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if got := get(t, s, id); got.LoginIP != "192.0.2.1" || got.Version != 2 {
		t.Errorf("after commit: ip %q v%d, want 192.0.2.1 v2", got.LoginIP, got.Version)
	}
}

func testTxRollback(t *testing.T, s user.Store) {
	upd := create(t, s, &user.User{Email: "upd@x.com"})
	del := create(t, s, &user.User{Email: "del@x.com"})
	var created, anon int64
	err := s.WithTx(t.Context(), func(ctx context.Context) error {
		u := &user.User{Email: "new@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		created = u.ID
		a, err := s.GetOrCreateAnonymous(ctx, "tx-dev", base())
		if err != nil {
			return err
		}
		anon = a.ID
		v := upd.Clone()
		v.Email, v.Disabled = "renamed@x.com", true
		if err := s.Update(ctx, v); err != nil {
			return err
		}
		if err := s.TouchActive(ctx, upd.ID, "192.0.2.2", base()); err != nil {
			return err
		}
		if err := s.Delete(ctx, del.ID); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	wantErr(t, "WithTx", err, errBoom)
	wantGone(t, s, created)
	wantGone(t, s, anon)
	for _, q := range []string{"new@x.com", "renamed@x.com"} {
		_, err := s.GetByEmail(t.Context(), q)
		wantErr(t, "GetByEmail("+q+") after rollback", err, user.ErrNotFound)
	}
	_, err = s.GetAnonymous(t.Context(), "tx-dev")
	wantErr(t, "GetAnonymous after rollback", err, user.ErrNotFound)
	wantUser(t, "updated user after rollback", get(t, s, upd.ID), upd)
	if got := get(t, s, upd.ID); got.Version != 1 {
		t.Errorf("Version after rollback = %d, want 1", got.Version)
	}
	wantUser(t, "deleted user after rollback", get(t, s, del.ID), del)
	if got, err := s.GetByEmail(t.Context(), "upd@x.com"); err != nil || got.ID != upd.ID {
		t.Errorf("GetByEmail(old address) after rollback = %v, %v", got, err)
	}
	create(t, s, &user.User{Email: "new@x.com"}) // the address is free again
}

func testTxNested(t *testing.T, s user.Store) {
	t.Run("Commit", func(t *testing.T) {
		var outer, inner int64
		err := s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "outer-ok@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			outer = u.ID
			return s.WithTx(ctx, func(ctx context.Context) error {
				if _, err := s.Get(ctx, outer); err != nil { // sees the outer write
					return err
				}
				v := &user.User{Email: "inner-ok@x.com"}
				err := s.Create(ctx, v)
				inner = v.ID
				return err
			})
		})
		if err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		get(t, s, outer)
		get(t, s, inner)
	})
	t.Run("InnerErrorRollsBackAll", func(t *testing.T) {
		var outer, inner int64
		err := s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "outer@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			outer = u.ID
			return s.WithTx(ctx, func(ctx context.Context) error {
				v := &user.User{Email: "inner@x.com"}
				if err := s.Create(ctx, v); err != nil {
					return err
				}
				inner = v.ID
				return errBoom
			})
		})
		wantErr(t, "WithTx", err, errBoom)
		if outer == 0 || inner == 0 {
			t.Fatalf("creates inside the tx did not run (outer %d, inner %d)", outer, inner)
		}
		wantGone(t, s, outer)
		wantGone(t, s, inner)
	})
}

func testTxPanic(t *testing.T, s user.Store) {
	var id int64
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want the panic value %v", r, errBoom)
			}
		}()
		_ = s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "panic@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			id = u.ID
			panic(errBoom)
		})
		t.Error("WithTx returned instead of re-panicking")
	}()
	if id == 0 {
		t.Fatal("Create inside the tx did not run")
	}
	wantGone(t, s, id)
	create(t, s, &user.User{Email: "panic@x.com"}) // the store is still usable and the address free
}

// num reads a metadata number, whatever type the store decodes it to.
func num(t *testing.T, v any) int {
	switch n := v.(type) {
	case nil:
		return 0
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			t.Errorf("counter %q: %v", n, err)
		}
		return int(i)
	}
	t.Errorf("counter has type %T", v)
	return 0
}

func testConcurrentUpdates(t *testing.T, s user.Store) {
	const n = 20
	u := create(t, s, &user.User{Email: "a@x.com"})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			for {
				cur, err := s.Get(context.Background(), u.ID)
				if err != nil {
					errs <- err
					return
				}
				cur.Metadata["count"] = num(t, cur.Metadata["count"]) + 1
				err = s.Update(context.Background(), cur)
				if errors.Is(err, user.ErrConflict) {
					continue
				}
				errs <- err
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got := get(t, s, u.ID)
	if c := num(t, got.Metadata["count"]); c != n || got.Version != n+1 {
		t.Errorf("after %d concurrent increments: count %d, Version %d; want %d, %d", n, c, got.Version, n, n+1)
	}
}
