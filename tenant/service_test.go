package tenant_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/tenant/memory"
)

// Bad input is ErrInvalid naming the field (400 INVALID_INPUT through
// Status), before any store write.
func TestServiceValidates(t *testing.T) {
	ctx := context.Background()
	s := &tenant.Service{Store: memory.New()}
	tn, err := s.CreateTenant(ctx, "ok-1", "  Fine  ")
	if err != nil || tn.Name != "Fine" {
		t.Fatalf("CreateTenant: %+v, %v", tn, err)
	}
	for _, tc := range []struct {
		what, field string
		err         error
	}{
		{"upper-case slug", "slug", func() error { _, err := s.CreateTenant(ctx, "Acme", "x"); return err }()},
		{"long slug", "slug", func() error { _, err := s.CreateTenant(ctx, strings.Repeat("a", 65), "x"); return err }()},
		{"blank name", "name", func() error { _, err := s.CreateTenant(ctx, "b", "   "); return err }()},
		{"bad status", "status", func() error { _, err := s.AddMembership(ctx, 1, tn.ID, "owner", nil); return err }()},
		{"bad role name", "roles", func() error { _, err := s.AddMembership(ctx, 1, tn.ID, "", []string{"Ed itor"}); return err }()},
		{"bad role", "name", func() error { _, err := s.PutRole(ctx, "", "", nil); return err }()},
		{"permission with a space", "permissions", func() error { _, err := s.PutRole(ctx, "r", "", []string{"post write"}); return err }()},
		{"non-ASCII permission", "permissions", func() error { _, err := s.PutRole(ctx, "r", "", []string{"pöst"}); return err }()},
	} {
		status, code, msg, ok := tenant.Status(tc.err)
		if !errors.Is(tc.err, tenant.ErrInvalid) || !ok || status != 400 || code != "INVALID_INPUT" || !strings.HasPrefix(msg, tc.field+" ") {
			t.Errorf("%s: %v → %d %s %q", tc.what, tc.err, status, code, msg)
		}
	}
	if ms, _ := s.UserMemberships(ctx, 1); len(ms) != 0 {
		t.Fatalf("a refused membership was stored: %+v", ms)
	}
	if _, _, _, ok := tenant.Status(errors.New("other")); ok {
		t.Fatal("Status maps a foreign error")
	}
}

// Claims: only an active membership counts; permissions are the sorted
// union of the roles' (a missing role grants nothing); DefaultOnly picks
// the only active membership, DefaultFirst the oldest, DefaultNone none.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	s := &tenant.Service{Store: memory.New()}
	a, _ := s.CreateTenant(ctx, "a", "A")
	b, _ := s.CreateTenant(ctx, "b", "B")
	s.PutRole(ctx, "r1", "", []string{"z.write", "a.read"})
	s.PutRole(ctx, "r2", "", []string{"a.read", "m.do"})
	if _, err := s.AddMembership(ctx, 9, a.ID, "", []string{"r2", "r1", "ghost", "r1"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claims(ctx, 9, a.ID)
	if err != nil || c.TenantID != a.ID || !slices.Equal(c.Roles, []string{"ghost", "r1", "r2"}) || !slices.Equal(c.Permissions, []string{"a.read", "m.do", "z.write"}) {
		t.Fatalf("Claims: %+v, %v", c, err)
	}
	if _, err := s.Claims(ctx, 9, b.ID); !errors.Is(err, tenant.ErrNotMember) {
		t.Fatalf("Claims without a membership: %v", err)
	}
	if got, _ := s.LoginClaims(ctx, 9); got.TenantID != a.ID {
		t.Fatalf("DefaultOnly with one membership: %+v", got)
	}
	if _, err := s.AddMembership(ctx, 9, b.ID, tenant.StatusInvited, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claims(ctx, 9, b.ID); !errors.Is(err, tenant.ErrNotMember) {
		t.Fatalf("Claims of an invited membership: %v", err)
	}
	if got, _ := s.LoginClaims(ctx, 9); got.TenantID != a.ID {
		t.Fatalf("DefaultOnly ignores inactive memberships: %+v", got)
	}
	s.UpdateMembership(ctx, 9, b.ID, tenant.StatusActive, nil)
	if got, _ := s.LoginClaims(ctx, 9); got.TenantID != 0 {
		t.Fatalf("DefaultOnly with two active memberships: %+v", got)
	}
	s.Default = tenant.DefaultFirst
	if got, _ := s.LoginClaims(ctx, 9); got.TenantID != a.ID {
		t.Fatalf("DefaultFirst: %+v", got)
	}
	s.Default = tenant.DefaultNone
	if got, _ := s.LoginClaims(ctx, 9); got.TenantID != 0 {
		t.Fatalf("DefaultNone: %+v", got)
	}
}
