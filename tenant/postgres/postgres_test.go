package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/tenant/postgres"
	"github.com/simpleuser/simpleuser/tenant/tenanttest"
	"github.com/simpleuser/simpleuser/user"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

var emails atomic.Int64

func TestConformance(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := userpg.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	users, store := userpg.New(pool), postgres.New(pool)
	tenanttest.Run(t, func(t *testing.T) tenanttest.Harness {
		return tenanttest.Harness{
			Store: store,
			NewUser: func(t *testing.T) int64 {
				u := &user.User{Email: fmt.Sprintf("tenant%d@example.com", emails.Add(1))}
				if err := users.Create(t.Context(), u); err != nil {
					t.Fatalf("Create user: %v", err)
				}
				return u.ID
			},
			DeleteUser: func(t *testing.T, id int64) {
				if err := users.Delete(t.Context(), id); err != nil {
					t.Fatalf("Delete user: %v", err)
				}
			},
		}
	})
}
