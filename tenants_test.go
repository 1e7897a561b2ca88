package simpleuser_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
)

// claimsOf reads c's session body: what a permission check sees.
func (f *fixture) claimsOf(t *testing.T, c simpleuser.Client) *session.Data {
	t.Helper()
	d, err := f.svc.Sessions().Get(context.Background(), c.Token)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	return d
}

// A sign-in starts in the user's only active membership with its roles'
// permissions; a membership or role change reaches every live session of
// the user at once; removing the membership takes the session out of the
// tenant; LoggedIn and the membership events carry the tenant.
func TestTenantClaims(t *testing.T) { forBackends(t, testTenantClaims) }

func testTenantClaims(t *testing.T, newFixture fixtureMaker) {
	var mu sync.Mutex
	var events []hooks.Event
	var info hooks.LoginInfo
	f := newFixture(t, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
			return nil
		}
		c.Hooks.OnLogin = func(_ context.Context, _ *user.User, i hooks.LoginInfo) error { info = i; return nil }
	})
	ctx := context.Background()
	ts := f.svc.Tenants()
	acme, err := ts.CreateTenant(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.PutRole(ctx, "editor", "writes posts", []string{"post.write", "post.read"}); err != nil {
		t.Fatal(err)
	}
	a := f.loginAs(t, device("t-a", "ua"), "ten@example.com")
	uid := f.uid(t, a)
	if d := f.claimsOf(t, a); d.TenantID != 0 || d.Permissions != nil {
		t.Fatalf("a user with no membership starts in a tenant: %+v", d)
	}
	if _, err := ts.AddMembership(ctx, uid, acme.ID, "", []string{"editor"}); err != nil {
		t.Fatal(err)
	}
	// Membership added: a session in no tenant stays in none (switch-tenant moves it).
	if d := f.claimsOf(t, a); d.TenantID != 0 {
		t.Fatalf("adding a membership moved a session: %+v", d)
	}
	b := f.loginAs(t, device("t-b", "ua"), "ten@example.com")
	d := f.claimsOf(t, b)
	if d.TenantID != acme.ID || !slices.Equal(d.Roles, []string{"editor"}) || !slices.Equal(d.Permissions, []string{"post.read", "post.write"}) {
		t.Fatalf("login claims: tenant %d roles %v perms %v", d.TenantID, d.Roles, d.Permissions)
	}
	if info.TenantID != acme.ID {
		t.Errorf("LoginInfo.TenantID %d, want %d", info.TenantID, acme.ID)
	}
	mu.Lock()
	if i := slices.IndexFunc(events, func(e hooks.Event) bool { return e.Type == hooks.LoggedIn && e.TenantID == acme.ID }); i < 0 {
		t.Errorf("no LoggedIn event with the tenant: %+v", events)
	}
	if i := slices.IndexFunc(events, func(e hooks.Event) bool {
		return e.Type == hooks.MembershipAdded && e.TenantID == acme.ID && e.UserID == uid
	}); i < 0 {
		t.Errorf("no MembershipAdded event: %+v", events)
	}
	mu.Unlock()
	// A role change reaches the live session at once.
	if _, err := ts.PutRole(ctx, "editor", "", []string{"post.read"}); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, b); !slices.Equal(d.Permissions, []string{"post.read"}) {
		t.Fatalf("after the role change: %v", d.Permissions)
	}
	// A membership change too.
	if _, err := ts.PutRole(ctx, "owner", "", []string{"tenant.admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.UpdateMembership(ctx, uid, acme.ID, tenant.StatusActive, []string{"owner", "editor"}); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, b); !slices.Equal(d.Roles, []string{"editor", "owner"}) || !slices.Equal(d.Permissions, []string{"post.read", "tenant.admin"}) {
		t.Fatalf("after the membership change: %v %v", d.Roles, d.Permissions)
	}
	// Suspended: the session leaves the tenant.
	if _, err := ts.UpdateMembership(ctx, uid, acme.ID, tenant.StatusSuspended, []string{"owner"}); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, b); d.TenantID != 0 || d.Roles != nil || d.Permissions != nil {
		t.Fatalf("a suspended membership kept its claims: %+v", d)
	}
	// RefreshSessionUserData brings back what the store says (active again,
	// changed behind the service's back through the store).
	m, _ := ts.GetMembership(ctx, uid, acme.ID)
	m.Status = tenant.StatusActive
	if err := ts.Store.UpdateMembership(ctx, m); err != nil {
		t.Fatal(err)
	}
	c := f.loginAs(t, device("t-c", "ua"), "ten@example.com")
	m.Roles = []string{"editor"}
	if err := ts.Store.UpdateMembership(ctx, m); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, c); !slices.Contains(d.Roles, "owner") {
		t.Fatalf("the store change reached the session without a refresh: %v", d.Roles)
	}
	if _, err := f.svc.RefreshSessionUserData(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, c); !slices.Equal(d.Roles, []string{"editor"}) {
		t.Fatalf("after RefreshSessionUserData: %v", d.Roles)
	}
	// Removed: out of the tenant at once.
	if err := ts.RemoveMembership(ctx, uid, acme.ID); err != nil {
		t.Fatal(err)
	}
	if d := f.claimsOf(t, c); d.TenantID != 0 || d.Permissions != nil {
		t.Fatalf("a removed membership kept its claims: %+v", d)
	}
	if err := ts.RemoveMembership(ctx, uid, acme.ID); simpleuser.AsError(err).Code != tenant.CodeTenantNotFound || status(err) != 404 {
		t.Fatalf("removing twice: %v (%d)", err, status(err))
	}
}

