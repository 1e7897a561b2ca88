package main

import (
	"context"
	"fmt"
	"testing"
)

// One app user per (auth user, tenant): joining a tenant adds the user's
// row there (nickname from the row outside any tenant, its own referral
// code); /me of a session in the tenant shows that row and its tenantId;
// out of any tenant /me is the single-tenant answer, without tenantId.
func TestAppUserPerTenant(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, s)
			ctx := context.Background()
			ann := fmt.Sprintf("ann-%p@example.com", h)
			code, data := h.signup("dev-ann", ann, map[string]any{"nickname": "Ann"})
			if code != 200 {
				t.Fatalf("signup: %d %v", code, data)
			}
			tok := data["token"].(string)
			uid := int64(data["userId"].(float64))
			if _, ok := data["tenantId"]; ok {
				t.Fatalf("a login without tenants names one: %v", data)
			}
			_, base := h.call("GET", "/api/user-center/me", "dev-ann", tok, nil)
			if _, ok := base["tenantId"]; ok || base["nickname"] != "Ann" {
				t.Fatalf("/me outside tenants: %v", base)
			}
			acme, err := h.app.Service.Tenants().CreateTenant(ctx, fmt.Sprintf("acme-%d", uid), "Acme")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.app.Service.Tenants().AddMembership(ctx, uid, acme.ID, "", []string{"member"}); err != nil {
				t.Fatal(err)
			}
			row, err := h.app.appUsers.Get(ctx, uid, acme.ID)
			if err != nil || row.Nickname != "Ann" || row.ReferralCode == base["referralCode"] {
				t.Fatalf("the tenant's app row: %+v, %v", row, err)
			}
			code, sw := h.call("POST", "/api/user-center/switch-tenant", "dev-ann", tok, map[string]any{"tenantId": acme.ID})
			if code != 200 || sw["tenantId"] != float64(acme.ID) {
				t.Fatalf("switch-tenant: %d %v", code, sw)
			}
			if code, _ := h.call("GET", "/api/user-center/me", "dev-ann", tok, nil); code != 401 {
				t.Fatalf("the old token after the switch: %d", code)
			}
			inTenant := sw["token"].(string)
			_, me := h.call("GET", "/api/user-center/me", "dev-ann", inTenant, nil)
			if me["tenantId"] != float64(acme.ID) || me["referralCode"] != row.ReferralCode || me["nickname"] != "Ann" {
				t.Fatalf("/me in the tenant: %v", me)
			}
			_, sw = h.call("POST", "/api/user-center/switch-tenant", "dev-ann", inTenant, map[string]any{"tenantId": 0})
			_, me = h.call("GET", "/api/user-center/me", "dev-ann", sw["token"].(string), nil)
			if _, ok := me["tenantId"]; ok || me["referralCode"] != base["referralCode"] {
				t.Fatalf("/me after leaving the tenant: %v", me)
			}
		})
	}
}
