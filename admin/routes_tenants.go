package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/simpleuser/simpleuser/tenant"
)

// Audit actions of the tenant routes.
const (
	ActionTenantCreate     = "tenant.create"
	ActionTenantUpdate     = "tenant.update"
	ActionTenantDelete     = "tenant.delete"
	ActionMembershipAdd    = "membership.add"
	ActionMembershipUpdate = "membership.update"
	ActionMembershipRemove = "membership.remove"
	ActionRolePut          = "role.put"
	ActionRoleDelete       = "role.delete"
)

// tenantRoutes are the tenant, membership and role endpoints: the tenant
// block's Go API (simpleuser.Service.Tenants) over HTTP, each change
// audited in its transaction. Membership and role changes reach the
// members' live sessions at once (the tenant block rewrites their claims).
func (h *Handler) tenantRoutes() []route {
	return []route{
		{"GET", "/tenants", "listTenants", "List tenants by id (cursor: after)", nil, new(tenantListQuery), nil, new([]TenantView), nil, h.listTenants},
		{"POST", "/tenants", "createTenant", "Create a tenant", nil, nil, new(TenantBody), new(TenantView), []int{409}, h.createTenant},
		{"GET", "/tenants/{tid}", "getTenant", "Get a tenant", new(tenantPath), nil, nil, new(TenantView), []int{404}, h.getTenant},
		{"PATCH", "/tenants/{tid}", "updateTenant", "Rename a tenant or change its slug", new(tenantPath), nil, new(TenantBody), new(TenantView), []int{404, 409}, h.updateTenant},
		{"DELETE", "/tenants/{tid}", "deleteTenant", "Delete a tenant and its memberships", new(tenantPath), nil, nil, nil, []int{404}, h.deleteTenant},
		{"GET", "/tenants/{tid}/members", "listMembers", "List a tenant's memberships by user id (cursor: after)", new(tenantPath), new(tenantListQuery), nil, new([]MembershipView), []int{404}, h.listMembers},
		{"GET", "/users/{id}/memberships", "listUserMemberships", "List a user's memberships", new(userPath), nil, nil, new([]MembershipView), []int{404}, h.userMemberships},
		{"PUT", "/tenants/{tid}/members/{id}", "putMembership", "Add a user to a tenant, or change the membership's status and roles", new(memberPath), nil, new(MembershipBody), new(MembershipView), []int{404}, h.putMembership},
		{"DELETE", "/tenants/{tid}/members/{id}", "removeMembership", "Remove a user from a tenant", new(memberPath), nil, nil, nil, []int{404}, h.removeMembership},
		{"GET", "/roles", "listRoles", "List roles", nil, nil, nil, new([]RoleView), nil, h.listRoles},
		{"PUT", "/roles/{name}", "putRole", "Create or replace a role (its permissions)", new(rolePath), nil, new(RoleBody), new(RoleView), nil, h.putRole},
		{"DELETE", "/roles/{name}", "deleteRole", "Delete a role (memberships holding it lose it)", new(rolePath), nil, nil, nil, []int{404}, h.deleteRole},
	}
}

type tenantPath struct {
	TID int64 `path:"tid" minimum:"1" description:"The tenant's id."`
}

type memberPath struct {
	TID int64 `path:"tid" minimum:"1" description:"The tenant's id."`
	ID  int64 `path:"id" minimum:"1" description:"The user's id."`
}

type rolePath struct {
	Name string `path:"name" description:"The role's name."`
}

type tenantListQuery struct {
	After int64 `query:"after" minimum:"0" description:"The last id of the previous page."`
	Limit int64 `query:"limit" minimum:"0" maximum:"1000" description:"At most this many (default 100)."`
}

// TenantBody creates or changes a tenant.
type TenantBody struct {
	Slug string `json:"slug" description:"1..64 characters of [a-z0-9-], unique."`
	Name string `json:"name" description:"The display name, 1..200 characters."`
}

// MembershipBody sets a membership.
type MembershipBody struct {
	Status string   `json:"status,omitempty" enum:"active,suspended,invited" description:"Default active."`
	Roles  []string `json:"roles" description:"Role names the user holds in the tenant."`
}

// RoleBody sets a role.
type RoleBody struct {
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions" description:"The permissions the role grants."`
}

