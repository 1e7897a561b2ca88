// Package tenanttest is the conformance suite every tenant.Store
// implementation must pass. Call Run from the implementation's tests.
package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/tenant"
)

// Harness is one store under test, a way to make users it accepts (a
// PostgreSQL store needs their rows) and to delete one (nil: the suite
// skips nothing, but does not check the cascade).
type Harness struct {
	Store      tenant.Store
	NewUser    func(t *testing.T) int64
	DeleteUser func(t *testing.T, id int64)
}

// Run runs the suite; newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Tenants", testTenants},
		{"Memberships", testMemberships},
		{"Roles", testRoles},
		{"ConcurrentSlug", testConcurrentSlug},
		{"UserDeletionCascades", testCascade},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t)) })
	}
}

var seq atomic.Int64

func slug(p string) string { return fmt.Sprintf("%s-%d-%d", p, time.Now().UnixNano()%1e9, seq.Add(1)) }

func at(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }

func newTenant(t *testing.T, h Harness, p string) *tenant.Tenant {
	t.Helper()
	tn := &tenant.Tenant{Slug: slug(p), Name: p, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := h.Store.CreateTenant(context.Background(), tn); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if tn.ID == 0 {
		t.Fatal("CreateTenant set no id")
	}
	return tn
}

func testTenants(t *testing.T, h Harness) {
	ctx := context.Background()
	a, b := newTenant(t, h, "acme"), newTenant(t, h, "beta")
	if a.ID == b.ID {
		t.Fatal("two tenants share an id")
	}
	dup := &tenant.Tenant{Slug: a.Slug, Name: "x", CreatedAt: at(1), UpdatedAt: at(1)}
	if err := h.Store.CreateTenant(ctx, dup); !errors.Is(err, tenant.ErrExists) {
		t.Fatalf("CreateTenant with a taken slug: %v, want ErrExists", err)
	}
	got, err := h.Store.GetTenant(ctx, a.ID)
	if err != nil || got.Slug != a.Slug || got.Name != "acme" || !got.CreatedAt.Equal(at(0)) {
		t.Fatalf("GetTenant: %+v, %v", got, err)
	}
	if _, err := h.Store.GetTenant(ctx, a.ID+b.ID+1000); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("GetTenant of an unknown id: %v", err)
	}
	list, err := h.Store.ListTenants(ctx, a.ID, 10)
	if err != nil || len(list) == 0 || list[0].ID != b.ID {
		t.Fatalf("ListTenants after %d: %+v, %v", a.ID, list, err)
	}
	if list, _ := h.Store.ListTenants(ctx, 0, 1); len(list) != 1 {
		t.Fatalf("ListTenants limit 1: %d rows", len(list))
	}
	got.Name, got.UpdatedAt = "Acme Inc", at(5)
	if err := h.Store.UpdateTenant(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := h.Store.GetTenant(ctx, a.ID); again.Name != "Acme Inc" || !again.UpdatedAt.Equal(at(5)) {
		t.Fatalf("after UpdateTenant: %+v", again)
	}
	got.Slug = b.Slug
	if err := h.Store.UpdateTenant(ctx, got); !errors.Is(err, tenant.ErrExists) {
		t.Fatalf("UpdateTenant to a taken slug: %v", err)
	}
	u := h.NewUser(t)
	if err := h.Store.AddMembership(ctx, &tenant.Membership{UserID: u, TenantID: b.ID, Status: tenant.StatusActive, CreatedAt: at(0), UpdatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteTenant(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteTenant(ctx, b.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("second DeleteTenant: %v", err)
	}
	if ms, _ := h.Store.UserMemberships(ctx, u); len(ms) != 0 {
		t.Fatalf("memberships survive their tenant: %+v", ms)
	}
}

func testMemberships(t *testing.T, h Harness) {
	ctx := context.Background()
	a, b := newTenant(t, h, "m-a"), newTenant(t, h, "m-b")
	u, v := h.NewUser(t), h.NewUser(t)
	mb := &tenant.Membership{UserID: u, TenantID: b.ID, Status: tenant.StatusInvited, Roles: []string{"viewer"}, CreatedAt: at(1), UpdatedAt: at(1)}
	ma := &tenant.Membership{UserID: u, TenantID: a.ID, Status: tenant.StatusActive, Roles: []string{"admin", "editor"}, CreatedAt: at(2), UpdatedAt: at(2)}
	for _, m := range []*tenant.Membership{mb, ma, {UserID: v, TenantID: a.ID, Status: tenant.StatusActive, CreatedAt: at(3), UpdatedAt: at(3)}} {
		if err := h.Store.AddMembership(ctx, m); err != nil {
			t.Fatalf("AddMembership %+v: %v", m, err)
		}
	}
	if err := h.Store.AddMembership(ctx, ma); !errors.Is(err, tenant.ErrExists) {
		t.Fatalf("AddMembership twice: %v", err)
	}
	if err := h.Store.AddMembership(ctx, &tenant.Membership{UserID: u, TenantID: a.ID + b.ID + 1000, Status: tenant.StatusActive}); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("AddMembership to an unknown tenant: %v", err)
	}
	ms, err := h.Store.UserMemberships(ctx, u)
	if err != nil || len(ms) != 2 || ms[0].TenantID != b.ID || ms[1].TenantID != a.ID {
		t.Fatalf("UserMemberships (oldest first): %+v, %v", ms, err)
	}
	if !slices.Equal(ms[1].Roles, []string{"admin", "editor"}) || ms[0].Status != tenant.StatusInvited {
		t.Fatalf("UserMemberships fields: %+v", ms)
	}
	members, err := h.Store.TenantMembers(ctx, a.ID, 0, 10)
	if err != nil || len(members) != 2 || members[0].UserID != min(u, v) {
		t.Fatalf("TenantMembers: %+v, %v", members, err)
	}
	if page, _ := h.Store.TenantMembers(ctx, a.ID, min(u, v), 10); len(page) != 1 || page[0].UserID != max(u, v) {
		t.Fatalf("TenantMembers after the first: %+v", page)
	}
	mb.Status, mb.Roles, mb.UpdatedAt = tenant.StatusActive, []string{"editor"}, at(9)
	if err := h.Store.UpdateMembership(ctx, mb); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store.GetMembership(ctx, u, b.ID)
	if err != nil || got.Status != tenant.StatusActive || !slices.Equal(got.Roles, []string{"editor"}) || !got.UpdatedAt.Equal(at(9)) || !got.CreatedAt.Equal(at(1)) {
		t.Fatalf("after UpdateMembership: %+v, %v", got, err)
	}
	if holders, err := h.Store.RoleHolders(ctx, "editor"); err != nil || !slices.Equal(holders, []int64{u}) {
		t.Fatalf("RoleHolders(editor): %v, %v (want [%d] once)", holders, err, u)
	}
	if err := h.Store.RemoveMembership(ctx, u, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.RemoveMembership(ctx, u, b.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("second RemoveMembership: %v", err)
	}
	if _, err := h.Store.GetMembership(ctx, u, b.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("GetMembership after remove: %v", err)
	}
	if err := h.Store.UpdateMembership(ctx, mb); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("UpdateMembership of a removed membership: %v", err)
	}
}

func testRoles(t *testing.T, h Harness) {
	ctx := context.Background()
	name := fmt.Sprintf("role-%d", seq.Add(1))
	r := &tenant.Role{Name: name, Description: "edits", Permissions: []string{"post.read", "post.write"}, CreatedAt: at(1), UpdatedAt: at(1)}
	if err := h.Store.PutRole(ctx, r); err != nil {
		t.Fatal(err)
	}
	r2 := &tenant.Role{Name: name, Permissions: []string{"post.read"}, CreatedAt: at(7), UpdatedAt: at(7)}
	if err := h.Store.PutRole(ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store.GetRole(ctx, name)
	if err != nil || !slices.Equal(got.Permissions, []string{"post.read"}) || !got.CreatedAt.Equal(at(1)) || !got.UpdatedAt.Equal(at(7)) {
		t.Fatalf("GetRole after replace (CreatedAt kept): %+v, %v", got, err)
	}
	other := &tenant.Role{Name: name + "-b", Permissions: []string{"x"}, CreatedAt: at(1), UpdatedAt: at(1)}
	if err := h.Store.PutRole(ctx, other); err != nil {
		t.Fatal(err)
	}
	rs, err := h.Store.GetRoles(ctx, []string{other.Name, "missing-role", name})
	if err != nil || len(rs) != 2 || rs[0].Name != name || rs[1].Name != other.Name {
		t.Fatalf("GetRoles: %+v, %v", rs, err)
	}
	all, err := h.Store.ListRoles(ctx)
	if err != nil || !slices.ContainsFunc(all, func(r tenant.Role) bool { return r.Name == other.Name }) {
		t.Fatalf("ListRoles: %+v, %v", all, err)
	}
	tn, u := newTenant(t, h, "r"), h.NewUser(t)
	if err := h.Store.AddMembership(ctx, &tenant.Membership{UserID: u, TenantID: tn.ID, Status: tenant.StatusActive, Roles: []string{name, other.Name}, CreatedAt: at(1), UpdatedAt: at(1)}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteRole(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteRole(ctx, name); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("second DeleteRole: %v", err)
	}
	if _, err := h.Store.GetRole(ctx, name); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("GetRole after delete: %v", err)
	}
	m, _ := h.Store.GetMembership(ctx, u, tn.ID)
	if m == nil || !slices.Equal(m.Roles, []string{other.Name}) {
		t.Fatalf("a deleted role stays in a membership: %+v", m)
	}
}

// Of N concurrent creations with one slug exactly one wins.
func testConcurrentSlug(t *testing.T, h Harness) {
	s := slug("race")
	var wg sync.WaitGroup
	var ok, taken atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := h.Store.CreateTenant(context.Background(), &tenant.Tenant{Slug: s, Name: "r", CreatedAt: at(0), UpdatedAt: at(0)})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, tenant.ErrExists):
				taken.Add(1)
			default:
				t.Errorf("CreateTenant: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || taken.Load() != 7 {
		t.Fatalf("%d created, %d ErrExists; want 1 and 7", ok.Load(), taken.Load())
	}
}

func testCascade(t *testing.T, h Harness) {
	if h.DeleteUser == nil {
		t.Fatal("the harness must delete users (Harness.DeleteUser)")
	}
	ctx := context.Background()
	tn, u, v := newTenant(t, h, "c"), h.NewUser(t), h.NewUser(t)
	for _, id := range []int64{u, v} {
		if err := h.Store.AddMembership(ctx, &tenant.Membership{UserID: id, TenantID: tn.ID, Status: tenant.StatusActive, CreatedAt: at(0), UpdatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
	}
	h.DeleteUser(t, u)
	if ms, _ := h.Store.UserMemberships(ctx, u); len(ms) != 0 {
		t.Fatalf("a deleted user keeps memberships: %+v", ms)
	}
	if ms, _ := h.Store.TenantMembers(ctx, tn.ID, 0, 10); len(ms) != 1 || ms[0].UserID != v {
		t.Fatalf("members after deleting one: %+v", ms)
	}
}
