package simpleuser_test

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
)

// With the embedded memory stores, deleting a user (DeleteUser, the purge
// of anonymous users) deletes what hangs off them in the other stores, as
// ON DELETE CASCADE does on PostgreSQL: tenant memberships, second-factor
// rows (trusted devices here), and no other user's.
func TestDeleteUserCascadesInMemory(t *testing.T) {
	ctx := context.Background()
	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{
		SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "123456", nil },
	}})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := svc.Tenants().CreateTenant(ctx, "cascade", "Cascade")
	if err != nil {
		t.Fatal(err)
	}
	mfaStore := svc.Config().MFA.Store
	anon, err := svc.Config().Users.GetOrCreateAnonymous(ctx, "cascade-anon", time.Now().Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, email := range []string{"gone@example.com", "kept@example.com"} {
		u, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	for _, id := range append(ids, anon.ID) {
		if _, err := svc.Tenants().AddMembership(ctx, id, tn.ID, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := mfaStore.AddTrustedDevice(ctx, &mfa.TrustedDevice{UserID: id, ID: mfa.NewID(), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.DeleteUser(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PurgeAnonymous(ctx, time.Hour, 10); err != nil || n != 1 {
		t.Fatalf("PurgeAnonymous = %d, %v", n, err)
	}
	for _, id := range []int64{ids[0], anon.ID} {
		if ms, _ := svc.Tenants().UserMemberships(ctx, id); len(ms) != 0 {
			t.Errorf("user %d deleted, memberships remain: %+v", id, ms)
		}
		if ds, _ := mfaStore.TrustedDevices(ctx, id, time.Now()); len(ds) != 0 {
			t.Errorf("user %d deleted, trusted devices remain: %+v", id, ds)
		}
	}
	if ms, _ := svc.Tenants().TenantMembers(ctx, tn.ID, 0, 10); len(ms) != 1 || ms[0].UserID != ids[1] {
		t.Errorf("members left: %+v, want the kept user only", ms)
	}
	if ds, _ := mfaStore.TrustedDevices(ctx, ids[1], time.Now()); len(ds) != 1 {
		t.Errorf("the kept user's devices: %+v", ds)
	}
}
