package memory_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser/mfa/memory"
	"github.com/simpleuser/simpleuser/mfa/mfatest"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

var seq atomic.Int64

// The store beside the memory user store, wired as simpleuser.New wires
// them (CascadeTo): deleting a user drops their rows here.
func TestConformance(t *testing.T) {
	mfatest.Run(t, func(t *testing.T) mfatest.Harness {
		users, store := usermemory.New(), memory.New()
		users.CascadeTo(store)
		return mfatest.Harness{Store: store,
			NewUser: func(t *testing.T) int64 {
				u := &user.User{Email: fmt.Sprintf("mfa%d@example.com", seq.Add(1))}
				if err := users.Create(t.Context(), u); err != nil {
					t.Fatal(err)
				}
				return u.ID
			},
			DeleteUser: func(t *testing.T, id int64) {
				if err := users.Delete(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			}}
	})
}
