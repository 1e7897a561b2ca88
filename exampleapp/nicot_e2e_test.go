package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/realbackends"
)

// TestNicotE2E replays nicot-simple-user's own end-to-end spec
// (test/app-e2e.spec.ts at 1.1.0) against the example server, in its
// order and with its assertions: steps 1-7 and 13-15, over HTTP, with the
// fixed code 123456, on the in-memory stores and on PostgreSQL + Redis.
//
// Where it differs, on purpose:
//   - Paths carry the exampleapp's /api prefix (nicot's spec mounts its
//     module at the root; its demo app and README use /api).
//   - Step 5's `age === 18` is the spec's demo entity's own column; the
//     exampleapp's own columns are nickname, referralCode and credits, so
//     the step checks credits === 0, its default, instead.
//   - Steps 8-12 exercise the spec's demo resource (/article), which the
//     exampleapp does not have.
//   - Step 7 changes the email with the registration token after step 6
//     changed the password. nicot passes it only through its bug B1 (that
//     token was indexed under a null email, out of reach of revocation);
//     here it passes by design: change-password keeps the caller's session
//     and ends the others (SPEC §4).
func TestNicotE2E(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) { nicotE2E(t, newHarness(t, s)) })
	}
}

// supertest is one request in the style of nicot's spec: HTTP against the
// whole server from one client (127.0.0.1, as supertest connects).
type supertest struct {
	t      *testing.T
	h      *harness
	method string
	path   string
	query  url.Values
	header map[string]string
	body   any
}

func (h *harness) request(t *testing.T, method, path string) *supertest {
	return &supertest{t: t, h: h, method: method, path: path, header: map[string]string{}}
}

func (r *supertest) set(k, v string) *supertest { r.header[k] = v; return r }

func (r *supertest) send(body any) *supertest { r.body = body; return r }

func (r *supertest) withQuery(kv ...string) *supertest {
	r.query = url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		r.query.Set(kv[i], kv[i+1])
	}
	return r
}

