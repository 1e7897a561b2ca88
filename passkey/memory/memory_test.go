package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/passkey/memory"
	"github.com/simpleuser/simpleuser/passkey/passkeytest"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

func TestConformance(t *testing.T) {
	passkeytest.Run(t, func(t *testing.T) (passkey.Store, func() int64) {
		var next atomic.Int64
		return memory.New(), func() int64 { return next.Add(1) }
	})
}

// TestUserDeleted: the memory user store, wired as simpleuser.New wires
// it (CascadeTo), deletes a user's passkeys and handle with the user.
func TestUserDeleted(t *testing.T) {
	users, s := usermemory.New(), memory.New()
	users.CascadeTo(s)
	var n atomic.Int64
	passkeytest.RunUserDeleted(t, s, func() int64 {
		u := &user.User{Email: fmt.Sprintf("pk%d@example.com", n.Add(1))}
		if err := users.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}, func(id int64) {
		if err := users.Delete(t.Context(), id); err != nil {
			t.Fatal(err)
		}
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
