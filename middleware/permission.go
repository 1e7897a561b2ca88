package middleware

import (
	"net/http"
	"slices"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
)

// RequirePermission returns a guard that requires a live session whose
// tenant claims include perm (session.Data.Permissions: the permissions
// of the member's roles in the session's tenant, package tenant). It reads
// the session only (one store read, memoized for the request), never the
// user or tenant store: membership and role changes reach live sessions
// when they are made. Answers: 401 no or bad token (as RequireSession),
// 403 MFA_REQUIRED for a challenge-stage session, 403 PERMISSION_DENIED
// when the permission is missing (also when the session is in no tenant).
func RequirePermission(perm string) func(http.Handler) http.Handler {
	denied := simpleuser.NewError(http.StatusForbidden, tenant.CodePermissionDenied, "This action needs the permission "+perm+".")
	return requireClaim(func(d *session.Data) bool { return has(d.Permissions, perm) }, denied)
}

// RequireRole is RequirePermission for a role (session.Data.Roles: the
// member's roles in the session's tenant): 403 ROLE_REQUIRED when missing.
func RequireRole(role string) func(http.Handler) http.Handler {
	denied := simpleuser.NewError(http.StatusForbidden, tenant.CodeRoleRequired, "This action needs the role "+role+".")
	return requireClaim(func(d *session.Data) bool { return slices.Contains(d.Roles, role) }, denied)
}

// has reports whether the sorted list holds s (binary search; the tenant
// block keeps Permissions sorted, and an unsorted list written by an app
// is still searched linearly).
func has(sorted []string, s string) bool {
	if _, ok := slices.BinarySearch(sorted, s); ok {
		return true
	}
	return !slices.IsSorted(sorted) && slices.Contains(sorted, s)
}

func requireClaim(ok func(*session.Data) bool, denied error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, err := simpleuser.CurrentSession(r.Context())
			switch {
			case err != nil:
			case d == nil:
				err = simpleuser.ErrAuthRequired
			case !ok(d):
				err = denied
			case d.MustChangePassword:
				err = simpleuser.ErrMustChangePassword
			}
			if err != nil {
				envelope.Error(w, r, nil, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
