package admin_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// The tenant routes drive the tenant block: roles, tenants and memberships
// are created, changed and removed over HTTP, every change is audited, and
// a membership change reaches the member's live session at once.
func TestTenantAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		perms := func(tok string) []string {
			d, err := e.svc.Sessions().Get(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return d.Permissions
		}
		if code, d := e.do("PUT", "/roles/editor", e.admin, map[string]any{"description": "edits", "permissions": []string{"post.write"}}); code != 200 || d["name"] != "editor" {
			t.Fatalf("PUT role = %d %v", code, d)
		}
		code, d := e.do("POST", "/tenants", e.admin, map[string]any{"slug": "acme", "name": "Acme"})
		if code != 200 {
			t.Fatalf("POST tenant = %d %v", code, d)
		}
		tid := int64(d["id"].(float64))
		if code, _ := e.do("POST", "/tenants", e.admin, map[string]any{"slug": "acme", "name": "Again"}); code != 409 {
			t.Errorf("duplicate slug = %d, want 409", code)
		}
		if code, _ := e.do("POST", "/tenants", e.admin, map[string]any{"slug": "Not A Slug!", "name": "x"}); code != 400 {
			t.Errorf("bad slug = %d, want 400", code)
		}
		uid, tok := e.user(nil)
		member := fmt.Sprintf("/tenants/%d/members/%d", tid, uid)
		// A session issued before the membership has no tenant; once the
		// user is a member, a switch carries the permissions, and the
		// membership's changes reach that session at once.
		if code, d := e.do("PUT", member, e.admin, map[string]any{"roles": []string{"editor"}}); code != 200 || d["status"] != "active" {
			t.Fatalf("PUT membership = %d %v", code, d)
		}
		res, err := e.svc.SwitchTenant(ctx, simpleuser.Client{Token: tok, SSAID: "admin-test"}, tid)
		if err != nil {
			t.Fatal(err)
		}
		tok2 := res.Token
		if p := perms(tok2); !slices.Equal(p, []string{"post.write"}) {
			t.Fatalf("permissions after the switch: %v", p)
		}
		if code, d := e.do("PUT", member, e.admin, map[string]any{"roles": []string{}}); code != 200 {
			t.Fatalf("PUT membership without roles = %d %v", code, d)
		}
		if p := perms(tok2); len(p) != 0 {
			t.Errorf("permissions after the roles were taken away: %v", p)
		}
		if code, d := e.do("GET", fmt.Sprintf("/tenants/%d/members", tid), e.admin, nil); code != 200 || len(d["value"].([]any)) != 1 {
			t.Errorf("members = %d %v", code, d)
		}
		code, d = e.do("GET", fmt.Sprintf("/users?tenant=%d", tid), e.admin, nil)
		if us, _ := d["users"].([]any); code != 200 || len(us) != 1 || us[0].(map[string]any)["id"] != float64(uid) {
			t.Errorf("search by tenant = %d %v, want the member only", code, d)
		}
		if code, d := e.do("GET", fmt.Sprintf("/users/%d/memberships", uid), e.admin, nil); code != 200 || len(d["value"].([]any)) != 1 {
			t.Errorf("memberships = %d %v", code, d)
		}
		if code, _ := e.do("PUT", fmt.Sprintf("/tenants/%d/members/999999", tid), e.admin, map[string]any{"roles": []string{}}); code != 404 {
			t.Errorf("membership of no user = %d, want 404", code)
		}
		if code, _ := e.do("DELETE", member, e.admin, nil); code != 200 {
			t.Errorf("DELETE membership = %d", code)
		}
		if code, _ := e.do("DELETE", fmt.Sprintf("/tenants/%d", tid), e.admin, nil); code != 200 {
			t.Errorf("DELETE tenant = %d", code)
		}
		if code, _ := e.do("GET", fmt.Sprintf("/tenants/%d", tid), e.admin, nil); code != 404 {
			t.Errorf("GET deleted tenant = %d, want 404", code)
		}
		if code, _ := e.do("DELETE", "/roles/editor", e.admin, nil); code != 200 {
			t.Errorf("DELETE role = %d", code)
		}
		var actions []string
		for _, en := range e.entries("") {
			actions = append(actions, en.(map[string]any)["action"].(string))
		}
		for _, want := range []string{"role.put", "tenant.create", "membership.add", "membership.update", "membership.remove", "tenant.delete", "role.delete"} {
			if !slices.Contains(actions, want) {
				t.Errorf("no %s entry in the audit log: %v", want, actions)
			}
		}
	})
}
