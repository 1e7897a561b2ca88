package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user"
)

type svcEnv struct {
	svc  *simpleuser.Service
	mu   sync.Mutex
	code string
	n    byte
}

func newService(t testing.TB, mod ...func(*simpleuser.Config)) *svcEnv {
	t.Helper()
	e := &svcEnv{}
	now := time.Now()
	cfg := simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(_ context.Context, _ hooks.SendCodeRequest) (string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.code = "424242"
			return e.code, nil
		}},
		Now:    func() time.Time { return now },
		Argon2: password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mod {
		m(&cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// register makes an account through the service and returns its token and id.
func (e *svcEnv) register(t testing.TB, email string) (string, int64) {
	t.Helper()
	ctx := context.Background()
	e.n++
	c := simpleuser.Client{SSAID: "reg-" + email, IP: netip.AddrFrom4([4]byte{192, 0, 2, 10 + e.n})}
	if err := e.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: e.code})
	if err != nil {
		t.Fatal(err)
	}
	return res.Token, res.UserID
}

type envelopeBody struct {
	StatusCode int            `json:"statusCode"`
	Message    string         `json:"message"`
	Success    bool           `json:"success"`
	Timestamp  string         `json:"timestamp"`
	Data       map[string]any `json:"data"`
}

// serve runs h on a request with headers and returns status and envelope
// (nil envelope when the body is not one).
func serve(t *testing.T, h http.Handler, method, path string, hdr map[string]string) (*httptest.ResponseRecorder, *envelopeBody) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var env envelopeBody
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Timestamp == "" {
		return w, nil
	}
	if env.StatusCode != w.Code || env.Success != (w.Code < 400) {
		t.Fatalf("envelope %+v with status %d", env, w.Code)
	}
	if _, err := time.Parse(time.RFC3339, env.Timestamp); err != nil {
		t.Fatalf("timestamp %q", env.Timestamp)
	}
	return w, &env
}

func wantEnvelope(t *testing.T, w *httptest.ResponseRecorder, env *envelopeBody, status int, code string) {
	t.Helper()
	if w.Code != status || env == nil {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("Content-Type %q", w.Header().Get("Content-Type"))
	}
	if code != "" && env.Data["code"] != code {
		t.Fatalf("data.code %v, want %s", env.Data["code"], code)
	}
}

func TestIdentityClient(t *testing.T) {
	e := newService(t)
	var got simpleuser.Client
	var ok bool
	h := Identity(e.svc, Options{TrustedProxies: mustPrefixes(t, "10.0.0.0/8")})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = simpleuser.ClientFrom(r.Context())
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:555"
	r.Header.Set("X-Forwarded-For", "198.51.100.4")
	r.Header.Set("X-Client-Ssaid", "device-1")
	r.Header.Set("x-client-token", "tok")
	r.Header.Set("User-Agent", strings.Repeat("u", 600))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !ok || got.SSAID != "device-1" || got.Token != "tok" || got.IP.String() != "198.51.100.4" || len(got.UserAgent) != MaxUserAgentLength {
		t.Fatalf("client %+v (ok=%v)", got, ok)
	}

	// Absent and empty ssaid: "".
	for _, hdr := range []map[string]string{{}, {"x-client-ssaid": ""}} {
		ok = false
		serve(t, h, "GET", "/", hdr)
		if !ok || got.SSAID != "" || got.Token != "" {
			t.Fatalf("client %+v", got)
		}
	}
}

func TestIdentityRejectsBadSSAID(t *testing.T) {
	e := newService(t)
	called := false
	h := Identity(e.svc, Options{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	for _, s := range []string{strings.Repeat("a", 129), "a\x01b", "a b", "tab\there", "é", "\x7f"} {
		w, env := serve(t, h, "GET", "/", map[string]string{"x-client-ssaid": s})
		wantEnvelope(t, w, env, 400, "INVALID_INPUT")
		if called {
			t.Fatalf("%q reached the handler", s)
		}
	}
	w, _ := serve(t, h, "GET", "/", map[string]string{"x-client-ssaid": strings.Repeat("a", 128)})
	if w.Code != 200 || !called {
		t.Fatal("128-char ssaid refused")
	}
}

func TestIdentityPassesThroughExistingClient(t *testing.T) {
	e := newService(t)
	var got simpleuser.Client
	inner := Identity(e.svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = simpleuser.ClientFrom(r.Context())
	}))
	outer := Identity(e.svc, Options{TrustedProxies: mustPrefixes(t, "0.0.0.0/0")})(inner)
	serve(t, outer, "GET", "/", map[string]string{"x-client-ssaid": "d", "X-Forwarded-For": "198.51.100.1"})
	if got.IP.String() != "198.51.100.1" {
		t.Fatalf("inner Identity replaced the client: %+v", got)
	}
}

