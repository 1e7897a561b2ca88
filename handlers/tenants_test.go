package handlers

import (
	"context"
	"testing"
)

// POST /user-center/switch-tenant: a member gets a new token in the
// tenant (tenantId in the data), the old token dies; a non-member is 403
// NOT_A_MEMBER; bad bodies are 400; no token is 401. A login answer
// carries tenantId only when the session is in a tenant.
func TestSwitchTenantRoute(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		ctx := context.Background()
		ts := e.svc.Tenants()
		acme, err := ts.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := ts.CreateTenant(ctx, "other", "Other")
		a := e.email("a")
		laptop := e.loginFrom(e.ssaid("laptop"), a, uaFirefoxLinux, "203.0.113.7")
		r := e.me(e.ssaid("laptop"), laptop).want(t, 200, "")
		uid := int64(r.num("id"))
		if _, err := ts.AddMembership(ctx, uid, acme.ID, "", []string{"editor"}); err != nil {
			t.Fatal(err)
		}
		path := "/user-center/switch-tenant"
		e.do(rq{method: "POST", path: path, ssaid: e.ssaid("laptop"), body: map[string]any{"tenantId": acme.ID}}).want(t, 401, "AUTH_REQUIRED")
		for _, body := range []any{map[string]any{"tenantId": "x"}, map[string]any{"tenantId": -1}, map[string]any{}, "[]"} {
			e.do(rq{method: "POST", path: path, ssaid: e.ssaid("laptop"), token: laptop, body: body}).want(t, 400, "INVALID_INPUT")
		}
		e.do(rq{method: "POST", path: path, ssaid: e.ssaid("laptop"), token: laptop, body: map[string]any{"tenantId": other.ID}}).want(t, 403, "NOT_A_MEMBER")
		e.me(e.ssaid("laptop"), laptop).want(t, 200, "")
		r = e.do(rq{method: "POST", path: path, ssaid: e.ssaid("laptop"), token: laptop, body: map[string]any{"tenantId": acme.ID}}).want(t, 200, "")
		tok := r.str("token")
		if int64(r.num("tenantId")) != acme.ID || len(tok) != 64 || tok == laptop {
			t.Fatalf("switch answer %s", r.raw)
		}
		e.me(e.ssaid("laptop"), laptop).want(t, 401, "INVALID_TOKEN")
		e.me(e.ssaid("laptop"), tok).want(t, 200, "")
		d, err := e.svc.Sessions().Get(ctx, tok)
		if err != nil || d.TenantID != acme.ID || len(d.Roles) != 1 || d.Roles[0] != "editor" {
			t.Fatalf("switched session %+v, %v", d, err)
		}
		// A fresh sign-in starts in the only membership and says so.
		code := e.advanceAndSend(a, "Login")
		r = e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("desk"), body: map[string]any{"email": a, "code": code}}).want(t, 200, "")
		if int64(r.num("tenantId")) != acme.ID {
			t.Fatalf("login answer without the tenant: %s", r.raw)
		}
		b2 := e.email("b")
		code = e.advanceAndSend(b2, "Login")
		r = e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid("b"), body: map[string]any{"email": b2, "code": code}}).want(t, 200, "")
		if _, ok := r.data["tenantId"]; ok {
			t.Fatalf("a login in no tenant names one: %s", r.raw)
		}
	})
}
