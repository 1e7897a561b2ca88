package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/admin"
	adminmemory "github.com/simpleuser/simpleuser/admin/memory"
	adminpg "github.com/simpleuser/simpleuser/admin/postgres"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/realbackends"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

// env is a service and its admin API on one backend set.
type env struct {
	t     *testing.T
	svc   *simpleuser.Service
	store admin.Store
	h     http.Handler
	admin string // a session token of a user holding the admin permission
	pg    bool

	mu  sync.Mutex
	evs []string // "type status reason" of every event
}

func (e *env) events() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

var seq atomic.Int64

// eachBackend runs f on memory stores and on PostgreSQL + Redis.
func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for _, real := range []bool{false, true} {
		name := "memory"
		if real {
			name = "postgres+redis"
		}
		t.Run(name, func(t *testing.T) { f(t, newEnv(t, real)) })
	}
}

func newEnv(t *testing.T, real bool) *env {
	cfg := simpleuser.Config{
		Argon2: password.Params{Memory: 64, Time: 1},
		Hooks: hooks.Hooks{
			SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "424242", nil },
			GetSessionUserData: func(_ context.Context, u *user.User) (map[string]any, error) {
				if u.Metadata["admin"] == true {
					return map[string]any{"permissions": []string{"admin"}}, nil
				}
				return map[string]any{"permissions": []string{"support"}}, nil
			},
		},
	}
	e := &env{t: t, pg: real}
	cfg.Hooks.OnEvent = func(_ context.Context, ev hooks.Event) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		if ev.User != nil {
			e.evs = append(e.evs, ev.Type+" "+ev.User.Status()+" "+ev.User.StatusReason)
		}
		return nil
	}
	var search admin.Searcher
	if real {
		realbackends.Configure(t, &cfg)
		st := adminpg.New(cfg.Users.(*userpg.Store).Pool())
		e.store, search = st, st
	} else {
		users := usermemory.New()
		cfg.Users = users
		e.store = adminmemory.New()
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !real { // the service's tenant store: the search by tenant reads its memberships
		search = adminmemory.Searcher{Users: cfg.Users.(*usermemory.Store), Tenants: svc.Tenants().Store}
	}
	e.svc = svc
	h, err := admin.New(admin.Config{Service: svc, Store: e.store, Search: search})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	_, e.admin = e.user(map[string]any{"admin": true})
	return e
}

// user creates a registered user with metadata and signs it in; it returns
// the id and a session token.
func (e *env) user(meta map[string]any) (int64, string) {
	e.t.Helper()
	ctx := e.t.Context()
	email := fmt.Sprintf("u%d@example.com", seq.Add(1))
	u, err := e.svc.CreateUser(ctx, simpleuser.NewUser{Email: email, Password: "correct horse battery", Metadata: meta})
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.svc.Login(ctx, simpleuser.Client{SSAID: "dev-" + email, IP: netip.MustParseAddr("192.0.2.7")},
		simpleuser.LoginInput{Email: email, Password: "correct horse battery"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, res.Token
}

// do sends a request with auth as the bearer credential; it returns the
// status and the envelope's data.
func (e *env) do(method, path, auth string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "198.51.100.9:4242"
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	var env struct {
		StatusCode int `json:"statusCode"`
		Data       any `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		e.t.Fatalf("%s %s: body %q is no envelope: %v", method, path, w.Body.String(), err)
	}
	if env.StatusCode != w.Code {
		e.t.Errorf("%s %s: envelope statusCode %d, HTTP %d", method, path, env.StatusCode, w.Code)
	}
	m, _ := env.Data.(map[string]any)
	if m == nil {
		m = map[string]any{"value": env.Data}
	}
	return w.Code, m
}

// entries returns the audit log (newest first) through the API.
func (e *env) entries(query string) []any {
	e.t.Helper()
	code, d := e.do("GET", "/audit"+query, e.admin, nil)
	if code != 200 {
		e.t.Fatalf("GET /audit%s = %d %v", query, code, d)
	}
	es, _ := d["entries"].([]any)
	return es
}

func TestAuthentication(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		_, plain := e.user(nil)
		cases := []struct {
			name, auth string
			want       int
			code       string
		}{
			{"none", "", 401, simpleuser.CodeAuthRequired},
			{"unknown session", "nope", 401, simpleuser.CodeInvalidToken},
			{"session without the permission", plain, 403, admin.CodePermissionDenied},
			{"malformed key", admin.KeyPrefix + "short", 401, simpleuser.CodeInvalidToken},
			{"unknown key", func() string { k, _, _ := admin.NewKey(); return k }(), 401, simpleuser.CodeInvalidToken},
			{"admin session", e.admin, 200, ""},
		}
		for _, c := range cases {
			code, d := e.do("GET", "/keys", c.auth, nil)
			if code != c.want || (c.code != "" && d["code"] != c.code) {
				t.Errorf("%s: %d %v, want %d %s", c.name, code, d, c.want, c.code)
			}
		}
		// A key is shown once, works until revoked, and is stored hashed.
		code, d := e.do("POST", "/keys", e.admin, map[string]any{"name": "ci"})
		key, _ := d["key"].(string)
		if code != 200 || !admin.IsKey(key) {
			t.Fatalf("POST /keys = %d %v", code, d)
		}
		id := d["id"].(string)
		if code, d := e.do("GET", "/keys", key, nil); code != 200 || len(d["value"].([]any)) != 1 {
			t.Fatalf("GET /keys with the key = %d %v", code, d)
		} else if k := d["value"].([]any)[0].(map[string]any); k["key"] != nil || k["hash"] != nil || k["id"] != id {
			t.Errorf("listed key shows %v: want its id and no key or hash", k)
		}
		if k, err := e.store.KeyByHash(t.Context(), admin.HashKey(key)); err != nil || k.ID != id {
			t.Errorf("stored key by SHA-256: %v, %v", k, err)
		}
		if code, _ := e.do("DELETE", "/keys/"+id, key, nil); code != 200 {
			t.Fatalf("revoke = %d", code)
		}
		if code, d := e.do("GET", "/keys", key, nil); code != 401 {
			t.Errorf("revoked key: %d %v, want 401", code, d)
		}
		if code, _ := e.do("DELETE", "/keys/nope", e.admin, nil); code != 404 {
			t.Errorf("revoke unknown key = %d, want 404", code)
		}
		// The key's creation and revocation are audited with their actor.
		es := e.entries("?action=" + admin.ActionKeyRevoke)
		if len(es) != 1 || es[0].(map[string]any)["actorKeyId"] != id || es[0].(map[string]any)["target"] != id {
			t.Errorf("revocation entries %v", es)
		}
	})
}
