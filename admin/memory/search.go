package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

// Searcher is the admin.Searcher over a user/memory Store: it walks every
// user (O(users) per page), fine for the embedded default and tests.
type Searcher struct{ Users *usermemory.Store }

var _ admin.Searcher = Searcher{}

// SearchUsers implements admin.Searcher.
func (s Searcher) SearchUsers(ctx context.Context, q admin.UserQuery) ([]admin.UserSummary, error) {
	var out []admin.UserSummary
	ek := user.EmailKey(q.Email)
	err := s.Users.Each(ctx, func(u *user.User) bool {
		anon := !u.Registered()
		switch {
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

// before reports whether (us, id) sorts after c in the descending order.
func before(us, id int64, c *admin.Cursor) bool {
	cu := c.CreatedAt.UnixMicro()
	return us < cu || (us == cu && id < c.ID)
}
