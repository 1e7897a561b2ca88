// Package flowtest is the test every router example runs: a person's first
// visit through the app's real router, over HTTP (httptest): the guarded
// route refuses the device's anonymous user, then send-code, login with the
// code, /me with the token, and the guarded route again, now answered.
package flowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/password"
)

// GuardedPath is the app route each example guards with
// middleware.RequireRegistered; it answers {"userId":..., "orders":[]}.
const GuardedPath = "/orders"

// Codes records the codes a test service sent, by email.
type Codes struct {
	mu   sync.Mutex
	last map[string]string
}

// Service returns a service on the kit's memory stores whose SendCode
// sends no mail: every code is 246810, recorded in the returned Codes.
func Service(t *testing.T) (*simpleuser.Service, *Codes) {
	t.Helper()
	codes := &Codes{last: map[string]string{}}
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(_ context.Context, r hooks.SendCodeRequest) (string, error) {
			codes.mu.Lock()
			defer codes.mu.Unlock()
			codes.last[r.Email] = "246810"
			return "246810", nil
		}},
		Argon2: password.Params{Memory: 64, Time: 1}, // cheap hashes: a test, not a deployment
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, codes
}

func (c *Codes) get(email string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[email]
}

// answer is the kit's envelope with the fields the flow reads.
type answer struct {
	StatusCode int    `json:"statusCode"`
	Success    bool   `json:"success"`
	Message    string `json:"message"`
	Data       struct {
		Code   string `json:"code"`
		Token  string `json:"token"`
		UserID int64  `json:"userId"`
		ID     int64  `json:"id"`
		Email  string `json:"email"`
		// Registered is /me's.
		Registered bool     `json:"registered"`
		Orders     []string `json:"orders"`
	} `json:"data"`
}

// Run serves h (the example's whole app: router, API, middleware) with
// httptest and walks the flow through it, failing t at the first step that
// answers otherwise than the kit promises.
func Run(t *testing.T, h http.Handler, codes *Codes) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&oneAnswer{ResponseWriter: w, t: t, path: r.URL.Path}, r)
	}))
	defer srv.Close()
	const ssaid, email = "device-1", "ada@example.com"

	do := func(step, method, path, token string, body any) answer {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-client-ssaid", ssaid)
		if body != nil {
			req.Header.Set("content-type", "application/json")
		}
		if token != "" {
			req.Header.Set("x-client-token", token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var a answer
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s: %s %s answered %d, not the kit's JSON envelope: %v\n%s", step, method, path, res.StatusCode, err, raw)
		}
		if a.StatusCode != res.StatusCode {
			t.Fatalf("%s: HTTP status %d, envelope statusCode %d", step, res.StatusCode, a.StatusCode)
		}
		return a
	}

	// The guard refuses the device's anonymous user: 402, the envelope's code.
	if a := do("guard before login", http.MethodGet, GuardedPath, "", nil); a.StatusCode != http.StatusPaymentRequired || a.Data.Code == "" {
		t.Fatalf("guard before login: %d %q %q, want 402 with a data.code", a.StatusCode, a.Message, a.Data.Code)
	}
	if a := do("send-code", http.MethodPost, "/api/send-code/send", "", map[string]string{"email": email, "codePurpose": "Login"}); a.StatusCode != http.StatusOK || !a.Success {
		t.Fatalf("send-code: %d %q %q", a.StatusCode, a.Message, a.Data.Code)
	}
	code := codes.get(email)
	if code == "" {
		t.Fatal("send-code answered 200 but the SendCode hook was not called")
	}
	login := do("login", http.MethodPost, "/api/login", "", map[string]string{"email": email, "code": code})
	if login.StatusCode != http.StatusOK || len(login.Data.Token) != 64 || login.Data.UserID == 0 {
		t.Fatalf("login: %d %q %q, token of %d characters, userId %d", login.StatusCode, login.Message, login.Data.Code, len(login.Data.Token), login.Data.UserID)
	}
	me := do("/me", http.MethodGet, "/api/user-center/me", login.Data.Token, nil)
	if me.StatusCode != http.StatusOK || me.Data.ID != login.Data.UserID || me.Data.Email != email || !me.Data.Registered {
		t.Fatalf("/me: %d %q, id %d (login's %d), email %q, registered %v", me.StatusCode, me.Message, me.Data.ID, login.Data.UserID, me.Data.Email, me.Data.Registered)
	}
	orders := do("guard after login", http.MethodGet, GuardedPath, login.Data.Token, nil)
	if orders.StatusCode != http.StatusOK || orders.Data.UserID != login.Data.UserID || orders.Data.Orders == nil {
		t.Fatalf("guard after login: %d %q %q, userId %d (login's %d), orders %v", orders.StatusCode, orders.Message, orders.Data.Code, orders.Data.UserID, login.Data.UserID, orders.Data.Orders)
	}
	// A token that is not a session's is refused by the guard, not passed.
	if a := do("guard with a bad token", http.MethodGet, GuardedPath, "not-a-token", nil); a.StatusCode != http.StatusUnauthorized {
		t.Fatalf("guard with a bad token: %d %q, want 401", a.StatusCode, a.Message)
	}
}

// oneAnswer fails the test when a handler writes past the answer already
// sent: a second WriteHeader, or body bytes beyond the Content-Length the
// kit's envelope declares. The client never sees those (net/http refuses
// the extra bytes), so this is where a guard whose refusal did not stop
// the router's chain (the app's handler ran for a refused request) shows.
type oneAnswer struct {
	http.ResponseWriter
	t       *testing.T
	path    string
	headers int
	written int64
}

func (w *oneAnswer) WriteHeader(status int) {
	if w.headers++; w.headers > 1 {
		w.t.Errorf("%s: a second WriteHeader(%d) after the answer: the chain went on past it", w.path, status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *oneAnswer) Write(b []byte) (int, error) {
	if w.headers == 0 {
		w.headers = 1 // an implicit 200
	}
	w.written += int64(len(b))
	if cl, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil && w.written > cl {
		w.t.Errorf("%s: %d body bytes written, %d declared: a second answer after the first", w.path, w.written, cl)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *oneAnswer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
