package handlers

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/user"
)

type hookFields struct {
	Nickname string `json:"nickname"`
	Credits  int    `json:"credits"`
	Secret   string `json:"-"`
}

// GET /user-center/session answers the session's user id, times and the
// GetSessionUserData object; /me merges the hooks' MeFields.
func TestSessionEndpointAndHookMeFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b), withConfig(func(c *simpleuser.Config) {
			c.Hooks.GetSessionUserData = func(_ context.Context, u *user.User) (map[string]any, error) {
				return map[string]any{"nickname": "nick-" + u.Email[:3]}, nil
			}
			c.Hooks.MeFields = func(_ context.Context, u *user.User) (map[string]any, error) {
				return map[string]any{"nickname": "neo", "credits": 3, "id": -1}, nil
			}
			c.Hooks.MeFieldsType = hookFields{}
		}))
		tok, id := e.register(e.ssaid("s"), e.email("ses"), "")

		r := e.do(rq{method: "GET", path: "/user-center/session", token: tok}).want(t, 200, "")
		if r.num("userId") != id || r.str("createdAt") == "" || r.str("expiresAt") <= r.str("createdAt") {
			t.Fatalf("session data %v", r.data)
		}
		d, _ := r.data["data"].(map[string]any)
		if d["nickname"] != "nick-ses" {
			t.Fatalf("session user data %v, want the GetSessionUserData object", r.data["data"])
		}
		e.do(rq{method: "GET", path: "/user-center/session"}).want(t, 401, "")
		other := "x"
		if tok[0] == 'x' { // a token may start with x: make sure this one differs
			other = "y"
		}
		e.do(rq{method: "GET", path: "/user-center/session", token: other + tok[1:]}).want(t, 401, "")

		me := e.me(e.ssaid("s"), tok).want(t, 200, "")
		if me.data["nickname"] != "neo" || me.data["credits"] != float64(3) || me.num("id") != id {
			t.Fatalf("/me with MeFields: %v (kit fields must win)", me.data)
		}

		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, httptest.NewRequest("GET", e.prefix+"/openapi.json", nil))
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		s := w.Body.String()
		if !strings.Contains(s, `"credits"`) || strings.Contains(s, `"Secret"`) {
			t.Fatal("the OpenAPI document does not reflect hooks.MeFieldsType")
		}
		if !strings.Contains(s, `/user-center/session`) {
			t.Fatal("the session route is missing from the OpenAPI document")
		}
	})
}