// TenantView is a tenant as the admin API answers it.
type TenantView struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// MembershipView is a membership as the admin API answers it.
type MembershipView struct {
	UserID    int64     `json:"userId"`
	TenantID  int64     `json:"tenantId"`
	Status    string    `json:"status"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// RoleView is a role as the admin API answers it.
type RoleView struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func tenantView(t *tenant.Tenant) TenantView {
	return TenantView{t.ID, t.Slug, t.Name, t.CreatedAt, t.UpdatedAt}
}

func membershipView(m *tenant.Membership) MembershipView {
	return MembershipView{m.UserID, m.TenantID, m.Status, append([]string{}, m.Roles...), m.CreatedAt, m.UpdatedAt}
}

func roleView(r *tenant.Role) RoleView {
	return RoleView{r.Name, r.Description, append([]string{}, r.Permissions...), r.CreatedAt, r.UpdatedAt}
}

// views maps a list (nil answers an empty JSON array).
func views[T, V any](list []T, err error, f func(*T) V) (any, error) {
	if err != nil {
		return nil, err
	}
	out := make([]V, len(list))
	for i := range list {
		out[i] = f(&list[i])
	}
	return out, nil
}

// one maps a single result.
func one[T, V any](x *T, err error, f func(*T) V) (any, error) {
	if err != nil {
		return nil, err
	}
	return f(x), nil
}

// pathInt reads a positive integer path value.
func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("%s must be a positive integer", name)
	}
	return id, nil
}

func (h *Handler) tenants() *tenant.Service { return h.cfg.Service.Tenants() }

func page(r *http.Request) (after int64, limit int, err error) {
	if after, err = intParam(r, "after"); err != nil {
		return 0, 0, err
	}
	l, err := intParam(r, "limit")
	if err != nil || l > 1000 {
		return 0, 0, invalid("limit must be 0 to 1000")
	}
	return after, int(l), nil
}

func (h *Handler) listTenants(r *http.Request, _ actor) (any, error) {
	after, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	x, err := h.tenants().ListTenants(r.Context(), after, limit)
	return views(x, err, tenantView)
}

func (h *Handler) getTenant(r *http.Request, _ actor) (any, error) {
	id, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	x, err := h.tenants().GetTenant(r.Context(), id)
	return one(x, err, tenantView)
}

func (h *Handler) createTenant(r *http.Request, a actor) (any, error) {
	var in TenantBody
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var t *tenant.Tenant
	err := h.audited(r.Context(), a, Entry{Action: ActionTenantCreate, Target: in.Slug}, func(ctx context.Context, e *Entry) (err error) {
		t, err = h.tenants().CreateTenant(ctx, in.Slug, in.Name)
		if err == nil {
			e.Target = "tenant:" + strconv.FormatInt(t.ID, 10)
			e.Detail = map[string]any{"slug": t.Slug, "name": t.Name}
		}
		return err
	})
	return one(t, err, tenantView)
}

func (h *Handler) updateTenant(r *http.Request, a actor) (any, error) {
	id, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	var in TenantBody
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var t *tenant.Tenant
	err = h.audited(r.Context(), a, Entry{Action: ActionTenantUpdate, Target: "tenant:" + strconv.FormatInt(id, 10),
		Detail: map[string]any{"slug": in.Slug, "name": in.Name}}, func(ctx context.Context, _ *Entry) (err error) {
		t, err = h.tenants().UpdateTenant(ctx, id, in.Slug, in.Name)
		return err
	})
	return one(t, err, tenantView)
}

func (h *Handler) deleteTenant(r *http.Request, a actor) (any, error) {
	id, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	return nil, h.audited(r.Context(), a, Entry{Action: ActionTenantDelete, Target: "tenant:" + strconv.FormatInt(id, 10)}, func(ctx context.Context, _ *Entry) error {
		return h.tenants().DeleteTenant(ctx, id)
	})
}

func (h *Handler) listMembers(r *http.Request, _ actor) (any, error) {
	id, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	after, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.tenants().GetTenant(r.Context(), id); err != nil {
		return nil, err
	}
	x, err := h.tenants().TenantMembers(r.Context(), id, after, limit)
	return views(x, err, membershipView)
}

func (h *Handler) userMemberships(r *http.Request, _ actor) (any, error) {
	uid, err := userID(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.cfg.Service.GetUser(r.Context(), uid); err != nil {
		return nil, mapErr(err)
	}
	x, err := h.tenants().UserMemberships(r.Context(), uid)
	return views(x, err, membershipView)
}

func (h *Handler) putMembership(r *http.Request, a actor) (any, error) {
	tid, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	uid, err := userID(r)
	if err != nil {
		return nil, err
	}
	var in MembershipBody
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = tenant.StatusActive
	}
	var m *tenant.Membership
	e := Entry{Action: ActionMembershipAdd, TargetUserID: uid, Target: "tenant:" + strconv.FormatInt(tid, 10),
		Detail: map[string]any{"status": in.Status, "roles": in.Roles}}
	if _, err := h.tenants().GetMembership(r.Context(), uid, tid); err == nil {
		e.Action = ActionMembershipUpdate
	}
	err = h.audited(r.Context(), a, e, func(ctx context.Context, e *Entry) (err error) {
		if _, err := h.cfg.Service.GetUser(ctx, uid); err != nil {
			return mapErr(err)
		}
		if e.Action == ActionMembershipUpdate {
			m, err = h.tenants().UpdateMembership(ctx, uid, tid, in.Status, in.Roles)
		} else {
			m, err = h.tenants().AddMembership(ctx, uid, tid, in.Status, in.Roles)
		}
		return err
	})
	return one(m, err, membershipView)
}

func (h *Handler) removeMembership(r *http.Request, a actor) (any, error) {
	tid, err := pathInt(r, "tid")
	if err != nil {
		return nil, err
	}
	uid, err := userID(r)
	if err != nil {
		return nil, err
	}
	return nil, h.audited(r.Context(), a, Entry{Action: ActionMembershipRemove, TargetUserID: uid, Target: "tenant:" + strconv.FormatInt(tid, 10)},
		func(ctx context.Context, _ *Entry) error { return h.tenants().RemoveMembership(ctx, uid, tid) })
}

func (h *Handler) listRoles(r *http.Request, _ actor) (any, error) {
	x, err := h.tenants().ListRoles(r.Context())
	return views(x, err, roleView)
}

func (h *Handler) putRole(r *http.Request, a actor) (any, error) {
	name := r.PathValue("name")
	var in RoleBody
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var role *tenant.Role
	err := h.audited(r.Context(), a, Entry{Action: ActionRolePut, Target: "role:" + name, Detail: map[string]any{"permissions": in.Permissions}},
		func(ctx context.Context, _ *Entry) (err error) {
			role, err = h.tenants().PutRole(ctx, name, in.Description, in.Permissions)
			return err
		})
	return one(role, err, roleView)
}

func (h *Handler) deleteRole(r *http.Request, a actor) (any, error) {
	name := r.PathValue("name")
	return nil, h.audited(r.Context(), a, Entry{Action: ActionRoleDelete, Target: "role:" + name},
		func(ctx context.Context, _ *Entry) error { return h.tenants().DeleteRole(ctx, name) })
}