func TestIdentityIsLazy(t *testing.T) {
	e := newService(t)
	h := Identity(e.svc, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}))
	serve(t, h, "GET", "/", map[string]string{"x-client-ssaid": "lazy-device"})
	if _, err := e.svc.Users().GetAnonymous(context.Background(), "lazy-device"); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("a request that never asked for the user created one (err %v)", err)
	}
	// RequireUser does ask: the anonymous user exists afterwards.
	serve(t, Identity(e.svc, Options{})(RequireUser(h)), "GET", "/", map[string]string{"x-client-ssaid": "lazy-device"})
	if _, err := e.svc.Users().GetAnonymous(context.Background(), "lazy-device"); err != nil {
		t.Fatalf("RequireUser did not resolve the user: %v", err)
	}
}

func TestRequire(t *testing.T) {
	e := newService(t)
	off := newService(t, func(c *simpleuser.Config) { c.DisableAnonymous = true })
	tok, id := e.register(t, "reg@example.com")
	disabledTok, disabledID := e.register(t, "off@example.com")
	u, _ := e.svc.Users().Get(context.Background(), disabledID)
	u.Disabled = true
	if err := e.svc.Users().Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	offAnon, err := e.svc.Users().GetOrCreateAnonymous(context.Background(), "off-device", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetDisabled(context.Background(), offAnon.ID, true); err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, _ := simpleuser.CurrentSession(r.Context()); d != nil && d.UserID != id {
			t.Errorf("session of user %d", d.UserID)
		}
		w.WriteHeader(299)
	})
	bad := strings.Repeat("Z", 64)
	// A sign-in waiting for its second factor opens none of these.
	pending, err := e.svc.Sessions().Create(context.Background(), session.Data{UserID: id, Stage: session.StageMFA, MFA: true, Factors: []string{"totp"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		svc    *simpleuser.Service
		mw     func(http.Handler) http.Handler
		hdr    map[string]string
		status int
		code   string
	}{
		{"user: anonymous", e.svc, RequireUser, map[string]string{"x-client-ssaid": "d"}, 299, ""},
		{"user: token", e.svc, RequireUser, map[string]string{"x-client-ssaid": "d", "x-client-token": tok}, 299, ""},
		{"user: no ssaid", e.svc, RequireUser, nil, 400, "SSAID_REQUIRED"},
		{"user: bad token", e.svc, RequireUser, map[string]string{"x-client-ssaid": "d", "x-client-token": bad}, 401, "INVALID_TOKEN"},
		{"user: disabled", e.svc, RequireUser, map[string]string{"x-client-token": disabledTok}, 403, "ACCOUNT_DISABLED"},
		{"user: disabled anonymous", e.svc, RequireUser, map[string]string{"x-client-ssaid": "off-device"}, 403, "ACCOUNT_DISABLED"},
		{"user: anonymous off", off.svc, RequireUser, map[string]string{"x-client-ssaid": "d"}, 401, "AUTH_REQUIRED"},
		{"registered: anonymous", e.svc, RequireRegistered, map[string]string{"x-client-ssaid": "d"}, 402, "ANONYMOUS_USER"},
		{"registered: token", e.svc, RequireRegistered, map[string]string{"x-client-token": tok}, 299, ""},
		{"registered: bad token", e.svc, RequireRegistered, map[string]string{"x-client-token": bad}, 401, "INVALID_TOKEN"},
		{"session: token", e.svc, RequireSession, map[string]string{"x-client-token": tok}, 299, ""},
		{"session: no token", e.svc, RequireSession, map[string]string{"x-client-ssaid": "d"}, 401, "AUTH_REQUIRED"},
		{"session: bad token", e.svc, RequireSession, map[string]string{"x-client-token": bad}, 401, "INVALID_TOKEN"},
		{"user: challenge stage", e.svc, RequireUser, map[string]string{"x-client-ssaid": "d", "x-client-token": pending}, 403, "MFA_REQUIRED"},
		{"registered: challenge stage", e.svc, RequireRegistered, map[string]string{"x-client-token": pending}, 403, "MFA_REQUIRED"},
		{"session: challenge stage", e.svc, RequireSession, map[string]string{"x-client-token": pending}, 403, "MFA_REQUIRED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Identity(tc.svc, Options{})(tc.mw(ok))
			w, env := serve(t, h, "GET", "/", tc.hdr)
			if tc.status == 299 {
				if w.Code != 299 {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				return
			}
			wantEnvelope(t, w, env, tc.status, tc.code)
		})
	}
	// Without Identity there is no client: 401.
	w, env := serve(t, RequireUser(ok), "GET", "/", nil)
	wantEnvelope(t, w, env, 401, "AUTH_REQUIRED")
}

func TestRequireSessionSkipsUserStore(t *testing.T) {
	e := newService(t)
	tok, id := e.register(t, "s@example.com")
	if err := e.svc.Users().Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	// The user row is gone, but RequireSession only looks at the session.
	h := Identity(e.svc, Options{})(RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })))
	if w, _ := serve(t, h, "GET", "/", map[string]string{"x-client-token": tok}); w.Code != 299 {
		t.Fatalf("status %d", w.Code)
	}
}

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	panicky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom secret-value") })
	w, env := serve(t, Recover(log)(panicky), "POST", "/x?token=zzz", map[string]string{"x-client-token": "HEADER-TOKEN"})
	wantEnvelope(t, w, env, 500, "INTERNAL")
	if env.Message != "Internal server error" || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("answer %s", w.Body)
	}
	l := logs.String()
	for _, want := range []string{"method=POST", "path=/x", "boom", "stack="} {
		if !strings.Contains(l, want) {
			t.Fatalf("log lacks %q: %s", want, l)
		}
	}
	if strings.Contains(l, "HEADER-TOKEN") || strings.Contains(l, "zzz") {
		t.Fatalf("log leaks headers or query: %s", l)
	}

	// Started responses are left alone.
	half := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(202)
		_, _ = w.Write([]byte("partial"))
		panic("late")
	})
	w, _ = serve(t, Recover(log)(half), "GET", "/", nil)
	if w.Code != 202 || w.Body.String() != "partial" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}

	// http.ErrAbortHandler is re-panicked.
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Fatalf("recovered %v", v)
			}
		}()
		abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
		Recover(nil)(abort).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
}

