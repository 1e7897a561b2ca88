package simpleuser_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/tenant"
	tenantmemory "github.com/simpleuser/simpleuser/tenant/memory"
	"github.com/simpleuser/simpleuser/user"
)

// countingTenants counts the reads of a user's memberships: the lookup of
// the tenant a new session starts in.
type countingTenants struct {
	tenant.Store
	lookups atomic.Int64
}

func (c *countingTenants) UserMemberships(ctx context.Context, userID int64) ([]tenant.Membership, error) {
	c.lookups.Add(1)
	return c.Store.UserMemberships(ctx, userID)
}

// A sign-in within a request (the middleware's svc.WithClient) looks up
// the user's default tenant once, not once in its transaction and again
// for the session; the session still carries the tenant. An OnLogin hook
// that changes the user's memberships makes the session's lookup read
// them again.
func TestLoginLooksUpTheDefaultTenantOnce(t *testing.T) {
	ctx := context.Background()
	store := &countingTenants{Store: tenantmemory.New()}
	var joinOnLogin atomic.Int64 // a tenant the OnLogin hook adds the user to (0: none)
	var svc *simpleuser.Service
	cfg := simpleuser.Config{Argon2: password.Params{Memory: 64, Time: 1}}
	cfg.Tenants.Store = store
	cfg.Hooks = hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "123456", nil }, OnLogin: func(ctx context.Context, u *user.User, _ hooks.LoginInfo) error {
		if tid := joinOnLogin.Load(); tid != 0 {
			_, err := svc.Tenants().AddMembership(ctx, u.ID, tid, "", nil)
			return err
		}
		return nil
	}}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	login := func(email string) *simpleuser.LoginResult {
		t.Helper()
		c := simpleuser.Client{SSAID: "memo-" + email, IP: netip.MustParseAddr("192.0.2.8")}
		res, err := svc.Login(svc.WithClient(ctx, c), c, simpleuser.LoginInput{Email: email, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	acme, err := svc.Tenants().CreateTenant(ctx, "memo-acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	ann, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "ann@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Tenants().AddMembership(ctx, ann.ID, acme.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	store.lookups.Store(0)
	if res := login("ann@example.com"); res.TenantID != acme.ID {
		t.Fatalf("session tenant %d, want %d", res.TenantID, acme.ID)
	}
	if n := store.lookups.Load(); n != 1 {
		t.Errorf("%d lookups of the default tenant in one sign-in, want 1", n)
	}

	if _, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bob@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	joinOnLogin.Store(acme.ID)
	store.lookups.Store(0)
	if res := login("bob@example.com"); res.TenantID != acme.ID {
		t.Fatalf("a membership added by OnLogin: session tenant %d, want %d", res.TenantID, acme.ID)
	}
	if n := store.lookups.Load(); n != 2 {
		t.Errorf("%d lookups when OnLogin changed the memberships, want 2 (read again)", n)
	}
}
