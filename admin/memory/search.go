package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

// Searcher is the admin.Searcher over a user/memory Store: it walks every
// user (O(users) per page), fine for the embedded default and tests.
// Tenants is the tenant store a search by tenant reads the members from
// (the service's Config.Tenants.Store); nil: such a search is refused.
type Searcher struct {
	Users   *usermemory.Store
	Tenants tenant.Store
}

// errNoTenants: a search by tenant on a Searcher without a tenant store.
var errNoTenants = errors.New("admin/memory: Searcher.Tenants is nil: cannot search by tenant")

var _ admin.Searcher = Searcher{}

// SearchUsers implements admin.Searcher.
func (s Searcher) SearchUsers(ctx context.Context, q admin.UserQuery) ([]admin.UserSummary, error) {
	var out []admin.UserSummary
	ek := user.EmailKey(q.Email)
	members, err := s.members(ctx, q.TenantID)
	if err != nil {
		return nil, err
	}
	err = s.Users.Each(ctx, func(u *user.User) bool {
		anon := !u.Registered()
		switch {
		case q.TenantID != 0 && !members[u.ID]:
			return true
		case q.Email != "" && (u.Email == "" || user.EmailKey(u.Email) != ek),
			q.Phone != "" && u.Phone != q.Phone,
			q.Status == admin.StatusActive && u.Disabled,
			q.Status == admin.StatusDisabled && !u.Disabled,
			q.Status == admin.StatusSuspended && !(u.Disabled && u.Suspended),
			anon && !q.Anonymous,
			!q.CreatedFrom.IsZero() && u.CreatedAt.Before(q.CreatedFrom),
			!q.CreatedTo.IsZero() && !u.CreatedAt.Before(q.CreatedTo),
			q.After != nil && !before(u.CreatedAt.UnixMicro(), u.ID, q.After):
			return true
		}
		out = append(out, admin.UserSummary{ID: u.ID, Email: u.Email, Phone: u.Phone, Disabled: u.Disabled, Anonymous: anon,
			CreatedAt: u.CreatedAt.UTC(), LoginTime: u.LoginTime.UTC()})
		return true
	})
	slices.SortFunc(out, func(a, b admin.UserSummary) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if n := admin.ClampLimit(q.Limit); len(out) > n {
		out = out[:n]
	}
	return out, err
}

// members returns the ids of tenantID's members (nil for tenant 0).
func (s Searcher) members(ctx context.Context, tenantID int64) (map[int64]bool, error) {
	if tenantID == 0 {
		return nil, nil
	}
	if s.Tenants == nil {
		return nil, errNoTenants
	}
	set := map[int64]bool{}
	for after := int64(0); ; {
		ms, err := s.Tenants.TenantMembers(ctx, tenantID, after, 1000)
		if err != nil || len(ms) == 0 {
			return set, err
		}
		for _, m := range ms {
			set[m.UserID] = true
		}
		after = ms[len(ms)-1].UserID
	}
}

// before reports whether (us, id) sorts after c in the descending order.
func before(us, id int64, c *admin.Cursor) bool {
	cu := c.CreatedAt.UnixMicro()
	return us < cu || (us == cu && id < c.ID)
}
