package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/memory"
)

// rows is a Dependent keeping one row per user id.
type rows struct {
	mu    sync.Mutex
	ids   map[int64]bool
	calls int
}

func (r *rows) DropUsers(ids []int64) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	var gone []int64
	for _, id := range ids {
		if r.ids[id] {
			gone = append(gone, id)
			delete(r.ids, id)
		}
	}
	if gone == nil {
		return nil
	}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, id := range gone {
			r.ids[id] = true
		}
	}
}

func (r *rows) has(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// Every deletion of users (Delete, PurgeAnonymous) drops their rows in
// the dependents, once per dependent however often it was registered;
// a deletion inside a transaction that rolls back puts them back.
func TestCascadeTo(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	dep := &rows{ids: map[int64]bool{}}
	s.CascadeTo(dep, "not a dependent", nil, dep)
	mk := func(email string) int64 {
		u := &user.User{Email: email}
		if err := s.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		dep.ids[u.ID] = true
		return u.ID
	}
	a, b := mk("a@example.com"), mk("b@example.com")
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if dep.has(a) || !dep.has(b) || dep.calls != 1 {
		t.Fatalf("after Delete(a): a %v, b %v, %d calls", dep.has(a), dep.has(b), dep.calls)
	}
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(ctx context.Context) error {
		if err := s.Delete(ctx, b); err != nil {
			return err
		}
		if dep.has(b) {
			t.Error("b's row outlives its deletion inside the transaction")
		}
		return boom
	})
	if !errors.Is(err, boom) || !dep.has(b) {
		t.Fatalf("after a rolled-back deletion: %v, b's row %v", err, dep.has(b))
	}
	if _, err := s.Get(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a); !errors.Is(err, user.ErrNotFound) || dep.calls != 2 {
		t.Fatalf("deleting a missing user: %v, %d calls (want no cascade)", err, dep.calls)
	}
	anon, err := s.GetOrCreateAnonymous(ctx, "cascade-anon", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dep.ids[anon.ID] = true
	if n, err := s.PurgeAnonymous(ctx, time.Now(), 10); err != nil || n != 1 {
		t.Fatalf("PurgeAnonymous = %d, %v", n, err)
	}
	if dep.has(anon.ID) || !dep.has(b) {
		t.Errorf("after the purge: anonymous row %v, b %v", dep.has(anon.ID), dep.has(b))
	}
	if dep.calls != 3 {
		t.Errorf("%d DropUsers calls, want 3", dep.calls)
	}
}
