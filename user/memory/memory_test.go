package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/memory"
	"github.com/simpleuser/simpleuser/user/usertest"
)

func TestConformance(t *testing.T) {
	usertest.Run(t, func(*testing.T) user.Store { return memory.New() })
}

func TestNowField(t *testing.T) {
	s := memory.New()
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s.Now = func() time.Time { return t0 }
	u := &user.User{Email: "a@x.com"}
	if err := s.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t0) {
		t.Errorf("Create: CreatedAt %v UpdatedAt %v, want %v", u.CreatedAt, u.UpdatedAt, t0)
	}
	t1 := t0.Add(time.Hour)
	s.Now = func() time.Time { return t1 }
	if err := s.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(t.Context(), u.ID)
	if !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t1) || !u.UpdatedAt.Equal(t1) {
		t.Errorf("Update: CreatedAt %v UpdatedAt %v, want %v %v", got.CreatedAt, got.UpdatedAt, t0, t1)
	}
}

func TestSequentialIDs(t *testing.T) {
	s := memory.New()
	for want := int64(1); want <= 3; want++ {
		u := &user.User{Email: fmt.Sprintf("u%d@x.com", want)}
		if err := s.Create(t.Context(), u); err != nil || u.ID != want {
			t.Fatalf("Create = id %d, %v; want id %d", u.ID, err, want)
		}
	}
}

// Calls outside a transaction wait until it ends, then see its outcome.
func TestTxExcludesOthers(t *testing.T) {
	s := memory.New()
	inTx, done := make(chan struct{}), make(chan error, 1)
	release := make(chan struct{})
	go func() {
		done <- s.WithTx(t.Context(), func(ctx context.Context) error {
			if err := s.Create(ctx, &user.User{Email: "a@x.com"}); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	got := make(chan error, 1)
	go func() {
		_, err := s.GetByEmail(context.Background(), "a@x.com")
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("GetByEmail outside the tx returned %v while the tx was open", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if err := <-got; err != nil {
		t.Errorf("GetByEmail after commit: %v", err)
	}
}

func TestTxCtxAfterEnd(t *testing.T) {
	s := memory.New()
	var leaked context.Context
	if err := s.WithTx(t.Context(), func(ctx context.Context) error { leaked = ctx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(leaked, &user.User{Email: "a@x.com"}); err == nil {
		t.Error("Create with a finished transaction's ctx succeeded")
	}
	// WithTx on it starts a fresh transaction instead of joining the dead one.
	err := s.WithTx(leaked, func(ctx context.Context) error { return s.Create(ctx, &user.User{Email: "a@x.com"}) })
	if err != nil {
		t.Errorf("WithTx on a finished transaction's ctx: %v", err)
	}
}

// A transaction of one store is not joined by another store.
func TestTxPerStore(t *testing.T) {
	a, b := memory.New(), memory.New()
	err := a.WithTx(t.Context(), func(ctx context.Context) error {
		if err := b.Create(ctx, &user.User{Email: "b@x.com"}); err != nil {
			return err
		}
		return errors.New("rollback a")
	})
	if err == nil {
		t.Fatal("WithTx: want the error")
	}
	if _, err := b.GetByEmail(t.Context(), "b@x.com"); err != nil {
		t.Errorf("b's write was rolled back with a's transaction: %v", err)
	}
}

// Metadata is stored as JSON would be, so every backend returns the same types.
func TestMetadataJSONTypes(t *testing.T) {
	s := memory.New()
	u := &user.User{Email: "a@x.com", Metadata: map[string]any{"n": 1, "l": []string{"x"}}}
	if err := s.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(t.Context(), u.ID)
	if _, ok := got.Metadata["n"].(float64); !ok {
		t.Errorf("number read back as %T, want float64", got.Metadata["n"])
	}
	if _, ok := got.Metadata["l"].([]any); !ok {
		t.Errorf("list read back as %T, want []any", got.Metadata["l"])
	}
	if err := s.Create(t.Context(), &user.User{Email: "b@x.com", Metadata: map[string]any{"f": func() {}}}); err == nil {
		t.Error("Create accepted metadata that is not JSON")
	}
}

func TestOnRollback(t *testing.T) {
	s := memory.New()
	ctx := context.Background()
	var order []int
	if s.OnRollback(ctx, func() {}) {
		t.Fatal("OnRollback outside a transaction must report false")
	}
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(ctx context.Context) error {
		s.OnRollback(ctx, func() { order = append(order, 1) })
		s.OnRollback(ctx, func() { order = append(order, 2) })
		return boom
	})
	if !errors.Is(err, boom) || len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Fatalf("err %v, undo order %v; want [2 1]", err, order)
	}
	order = nil
	if err := s.WithTx(ctx, func(ctx context.Context) error {
		s.OnRollback(ctx, func() { order = append(order, 1) })
		return nil
	}); err != nil || len(order) != 0 {
		t.Fatalf("commit ran undo actions: %v", order)
	}
}
