package tenant

import (
	"errors"
	"net/http"
	"strings"
)

// Machine codes (data.code) of the tenant flows; simpleuser.Codes lists
// them (Codes).
const (
	CodeNotMember        = "NOT_A_MEMBER"      // 403: no active membership of the tenant
	CodeTenantNotFound   = "TENANT_NOT_FOUND"  // 404: no such tenant, membership or role
	CodeTenantExists     = "TENANT_EXISTS"     // 409: slug, membership or role name taken
	CodePermissionDenied = "PERMISSION_DENIED" // 403: the session lacks a permission (middleware.RequirePermission)
	CodeRoleRequired     = "ROLE_REQUIRED"     // 403: the session lacks a role (middleware.RequireRole)
)

// Codes returns the machine codes of the tenant flows.
func Codes() []string {
	return []string{CodeNotMember, CodeTenantNotFound, CodeTenantExists, CodePermissionDenied, CodeRoleRequired}
}

// Status maps an error of this package to the HTTP status, machine code
// and message the kit answers it with (ErrInvalid: 400 INVALID_INPUT
// naming the field); ok is false for any other error.
func Status(err error) (status int, code, message string, ok bool) {
	switch {
	case errors.Is(err, ErrNotMember):
		return http.StatusForbidden, CodeNotMember, "Not an active member of this tenant.", true
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, CodeTenantNotFound, "No such tenant, membership or role.", true
	case errors.Is(err, ErrExists):
		return http.StatusConflict, CodeTenantExists, "The tenant slug, membership or role already exists.", true
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "INVALID_INPUT", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "), true
	}
	return 0, "", "", false
}
