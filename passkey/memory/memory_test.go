package memory_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/passkey/memory"
	"github.com/simpleuser/simpleuser/passkey/passkeytest"
)

func TestConformance(t *testing.T) {
	passkeytest.Run(t, func(t *testing.T) (passkey.Store, func() int64) {
		var next atomic.Int64
		return memory.New(), func() int64 { return next.Add(1) }
	})
}

// TestRemoveUser: what ON DELETE CASCADE does on PostgreSQL.
func TestRemoveUser(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	h, _ := s.UserHandle(ctx, 1)
	other, _ := s.UserHandle(ctx, 2)
	for i, u := range []int64{1, 2} {
		hh := h
		if u == 2 {
			hh = other
		}
		if err := s.Add(ctx, &passkey.Credential{ID: []byte{byte(i + 1)}, UserID: u, UserHandle: hh, Name: "k"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveUser(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, []byte{1}); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("the removed user's passkey remains: %v", err)
	}
	if _, err := s.UserByHandle(ctx, h); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("the removed user's handle remains: %v", err)
	}
	if _, err := s.Get(ctx, []byte{2}); err != nil {
		t.Errorf("another user's passkey went too: %v", err)
	}
}
