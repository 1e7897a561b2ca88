package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// GET /app/reports answers only a session whose tenant claims grant
// reports.read: 401 without a session, 403 PERMISSION_DENIED out of any
// tenant and in a tenant whose roles lack it, 200 with the tenant and
// user once the membership's roles grant it (the change reaches the live
// session at once, with no new sign-in).
func TestReportsNeedsPermission(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, s)
			ctx := context.Background()
			tn := h.app.Service.Tenants()
			code, data := h.signup("dev-rita", fmt.Sprintf("rita-%p@example.com", h), map[string]any{"nickname": "Rita"})
			if code != 200 {
				t.Fatalf("signup: %d %v", code, data)
			}
			tok := data["token"].(string)
			uid := int64(data["userId"].(float64))
			if code, _ := h.call("GET", "/app/reports", "", "", nil); code != 401 {
				t.Fatalf("no session: %d, want 401", code)
			}
			if code, body := h.call("GET", "/app/reports", "", tok, nil); code != 403 || !strings.Contains(fmt.Sprint(body["message"]), reportsPermission) {
				t.Fatalf("out of any tenant: %d %v", code, body)
			}
			acme, err := tn.CreateTenant(ctx, fmt.Sprintf("reports-%d", uid), "Reports")
			if err != nil {
				t.Fatal(err)
			}
			analyst := fmt.Sprintf("analyst-%d", uid)
			if _, err := tn.PutRole(ctx, analyst, "", []string{reportsPermission, "reports.export"}); err != nil {
				t.Fatal(err)
			}
			if _, err := tn.AddMembership(ctx, uid, acme.ID, "", []string{"member"}); err != nil {
				t.Fatal(err)
			}
			code, sw := h.call("POST", "/api/user-center/switch-tenant", "dev-rita", tok, map[string]any{"tenantId": acme.ID})
			if code != 200 {
				t.Fatalf("switch-tenant: %d %v", code, sw)
			}
			tok = sw["token"].(string)
			if code, body := h.call("GET", "/app/reports", "", tok, nil); code != 403 || !strings.Contains(fmt.Sprint(body["message"]), reportsPermission) {
				t.Fatalf("in the tenant without the role: %d %v", code, body)
			}
			if _, err := tn.UpdateMembership(ctx, uid, acme.ID, "active", []string{"member", analyst}); err != nil {
				t.Fatal(err)
			}
			code, body := h.call("GET", "/app/reports", "", tok, nil)
			if code != 200 || body["tenantId"] != float64(acme.ID) || body["userId"] != float64(uid) {
				t.Fatalf("with the role: %d %v", code, body)
			}
		})
	}
}

// Deleting a user deletes their app rows (every tenant's) on both
// backends: ON DELETE CASCADE on PostgreSQL, the user store's cascade in
// memory.
func TestDeletedUserLosesAppRows(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, s)
			ctx := context.Background()
			code, data := h.signup("dev-del", fmt.Sprintf("del-%p@example.com", h), map[string]any{"nickname": "Del"})
			if code != 200 {
				t.Fatalf("signup: %d %v", code, data)
			}
			uid := int64(data["userId"].(float64))
			tn, err := h.app.Service.Tenants().CreateTenant(ctx, fmt.Sprintf("del-%d", uid), "Del")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.app.Service.Tenants().AddMembership(ctx, uid, tn.ID, "", nil); err != nil {
				t.Fatal(err)
			}
			if err := h.app.Service.DeleteUser(ctx, uid); err != nil {
				t.Fatal(err)
			}
			for _, tid := range []int64{0, tn.ID} {
				if a, err := h.app.appUsers.Get(ctx, uid, tid); !errors.Is(err, errNoAppUser) {
					t.Errorf("tenant %d: the deleted user's app row remains: %+v, %v", tid, a, err)
				}
			}
		})
	}
}