// expect runs the request and asserts its status; it returns the body.
func (r *supertest) expect(status int) map[string]any {
	r.t.Helper()
	target := r.path
	if r.query != nil {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if r.body != nil {
		b, _ := json.Marshal(r.body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(r.method, target, rd)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	r.h.app.Handler.ServeHTTP(w, req)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		r.t.Fatalf("%s %s: not JSON: %s", r.method, target, w.Body)
	}
	if w.Code != status {
		r.t.Fatalf("%s %s: status %d, want %d: %s", r.method, target, w.Code, status, w.Body)
	}
	return body
}

// expectOkEnvelope is the spec's helper: every answer has these fields.
func expectOkEnvelope(t *testing.T, body map[string]any) {
	t.Helper()
	for _, k := range []string{"statusCode", "message", "success", "timestamp"} {
		if _, ok := body[k]; !ok {
			t.Fatalf("envelope without %q: %v", k, body)
		}
	}
}

func data(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	d, ok := body["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object: %v", body)
	}
	return d
}

func nicotE2E(t *testing.T, h *harness) {
	const testCode = "123456" // the server was started with -fixed-code 123456
	var b [7]byte
	_, _ = rand.Read(b[:])
	rnd := hex.EncodeToString(b[:])[:13] // Math.random().toString(16).slice(2)
	email1 := "e2e_" + rnd + "@example.com"
	email2 := "e2e2_" + rnd + "@example.com"
	ssaid := "ssaid_e2e_" + rnd
	password1 := "P@ss_" + rnd + "_1"
	password2 := "P@ss_" + rnd + "_2"
	var token string
	var userID float64
	currentEmail := email1
	request := func(t *testing.T, method, path string) *supertest { return h.request(t, method, path) }

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"GET /login/user-exists -> should be false for a brand new email", func(t *testing.T) {
			res := request(t, "GET", "/api/login/user-exists").withQuery("email", email1).expect(200)
			expectOkEnvelope(t, res)
			if data(t, res)["exists"] != false {
				t.Fatalf("exists: %v", res)
			}
		}},
		{"POST /send-code/send (login) -> should succeed", func(t *testing.T) {
			res := request(t, "POST", "/api/send-code/send").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email1, "codePurpose": "Login"}).expect(200)
			expectOkEnvelope(t, res)
		}},
		{"GET /send-code/verify (login) -> correct code should pass; wrong code should 403", func(t *testing.T) {
			ok := request(t, "GET", "/api/send-code/verify").withQuery("email", email1, "codePurpose", "Login", "code", testCode).expect(200)
			expectOkEnvelope(t, ok)
			bad := request(t, "GET", "/api/send-code/verify").withQuery("email", email1, "codePurpose", "Login", "code", "000000").expect(403)
			expectOkEnvelope(t, bad)
		}},
		{"POST /login (code) -> should auto-create user & return token", func(t *testing.T) {
			res := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email1, "code": testCode}).expect(200)
			expectOkEnvelope(t, res)
			d := data(t, res)
			id, isNum := d["userId"].(float64)
			tok, isStr := d["token"].(string)
			if !isNum || !isStr || len(tok) != 64 {
				t.Fatalf("login data: %v", d)
			}
			token, userID = tok, id
		}},
		{"GET /user-center/me -> should return current user info", func(t *testing.T) {
			res := request(t, "GET", "/api/user-center/me").set("x-client-ssaid", ssaid).set("x-client-token", token).expect(200)
			expectOkEnvelope(t, res)
			d := data(t, res)
			if _, ok := d["id"].(float64); !ok || d["id"] != userID {
				t.Fatalf("id: %v", d["id"])
			}
			if d["email"] != email1 {
				t.Fatalf("email %v, want %s", d["email"], email1)
			}
			if _, ok := d["passwordSet"].(bool); !ok {
				t.Fatalf("passwordSet: %v", d["passwordSet"])
			}
			if d["credits"] != float64(0) { // nicot: data.age === 18, its demo column's default
				t.Fatalf("credits %v, want the default 0", d["credits"])
			}
		}},
		{"POST /user-center/change-password -> set password (first time) and then login by password", func(t *testing.T) {
			setRes := request(t, "POST", "/api/user-center/change-password").set("x-client-ssaid", ssaid).set("x-client-token", token).
				send(map[string]any{"newPassword": password1}).expect(200)
			expectOkEnvelope(t, setRes)
			loginOk := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email1, "password": password1}).expect(200)
			expectOkEnvelope(t, loginOk)
			if tok, _ := data(t, loginOk)["token"].(string); len(tok) != 64 {
				t.Fatalf("token %q", tok)
			}
			loginBad := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email1, "password": "WRONG_PASSWORD"}).expect(403)
			expectOkEnvelope(t, loginBad)
		}},
		{"POST /send-code/send (ChangeEmail) -> POST /user-center/change-email -> should change email", func(t *testing.T) {
			send := request(t, "POST", "/api/send-code/send").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email2, "codePurpose": "ChangeEmail"}).expect(200)
			expectOkEnvelope(t, send)
			currentEmail = email2
			change := request(t, "POST", "/api/user-center/change-email").set("x-client-ssaid", ssaid).set("x-client-token", token).
				send(map[string]any{"email": email2, "code": testCode}).expect(200)
			expectOkEnvelope(t, change)
			relogin := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email2, "password": password1}).expect(200)
			expectOkEnvelope(t, relogin)
			if tok, _ := data(t, relogin)["token"].(string); len(tok) != 64 {
				t.Fatalf("token %q", tok)
			}
		}},
		// Steps 8-12: the spec's demo resource (/article).
		{"POST /send-code/send (ResetPassword) -> POST /login/reset-password -> login with new password", func(t *testing.T) {
			send := request(t, "POST", "/api/send-code/send").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email2, "codePurpose": "ResetPassword"}).expect(200)
			expectOkEnvelope(t, send)
			reset := request(t, "POST", "/api/login/reset-password").
				send(map[string]any{"email": email2, "code": testCode, "newPassword": password2}).expect(200)
			expectOkEnvelope(t, reset)
			oldBad := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email2, "password": password1}).expect(403)
			expectOkEnvelope(t, oldBad)
			newOk := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": email2, "password": password2}).expect(200)
			expectOkEnvelope(t, newOk)
		}},
		{"POST /user-center/unregister -> should revoke session and block access", func(t *testing.T) {
			loginOk := request(t, "POST", "/api/login").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": currentEmail, "password": password2}).expect(200)
			expectOkEnvelope(t, loginOk)
			token, _ = data(t, loginOk)["token"].(string)
			unregister := request(t, "POST", "/api/user-center/unregister").set("x-client-ssaid", ssaid).set("x-client-token", token).expect(200)
			expectOkEnvelope(t, unregister)
			me := request(t, "GET", "/api/user-center/me").set("x-client-ssaid", ssaid).set("x-client-token", token).expect(401)
			expectOkEnvelope(t, me)
		}},
		{"POST /login/unregister-with-code -> should succeed even if already unregistered", func(t *testing.T) {
			send := request(t, "POST", "/api/send-code/send").set("x-client-ssaid", ssaid).
				send(map[string]any{"email": currentEmail, "codePurpose": "Unregister"}).expect(200)
			expectOkEnvelope(t, send)
			unregister := request(t, "POST", "/api/login/unregister-with-code").
				send(map[string]any{"email": currentEmail, "code": testCode}).expect(200)
			expectOkEnvelope(t, unregister)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return // the steps build on each other, as in the spec
		}
	}
}

// TestNicotInitialUser replays nicot-simple-user's test/initial-user.spec.ts:
// two initial users configured, then a service-level password login of
// each (ssaid "test-agent", address 1.1.1.1) succeeds with a user id > 0,
// on a fresh schema. Its passwords ("foo", "bar") are shorter than the
// kit's default minimum of 8 bytes (nicot has none), so the test sets
// PasswordMinLength to -1: the one deliberate difference.
func TestNicotInitialUser(t *testing.T) {
	for name, real := range map[string]bool{"memory": false, "postgres+redis": true} {
		t.Run(name, func(t *testing.T) {
			cfg := simpleuser.Config{
				Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
				PasswordMinLength: -1,
				Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) {
					return "", hooks.Reject(500, "Not implemented")
				}},
				InitialUsers: []simpleuser.InitialUser{
					{Email: "nanahira@momobako.com", Password: "foo"},
					{Email: "yuzu@momobako.com", Password: "bar"},
				},
			}
			if real {
				realbackends.Configure(t, &cfg)
			}
			s1, err := simpleuser.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			c := simpleuser.Client{SSAID: "test-agent", IP: netip.MustParseAddr("1.1.1.1")}
			login1, err := s1.Login(ctx, c, simpleuser.LoginInput{Email: "nanahira@momobako.com", Password: "foo"})
			if err != nil || login1.UserID <= 0 {
				t.Fatalf("login of nanahira: %+v, %v", login1, err)
			}
			login2, err := s1.Login(ctx, c, simpleuser.LoginInput{Email: "yuzu@momobako.com", Password: "bar"})
			if err != nil || login2.UserID <= 0 {
				t.Fatalf("login of yuzu: %+v, %v", login2, err)
			}
		})
	}
}
