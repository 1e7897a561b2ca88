package admin_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/simpleuser/simpleuser/admin"
)

func TestUserLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		code, d := e.do("POST", "/users", e.admin, map[string]any{"email": "New@Example.com", "password": "a long password", "metadata": map[string]any{"plan": "free", "n": 1}})
		if code != 200 || d["email"] != "New@Example.com" || d["passwordSet"] != true || d["passwordHash"] != nil {
			t.Fatalf("POST /users = %d %v", code, d)
		}
		id := int64(d["id"].(float64))
		path := fmt.Sprintf("/users/%d", id)
		if code, d := e.do("POST", "/users", e.admin, map[string]any{"email": "new@example.com"}); code != 409 {
			t.Errorf("duplicate create = %d %v, want 409", code, d)
		}
		if code, d := e.do("PATCH", path+"/metadata", e.admin, map[string]any{"plan": "pro", "n": nil}); code != 200 ||
			fmt.Sprint(d["metadata"]) != "map[plan:pro]" {
			t.Errorf("PATCH metadata = %d %v", code, d)
		}
		if code, d := e.do("PATCH", path+"/metadata", e.admin, json.RawMessage("null")); code != 400 {
			t.Errorf("PATCH metadata null = %d %v, want 400 (it would erase the metadata)", code, d)
		}
		if code, d := e.do("GET", path, e.admin, nil); code != 200 || fmt.Sprint(d["metadata"]) != "map[plan:pro]" {
			t.Errorf("GET = %d %v", code, d)
		}
		// Disabling ends every session at once and records the reason.
		uid, tok := e.user(nil)
		_, _ = e.user(nil)
		upath := fmt.Sprintf("/users/%d", uid)
		if code, d := e.do("GET", upath+"/sessions", e.admin, nil); code != 200 || len(d["value"].([]any)) != 1 {
			t.Fatalf("sessions = %d %v", code, d)
		}
		if code, d := e.do("POST", upath+"/disable", e.admin, map[string]any{"reason": "chargeback"}); code != 200 || d["disabled"] != true {
			t.Fatalf("disable = %d %v", code, d)
		}
		if _, err := e.svc.Sessions().Get(ctx, tok); err == nil {
			t.Error("the disabled user's session still works")
		}
		es := e.entries(fmt.Sprintf("?targetUserId=%d", uid))
		if len(es) != 1 {
			t.Fatalf("entries of the target: %v", es)
		}
		en := es[0].(map[string]any)
		if en["action"] != admin.ActionUserDisable || en["ip"] != "198.51.100.9" || en["actorUserId"] == nil ||
			en["detail"].(map[string]any)["reason"] != "chargeback" || en["at"] == nil {
			t.Errorf("disable entry %v", en)
		}
		if code, d := e.do("GET", "/users?status=disabled", e.admin, nil); code != 200 || len(d["users"].([]any)) != 1 {
			t.Errorf("search disabled = %d %v", code, d)
		}
		if code, _ := e.do("POST", upath+"/enable", e.admin, nil); code != 200 {
			t.Errorf("enable = %d", code)
		}
		if u, _ := e.svc.GetUser(ctx, uid); u.Disabled {
			t.Error("still disabled after enable")
		}
		// Re-enabling brings no session back.
		_, d = e.do("GET", upath+"/sessions", e.admin, nil)
		if n := len(d["value"].([]any)); n != 0 {
			t.Errorf("%d sessions after disable, want 0", n)
		}
		// Identities: none linked, unlinking one is 404.
		if code, d := e.do("GET", upath+"/identities", e.admin, nil); code != 200 || len(d["value"].([]any)) != 0 {
			t.Errorf("identities = %d %v", code, d)
		}
		if code, _ := e.do("DELETE", upath+"/identities/github/42", e.admin, nil); code != 404 {
			t.Errorf("unlink unknown = %d, want 404", code)
		}
		if code, _ := e.do("DELETE", path, e.admin, nil); code != 200 {
			t.Errorf("delete = %d", code)
		}
		if code, d := e.do("GET", path, e.admin, nil); code != 404 || d["code"] != "USER_NOT_FOUND" {
			t.Errorf("GET deleted = %d %v", code, d)
		}
		// A change that fails writes no entry.
		before := len(e.entries(""))
		if code, _ := e.do("POST", "/users/999999/disable", e.admin, nil); code != 404 {
			t.Errorf("disable unknown = %d, want 404", code)
		}
		if after := len(e.entries("")); after != before {
			t.Errorf("a failed change was audited: %d entries, then %d", before, after)
		}
		acts := map[string]bool{}
		for _, x := range e.entries("") {
			acts[x.(map[string]any)["action"].(string)] = true
		}
		for _, a := range []string{admin.ActionUserCreate, admin.ActionUserMetadata, admin.ActionUserDisable, admin.ActionUserEnable, admin.ActionUserDelete} {
			if !acts[a] {
				t.Errorf("no %s entry in %v", a, acts)
			}
		}
	})
}

func TestSessionsEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		uid, tok := e.user(nil)
		upath := fmt.Sprintf("/users/%d", uid)
		_, d := e.do("GET", upath+"/sessions", e.admin, nil)
		sid := d["value"].([]any)[0].(map[string]any)["id"].(string)
		if code, _ := e.do("DELETE", upath+"/sessions/"+sid, e.admin, nil); code != 200 {
			t.Fatalf("end one = %d", code)
		}
		if _, err := e.svc.Sessions().Get(t.Context(), tok); err == nil {
			t.Error("ended session still works")
		}
		if code, _ := e.do("DELETE", upath+"/sessions/"+sid, e.admin, nil); code != 404 {
			t.Errorf("end again = %d, want 404", code)
		}
		if code, d := e.do("DELETE", upath+"/sessions", e.admin, nil); code != 200 || d["ended"] != float64(0) {
			t.Errorf("end all = %d %v", code, d)
		}
		if code, _ := e.do("DELETE", "/users/999999/sessions", e.admin, nil); code != 404 {
			t.Errorf("end all of unknown user = %d, want 404", code)
		}
	})
}

func TestSearchAndBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for range 4 {
			e.user(nil)
		}
		var seen int
		q := "/users?limit=2"
		for range 10 {
			code, d := e.do("GET", q, e.admin, nil)
			if code != 200 {
				t.Fatalf("GET %s = %d %v", q, code, d)
			}
			seen += len(d["users"].([]any))
			next, _ := d["next"].(string)
			if next == "" {
				break
			}
			q = "/users?limit=2&cursor=" + url.QueryEscape(next)
		}
		if seen != 5 { // the admin and four users
			t.Errorf("paging saw %d users, want 5", seen)
		}
		bad := []struct{ method, path string }{
			{"GET", "/users?status=gone"},
			{"GET", "/users?phone=12"},
			{"GET", "/users?cursor=xyz"},
			{"GET", "/users?limit=100000"},
			{"GET", "/users?createdFrom=yesterday"},
			{"GET", "/users?tenant=acme"},
			{"GET", "/users?tenant=-2"},
			{"GET", "/users?email=%00"},
			{"GET", "/users/abc"},
			{"GET", "/users/-1"},
			{"GET", "/audit?targetUserId=-3"},
			{"GET", "/audit?from=x"},
			{"POST", "/keys"},
			{"POST", "/users/1/disable"},
		}
		for _, b := range bad {
			var body any
			if b.path == "/users/1/disable" {
				body = map[string]any{"reason": string(make([]byte, 501))}
			}
			if code, d := e.do(b.method, b.path, e.admin, body); code != 400 || d["code"] != "INVALID_INPUT" {
				t.Errorf("%s %s = %d %v, want 400 INVALID_INPUT", b.method, b.path, code, d)
			}
		}
	})
}
