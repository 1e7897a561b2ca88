package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
)

// Must-change-password: set by the admin API, it reaches the user's live
// session at once and every later sign-in; the guarded routes answer 403
// MUST_CHANGE_PASSWORD until the user changes the password, which clears
// it on the session that changed it.
func TestMustChangePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		id := middleware.Identity(e.svc, middleware.Options{})
		guards := map[string]http.Handler{
			"RequireUser":       id(middleware.RequireUser(ok)),
			"RequireRegistered": id(middleware.RequireRegistered(ok)),
			"RequireSession":    id(middleware.RequireSession(ok)),
		}
		get := func(tok string) map[string]string {
			out := map[string]string{}
			for name, h := range guards {
				r := httptest.NewRequest("GET", "/guarded", nil)
				r.Header.Set("x-client-token", tok)
				r.Header.Set("x-client-ssaid", "dev")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				out[name] = fmt.Sprint(w.Code)
				if w.Code == 403 {
					var env struct{ Data struct{ Code string } }
					_ = json.Unmarshal(w.Body.Bytes(), &env)
					out[name] += " " + env.Data.Code
				}
			}
			return out
		}
		uid, tok := e.user(nil)
		for name, got := range get(tok) {
			if got != "204" {
				t.Fatalf("%s before the flag: %s", name, got)
			}
		}
		path := fmt.Sprintf("/users/%d/must-change-password", uid)
		if code, d := e.do("POST", path, e.admin, nil); code != 200 || d["mustChangePassword"] != true {
			t.Fatalf("set flag = %d %v", code, d)
		}
		for name, got := range get(tok) {
			if got != "403 MUST_CHANGE_PASSWORD" {
				t.Errorf("%s with the flag: %s", name, got)
			}
		}
		if code, d := e.do("GET", fmt.Sprintf("/users/%d", uid), e.admin, nil); code != 200 || d["mustChangePassword"] != true {
			t.Errorf("GET user = %d %v", code, d)
		}
		u, _ := e.svc.GetUser(ctx, uid)
		res, err := e.svc.Login(ctx, simpleuser.Client{SSAID: "dev2"}, simpleuser.LoginInput{Email: u.Email, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if got := get(res.Token)["RequireSession"]; got != "403 MUST_CHANGE_PASSWORD" {
			t.Errorf("a new sign-in: %s, want the flag", got)
		}
		if err := e.svc.ChangePassword(ctx, simpleuser.Client{Token: tok, SSAID: "dev"}, u, "a brand new password", "correct horse battery"); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		for name, got := range get(tok) {
			if got != "204" {
				t.Errorf("%s after the change: %s", name, got)
			}
		}
		if u, _ := e.svc.GetUser(ctx, uid); u.MustChangePassword {
			t.Error("the user still has the flag")
		}
		if es := e.entries(fmt.Sprintf("?targetUserId=%d&action=%s", uid, admin.ActionMustChange)); len(es) != 1 {
			t.Errorf("entries %v", es)
		}
		// Clearing it by the API works too; on a missing user it is 404.
		if code, d := e.do("DELETE", path, e.admin, nil); code != 200 || d["mustChangePassword"] != false {
			t.Errorf("clear = %d %v", code, d)
		}
		if code, _ := e.do("POST", "/users/999999/must-change-password", e.admin, nil); code != 404 {
			t.Errorf("unknown user = %d, want 404", code)
		}
	})
}

// Suspending is disabling told apart: it ends every session, keeps the
// reason on the user, which the UserDisabled event carries, and the search
// finds it by status; re-enabling clears the reason.
func TestSuspend(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		uid, tok := e.user(nil)
		path := fmt.Sprintf("/users/%d", uid)
		if code, d := e.do("POST", path+"/disable", e.admin, map[string]any{"status": "suspended", "reason": "fraud review"}); code != 200 || d["status"] != "suspended" {
			t.Fatalf("suspend = %d %v", code, d)
		}
		if _, err := e.svc.Sessions().Get(ctx, tok); err == nil {
			t.Error("the suspended user's session still works")
		}
		if code, d := e.do("GET", path, e.admin, nil); code != 200 || d["status"] != "suspended" || d["statusReason"] != "fraud review" || d["disabled"] != true {
			t.Errorf("GET = %d %v", code, d)
		}
		if ev := e.events(); len(ev) == 0 || ev[len(ev)-1] != "UserDisabled suspended fraud review" {
			t.Errorf("events %v", ev)
		}
		if code, d := e.do("GET", "/users?status=suspended", e.admin, nil); code != 200 || len(d["users"].([]any)) != 1 {
			t.Errorf("search suspended = %d %v", code, d)
		}
		if code, _ := e.do("POST", path+"/disable", e.admin, map[string]any{"status": "banished"}); code != 400 {
			t.Errorf("unknown status = %d, want 400", code)
		}
		if code, d := e.do("POST", path+"/enable", e.admin, nil); code != 200 || d["status"] != "active" {
			t.Errorf("enable = %d %v", code, d)
		}
		if u, _ := e.svc.GetUser(ctx, uid); u.Status() != "active" || u.StatusReason != "" || u.Suspended {
			t.Errorf("after enable: %s %q", u.Status(), u.StatusReason)
		}
	})
}

// A session whose tenant permissions (session.Data.Permissions) hold
// "admin" is let in by the default check, with no user data at all; and
// RequirePermission answers 403 MUST_CHANGE_PASSWORD to a flagged session
// that holds the permission.
func TestTenantPermission(t *testing.T) {
	e := newEnv(t, false)
	uid, _ := e.user(nil)
	tok, err := e.svc.Sessions().Create(t.Context(), session.Data{UserID: uid, Permissions: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, d := e.do("GET", "/keys", tok, nil); code != 200 {
		t.Errorf("session with the tenant permission: %d %v", code, d)
	}
	flagged, err := e.svc.Sessions().Create(t.Context(), session.Data{UserID: uid, Permissions: []string{"admin"}, MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	h := middleware.Identity(e.svc, middleware.Options{})(middleware.RequirePermission("admin")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })))
	for tk, want := range map[string]int{tok: 204, flagged: 403} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("x-client-token", tk)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("RequirePermission: %d, want %d (%s)", w.Code, want, w.Body.String())
		}
	}
}