func TestRecoverKeepsFlusher(t *testing.T) {
	h := Recover(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("not a Flusher")
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestWithServeMuxAndStripPrefix(t *testing.T) {
	e := newService(t)
	tok, id := e.register(t, "mux@example.com")
	mux := http.NewServeMux()
	mux.Handle("GET /app/whoami", RequireRegistered(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := simpleuser.CurrentUser(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"id": u.ID, "ip": simpleuser.ClientIP(r.Context()).String(), "path": r.URL.Path})
	})))
	root := http.NewServeMux()
	root.Handle("/v1/", http.StripPrefix("/v1", mux))
	h := Recover(nil)(Identity(e.svc, Options{})(root))

	w, _ := serve(t, h, "GET", "/v1/app/whoami", map[string]string{"x-client-token": tok})
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if out["id"] != float64(id) || out["ip"] != "192.0.2.1" || out["path"] != "/app/whoami" {
		t.Fatalf("%v", out)
	}
	w, env := serve(t, h, "GET", "/v1/app/whoami", map[string]string{"x-client-ssaid": "anon"})
	wantEnvelope(t, w, env, 402, "ANONYMOUS_USER")

	// Identity inside the stripped subtree works the same.
	inner := http.NewServeMux()
	inner.Handle("GET /who", RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })))
	h2 := http.StripPrefix("/x", Identity(e.svc, Options{})(inner))
	if w, _ := serve(t, h2, "GET", "/x/who", map[string]string{"x-client-token": tok}); w.Code != 299 {
		t.Fatalf("status %d", w.Code)
	}
}
