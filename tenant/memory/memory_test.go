package memory_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser/tenant/memory"
	"github.com/simpleuser/simpleuser/tenant/tenanttest"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

// The store beside the memory user store, wired as simpleuser.New wires
// them (CascadeTo): deleting a user drops their memberships.
func TestConformance(t *testing.T) {
	var n atomic.Int64
	tenanttest.Run(t, func(t *testing.T) tenanttest.Harness {
		users, s := usermemory.New(), memory.New()
		users.CascadeTo(s)
		return tenanttest.Harness{
			Store: s,
			NewUser: func(t *testing.T) int64 {
				u := &user.User{Email: fmt.Sprintf("t%d@example.com", n.Add(1))}
				if err := users.Create(t.Context(), u); err != nil {
					t.Fatal(err)
				}
				return u.ID
			},
			DeleteUser: func(t *testing.T, id int64) {
				if err := users.Delete(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