// switch-tenant issues a new session in the tenant and kills the old
// token; a tenant the user is no active member of is 403 NOT_A_MEMBER;
// with two memberships DefaultOnly starts in none and DefaultFirst in the
// oldest.
func TestSwitchTenant(t *testing.T) { forBackends(t, testSwitchTenant) }

func testSwitchTenant(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	ts := f.svc.Tenants()
	one, _ := ts.CreateTenant(ctx, "one", "One")
	two, _ := ts.CreateTenant(ctx, "two", "Two")
	other, _ := ts.CreateTenant(ctx, "other", "Other")
	if _, err := ts.PutRole(ctx, "viewer", "", []string{"doc.read"}); err != nil {
		t.Fatal(err)
	}
	a := f.loginAs(t, device("s-a", "ua"), "sw@example.com")
	uid := f.uid(t, a)
	for _, tn := range []*tenant.Tenant{one, two} {
		f.clock.Advance(1e9)
		if _, err := ts.AddMembership(ctx, uid, tn.ID, tenant.StatusActive, []string{"viewer"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.AddMembership(ctx, uid, other.ID, tenant.StatusInvited, nil); err != nil {
		t.Fatal(err)
	}
	b := f.loginAs(t, device("s-b", "ua"), "sw@example.com")
	if d := f.claimsOf(t, b); d.TenantID != 0 {
		t.Fatalf("DefaultOnly with two memberships started in %d", d.TenantID)
	}
	res, err := f.svc.SwitchTenant(ctx, b, two.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.TenantID != two.ID || res.Token == b.Token || res.UserID != uid {
		t.Fatalf("switch result %+v", res)
	}
	if _, err := f.svc.Sessions().Get(ctx, b.Token); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the old token lives after the switch: %v", err)
	}
	if _, err := f.svc.SwitchTenant(ctx, b, one.ID); status(err) != 401 {
		t.Fatalf("switching with the dead token: %v", err)
	}
	b.Token = res.Token
	d := f.claimsOf(t, b)
	if d.TenantID != two.ID || !slices.Equal(d.Permissions, []string{"doc.read"}) || len(d.AMR) == 0 {
		t.Fatalf("switched session: %+v", d)
	}
	f.alive(t, "switched session", b, true)
	for _, id := range []int64{other.ID, 99999} { // invited, unknown
		if _, err := f.svc.SwitchTenant(ctx, b, id); simpleuser.AsError(err).Code != tenant.CodeNotMember || status(err) != 403 {
			t.Fatalf("switch to tenant %d: %v", id, err)
		}
	}
	f.alive(t, "session after a refused switch", b, true)
	if _, err := f.svc.SwitchTenant(ctx, simpleuser.Client{SSAID: "x"}, one.ID); status(err) != 401 {
		t.Fatalf("switch without a token: %v", err)
	}
	// Out of any tenant.
	res, err = f.svc.SwitchTenant(ctx, b, 0)
	if err != nil || res.TenantID != 0 {
		t.Fatalf("switch to none: %+v, %v", res, err)
	}
	b.Token = res.Token
	if d := f.claimsOf(t, b); d.TenantID != 0 || d.Permissions != nil {
		t.Fatalf("after switching out: %+v", d)
	}
	// Concurrent switches of one session: one wins, the rest get 401.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.SwitchTenant(ctx, b, one.ID)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if status(err) != 401 {
				t.Errorf("concurrent switch: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent switches won, want 1", won)
	}
	if n, _ := f.svc.Sessions().List(ctx, uid, ""); len(n) != 2 { // a and the one winner
		t.Fatalf("%d live sessions after the switches, want 2", len(n))
	}
}

// DefaultFirst starts a sign-in in the oldest active membership.
func TestTenantDefaultFirst(t *testing.T) {
	f := newFixture(t, func(c *simpleuser.Config) { c.Tenants.Default = tenant.DefaultFirst })
	ctx := context.Background()
	ts := f.svc.Tenants()
	one, _ := ts.CreateTenant(ctx, "one", "One")
	two, _ := ts.CreateTenant(ctx, "two", "Two")
	a := f.loginAs(t, device("f-a", "ua"), "first@example.com")
	uid := f.uid(t, a)
	if _, err := ts.AddMembership(ctx, uid, two.ID, tenant.StatusSuspended, nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(1e9)
	if _, err := ts.AddMembership(ctx, uid, one.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(1e9)
	if _, err := ts.AddMembership(ctx, uid, 1000+two.ID, "", nil); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("membership of an unknown tenant: %v", err)
	}
	b := f.loginAs(t, device("f-b", "ua"), "first@example.com")
	if d := f.claimsOf(t, b); d.TenantID != one.ID {
		t.Fatalf("DefaultFirst started in %d, want %d (the oldest active)", d.TenantID, one.ID)
	}
	if _, err := ts.CreateTenant(ctx, "Bad Slug", "x"); status(err) != 400 || simpleuser.AsError(err).Code != simpleuser.CodeInvalidInput {
		t.Fatalf("bad slug: %v", err)
	}
	if _, err := ts.CreateTenant(ctx, "one", "again"); status(err) != 409 {
		t.Fatalf("taken slug: %v", err)
	}
}
