package handlers

import "net/http"

// tenantRoutes are the caller's tenant endpoints (package tenant).
var tenantRoutes = []route{
	{
		method: http.MethodPost, path: "/user-center/switch-tenant",
		summary: "Act in another tenant",
		description: "Issues a new session in the tenant (tenantId 0: in none) carrying the caller's roles there and the permissions they grant, " +
			"with the caller's sign-in state and expiry; the token of the request dies at once (in cookie mode the cookie is replaced). " +
			"The caller must be an active member of the tenant.",
		tags: []string{"user-center"}, ssaid: true, token: tokenRequired, body: new(switchTenantBody), data: new(loginData),
		errors: []routeError{errInput, errSession,
			{http.StatusForbidden, "A sign-in still waiting for its second factor (MFA_REQUIRED), or the caller is no active member of the tenant (NOT_A_MEMBER)."},
			errTooLarge, errMedia, errBackend},
		handle: switchTenant,
	},
}

// switchTenantBody is the body of POST /user-center/switch-tenant.
type switchTenantBody struct {
	TenantID *int64 `json:"tenantId" validate:"required,min=0" msg:"must be a tenant id (0: none)" required:"true" minimum:"0" description:"The tenant to act in; 0 leaves every tenant."`
}

// POST /user-center/switch-tenant
func switchTenant(c *call) (any, error) {
	var in switchTenantBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	res, err := c.s.svc.SwitchTenant(c.r.Context(), c.client, *in.TenantID)
	if err != nil {
		return nil, err
	}
	c.setSessionCookie(res)
	return loginDataOf(res), nil
}
