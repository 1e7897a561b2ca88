package prommetrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/metrics/prommetrics"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// env is a service with a Prometheus observer on its own registry and its
// API under /api, with a test code sender.
type env struct {
	t       *testing.T
	reg     *prometheus.Registry
	svc     *simpleuser.Service
	srv     http.Handler
	mu      sync.Mutex
	codes   map[string]string // email + purpose -> last code
	failing atomic.Bool       // the sender fails
	n       atomic.Int64
}

func newEnv(t *testing.T, cfg simpleuser.Config) *env {
	t.Helper()
	e := &env{t: t, reg: prometheus.NewRegistry(), codes: map[string]string{}}
	obs, err := prommetrics.New(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Metrics = obs
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Argon2 == (password.Params{}) {
		cfg.Argon2 = password.Params{Memory: 64, Time: 1, Threads: 1}
	}
	cfg.Hooks.SendCode = func(_ context.Context, r hooks.SendCodeRequest) (string, error) {
		if e.failing.Load() {
			return "", errors.New("mail server down")
		}
		c := fmt.Sprintf("%06d", 100000+e.n.Add(1))
		e.mu.Lock()
		e.codes[r.Email+"/"+r.Purpose] = c
		e.mu.Unlock()
		return c, nil
	}
	if e.svc, err = simpleuser.New(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv = handlers.New(e.svc, handlers.Options{})
	return e
}

func (e *env) code(email, purpose string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.codes[email+"/"+purpose]
}

// do sends one request and returns its status and data.
func (e *env) do(method, path, ssaid, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if ssaid != "" {
		r.Header.Set("x-client-ssaid", ssaid)
	}
	if token != "" {
		r.Header.Set("x-client-token", token)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	var env struct {
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &env)
	return w.Code, env.Data
}

// want checks a status.
func (e *env) want(status, wantStatus int, what string) {
	e.t.Helper()
	if status != wantStatus {
		e.t.Fatalf("%s: status %d, want %d", what, status, wantStatus)
	}
}

// login sends a Login code to email and logs in with it; it returns the token.
func (e *env) codeLogin(ssaid, email string, extra map[string]any) string {
	e.t.Helper()
	st, _ := e.do("POST", "/api/send-code/send", ssaid, "", map[string]any{"email": email, "codePurpose": "Login"})
	e.want(st, 200, "send-code "+email)
	body := map[string]any{"email": email, "code": e.code(email, "Login")}
	for k, v := range extra {
		body[k] = v
	}
	st, data := e.do("POST", "/api/login", ssaid, "", body)
	e.want(st, 200, "login "+email)
	return data["token"].(string)
}

// count is the value of one counter series of the registry.
func (e *env) count(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// delta runs f and returns how much the series changed.
func (e *env) delta(f func(), name string, labels ...string) float64 {
	e.t.Helper()
	before := e.count(name, labels...)
	f()
	return e.count(name, labels...) - before
}

func (e *env) wantDelta(what string, f func(), want float64, name string, labels ...string) {
	e.t.Helper()
	if got := e.delta(f, name, labels...); got != want {
		e.t.Errorf("%s: %s%v changed by %v, want %v", what, name, labels, got, want)
	}
}

// TestFlowsMoveTheirMetrics: each family changes as the flow through the
// HTTP API that it counts says, and only that series.
func TestFlowsMoveTheirMetrics(t *testing.T) {
	e := newEnv(t, simpleuser.Config{})
	const ssaid, email = "device-1", "ada@example.com"

	// Codes sent, then a cooldown refusal (email and device cooldowns both).
	e.wantDelta("send-code", func() {
		st, _ := e.do("POST", "/api/send-code/send", ssaid, "", map[string]any{"email": email, "codePurpose": "Login"})
		e.want(st, 200, "send-code")
	}, 1, "simpleuser_code_sends_total", "purpose", "Login", "result", "sent")
	again := func() {
		st, _ := e.do("POST", "/api/send-code/send", ssaid, "", map[string]any{"email": email, "codePurpose": "Login"})
		e.want(st, 429, "send-code again")
	}
	before := e.count("simpleuser_rate_limit_refusals_total", "rule", "send_cooldown_device")
	e.wantDelta("send-code again", again, 1, "simpleuser_code_sends_total", "purpose", "Login", "result", "limited")
	if d := e.count("simpleuser_rate_limit_refusals_total", "rule", "send_cooldown_device") - before; d != 1 {
		t.Errorf("device cooldown refusals moved by %v, want 1", d)
	}
	if c := e.count("simpleuser_rate_limit_refusals_total", "rule", "send_cooldown_email"); c != 1 {
		t.Errorf("email cooldown refusals %v, want 1", c)
	}
	// Another device, same address: the email's cooldown alone.
	e.wantDelta("send-code from another device", func() {
		st, _ := e.do("POST", "/api/send-code/send", "device-2", "", map[string]any{"email": email, "codePurpose": "Login"})
		e.want(st, 429, "send-code from another device")
	}, 0, "simpleuser_rate_limit_refusals_total", "rule", "send_cooldown_device")
	if c := e.count("simpleuser_rate_limit_refusals_total", "rule", "send_cooldown_email"); c != 2 {
		t.Errorf("email cooldown refusals %v, want 2", c)
	}
	// A failed delivery.
	e.failing.Store(true)
	e.wantDelta("failed delivery", func() {
		st, _ := e.do("POST", "/api/send-code/send", "device-3", "", map[string]any{"email": "grace@example.com", "codePurpose": "ResetPassword"})
		e.want(st, 502, "failed delivery")
	}, 1, "simpleuser_code_sends_total", "purpose", "ResetPassword", "result", "send_failed")
	e.failing.Store(false)
	// The handler refuses an unknown purpose before the service; through
	// the Go API it is counted under one label value.
	e.wantDelta("invalid purpose", func() {
		if err := e.svc.SendCode(t.Context(), simpleuser.Client{SSAID: "device-3"}, email, "Nope"); simpleuser.AsError(err).Status != 400 {
			t.Errorf("SendCode with purpose Nope: %v", err)
		}
	}, 1, "simpleuser_code_sends_total", "purpose", "invalid", "result", "invalid")

	// Logins: a wrong code, then the right one registering the account
	// with a password (one argon2id hash: its wait and its run).
	e.wantDelta("wrong code", func() {
		st, _ := e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "code": "000000"})
		e.want(st, 403, "wrong code")
	}, 1, "simpleuser_logins_total", "method", "code", "provider", "", "result", "invalid_code")
	var token string
	hashes := e.delta(func() {
		e.wantDelta("code login", func() {
			e.wantDelta("code login", func() {
				st, data := e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "code": e.code(email, "Login"), "setPassword": "correct horse"})
				e.want(st, 200, "code login")
				token = data["token"].(string)
			}, 1, "simpleuser_logins_total", "method", "code", "provider", "", "result", "success")
		}, 1, "simpleuser_sessions_created_total")
	}, "simpleuser_password_hash_duration_seconds", "op", "hash")
	if hashes != 1 || e.count("simpleuser_password_hash_wait_seconds") < 1 {
		t.Errorf("hash runs %v, waits %v; want 1 and at least 1", hashes, e.count("simpleuser_password_hash_wait_seconds"))
	}

	// Password logins: a wrong one, the right one (a verify run), then
	// five more wrong ones reach the account's and the device's limit.
	e.wantDelta("wrong password", func() {
		st, _ := e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "password": "wrong horse"})
		e.want(st, 403, "wrong password")
	}, 1, "simpleuser_logins_total", "method", "password", "provider", "", "result", "invalid_password")
	e.wantDelta("password login", func() {
		st, _ := e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "password": "correct horse"})
		e.want(st, 200, "password login")
	}, 1, "simpleuser_password_hash_duration_seconds", "op", "verify")
	for range 4 {
		e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "password": "wrong horse"})
	}
	e.wantDelta("blocked", func() {
		st, _ := e.do("POST", "/api/login", ssaid, "", map[string]any{"email": email, "password": "wrong horse"})
		e.want(st, 429, "blocked")
	}, 1, "simpleuser_logins_total", "method", "password", "provider", "", "result", "too_many_password_attempts")
	for _, rule := range []string{"password_attempts_account", "password_attempts_device"} {
		if c := e.count("simpleuser_rate_limit_refusals_total", "rule", rule); c != 1 {
			t.Errorf("refusals %s = %v, want 1", rule, c)
		}
	}
	if c := e.count("simpleuser_rate_limit_refusals_total", "rule", "password_attempts_address"); c != 0 {
		t.Errorf("address refusals %v, want 0 (the address's budget is 100)", c)
	}
	e.wantDelta("unknown user", func() {
		st, _ := e.do("POST", "/api/login", "device-9", "", map[string]any{"email": "nobody@example.com", "password": "whatever1"})
		e.want(st, 404, "unknown user")
	}, 1, "simpleuser_logins_total", "method", "password", "provider", "", "result", "user_not_found")

	// Request latency by route pattern and status.
	e.wantDelta("me", func() {
		st, _ := e.do("GET", "/api/user-center/me", ssaid, token, nil)
		e.want(st, 200, "me")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "GET /api/user-center/me", "status", "200")
	e.wantDelta("me with a dead token", func() {
		st, _ := e.do("GET", "/api/user-center/me", ssaid, strings.Repeat("x", session.TokenLength), nil)
		e.want(st, 401, "me with a dead token")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "GET /api/user-center/me", "status", "401")

	// Sessions ended, by reason.
	tokA := e.codeLogin("device-a", "bob@example.com", map[string]any{"setPassword": "bob's password"})
	e.wantDelta("login replacing the presented token", func() {
		st, _ := e.do("POST", "/api/login", "device-a", tokA, map[string]any{"email": "bob@example.com", "password": "bob's password"})
		e.want(st, 200, "login with a token")
		// tokA is replaced (no fixation)
	}, 1, "simpleuser_sessions_ended_total", "reason", "replaced")
	login := func(device string) string {
		st, data := e.do("POST", "/api/login", device, "", map[string]any{"email": "bob@example.com", "password": "bob's password"})
		e.want(st, 200, "login "+device)
		return data["token"].(string)
	}
	tokB, tokC := login("device-b"), login("device-c")
	e.wantDelta("logout", func() {
		st, _ := e.do("POST", "/api/user-center/logout", "device-c", tokC, nil)
		e.want(st, 200, "logout")
	}, 1, "simpleuser_sessions_ended_total", "reason", "logout")
	login("device-d")
	// bob's live sessions: the one that replaced tokA, tokB and device-d's.
	e.wantDelta("change password ends the others", func() {
		st, _ := e.do("POST", "/api/user-center/change-password", "device-b", tokB,
			map[string]any{"currentPassword": "bob's password", "newPassword": "bob's new password"})
		e.want(st, 200, "change password")
	}, 2, "simpleuser_sessions_ended_total", "reason", "password_change")
	e.wantDelta("unregister", func() {
		st, _ := e.do("POST", "/api/user-center/unregister", "device-b", tokB, nil)
		e.want(st, 200, "unregister")
	}, 1, "simpleuser_sessions_ended_total", "reason", "unregister")
	e.codeLogin("device-e", "carol@example.com", map[string]any{"setPassword": "carol's password"})
	carol := func(device string) string {
		st, data := e.do("POST", "/api/login", device, "", map[string]any{"email": "carol@example.com", "password": "carol's password"})
		e.want(st, 200, "carol's login on "+device)
		return data["token"].(string)
	}
	tokE := carol("device-e2")
	carol("device-f")
	e.wantDelta("end the other sessions", func() {
		st, data := e.do("POST", "/api/user-center/logout-all", "device-e", tokE, nil)
		e.want(st, 200, "logout-all")
		if data["ended"] != float64(2) {
			t.Errorf("logout-all ended %v, want 2", data["ended"])
		}
	}, 2, "simpleuser_sessions_ended_total", "reason", "logout_all")
	tokH := carol("device-h")
	e.wantDelta("logout everywhere", func() {
		st, _ := e.do("POST", "/api/user-center/logout-all", "device-h", tokH, map[string]any{"includeCurrent": true})
		e.want(st, 200, "logout-all includeCurrent")
	}, 2, "simpleuser_sessions_ended_total", "reason", "revoked")
	if _, err := e.svc.RevokeSessions(t.Context(), 999999); err != nil {
		t.Fatal(err)
	}
	if c := e.count("simpleuser_sessions_ended_total", "reason", "revoked"); c != 2 {
		t.Errorf("revoking no session counted: revoked = %v, want 2", c)
	}
}

// TestMaxSessionsEviction: a login beyond MaxSessionsPerUser counts the
// oldest session ended as max_sessions.
func TestMaxSessionsEviction(t *testing.T) {
	e := newEnv(t, simpleuser.Config{MaxSessionsPerUser: 1, SendCooldown: -1})
	e.codeLogin("d1", "dan@example.com", nil)
	e.wantDelta("second login", func() { e.codeLogin("d2", "dan@example.com", nil) },
		1, "simpleuser_sessions_ended_total", "reason", "max_sessions")
}

// TestMFARequiredCounted: a right password on an account with two-step
// verification issues a challenge-stage session: counted as mfa_required,
// not success (the session is created all the same).
func TestMFARequiredCounted(t *testing.T) {
	e := newEnv(t, simpleuser.Config{})
	e.codeLogin("d1", "hal@example.com", map[string]any{"setPassword": "hal's password"})
	u, err := e.svc.GetUserByEmail(t.Context(), "hal@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MFA().SetEmailFactor(t.Context(), u, true); err != nil {
		t.Fatal(err)
	}
	e.wantDelta("challenged login", func() {
		e.wantDelta("challenged login", func() {
			st, data := e.do("POST", "/api/login", "d2", "", map[string]any{"email": "hal@example.com", "password": "hal's password"})
			e.want(st, 200, "challenged login")
			if data["mfaRequired"] != true {
				t.Errorf("login answered %v, want mfaRequired", data)
			}
		}, 1, "simpleuser_logins_total", "method", "password", "provider", "", "result", "mfa_required")
	}, 1, "simpleuser_sessions_created_total")
	if c := e.count("simpleuser_logins_total", "method", "password", "provider", "", "result", "success"); c != 0 {
		t.Errorf("challenged login counted as success (%v)", c)
	}
}

// TestFactorAttemptsCounted: guessing second-factor codes until the
// account's attempt limit refuses is counted under rule factor_attempts,
// so the brute-force alerts see it.
func TestFactorAttemptsCounted(t *testing.T) {
	e := newEnv(t, simpleuser.Config{})
	e.codeLogin("d1", "ivy@example.com", map[string]any{"setPassword": "ivy's password"})
	u, err := e.svc.GetUserByEmail(t.Context(), "ivy@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MFA().SetEmailFactor(t.Context(), u, true); err != nil {
		t.Fatal(err)
	}
	st, data := e.do("POST", "/api/login", "d2", "", map[string]any{"email": "ivy@example.com", "password": "ivy's password"})
	e.want(st, 200, "challenged login")
	tok, _ := data["token"].(string)
	e.wantDelta("guessed recovery codes", func() {
		for i := 0; ; i++ {
			st, _ := e.do("POST", "/api/user-center/mfa/challenge", "d2", tok, map[string]any{"factor": "recovery", "code": fmt.Sprintf("WRONG-%05d", i)})
			if st == 429 {
				return
			}
			e.want(st, 403, "wrong recovery code")
			if i > 50 {
				t.Fatal("no attempt limit")
			}
		}
	}, 1, "simpleuser_rate_limit_refusals_total", "rule", "factor_attempts")
}

// TestRouteCardinality: unknown paths, wrong methods and wildcard values
// never become route label values; every route value is a pattern of the
// route table, "unmatched" or "OPTIONS".
func TestRouteCardinality(t *testing.T) {
	e := newEnv(t, simpleuser.Config{})
	e.wantDelta("unknown paths", func() {
		for i := range 50 {
			st, _ := e.do("GET", fmt.Sprintf("/api/no-such-%d/x", i), "s", "", nil)
			e.want(st, 404, "unknown path")
		}
	}, 50, "simpleuser_http_request_duration_seconds", "route", "unmatched", "status", "404")
	e.wantDelta("wrong method", func() {
		st, _ := e.do("DELETE", "/api/login", "s", "", nil)
		e.want(st, 405, "wrong method")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "unmatched", "status", "405")
	e.wantDelta("unclean path", func() {
		st, _ := e.do("GET", "/api/user-center/../login/user-exists", "s", "", nil)
		e.want(st, 404, "unclean path")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "unmatched", "status", "404")
	e.wantDelta("options", func() {
		st, _ := e.do("OPTIONS", "/api/login", "", "", nil)
		e.want(st, 204, "options")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "OPTIONS", "status", "204")
	e.wantDelta("provider names", func() {
		for i := range 20 {
			st, _ := e.do("GET", fmt.Sprintf("/api/oauth/p%d/start?redirectUri=https://x.example/cb", i), "s", "", nil)
			e.want(st, 404, "unknown provider")
		}
	}, 20, "simpleuser_http_request_duration_seconds", "route", "GET /api/oauth/{provider}/start", "status", "404")
	e.wantDelta("provider callbacks", func() {
		for i := range 20 {
			e.do("GET", fmt.Sprintf("/api/oauth/evil%d/callback?state=s&code=c", i), "s", "", nil)
		}
	}, 20, "simpleuser_logins_total", "method", "oauth", "provider", "unknown", "result", "unknown_provider")
	e.wantDelta("refused before routing", func() {
		st, _ := e.do("POST", "/api/login", strings.Repeat("\x01", 3), "", map[string]any{"email": "a@example.com", "code": "1"})
		e.want(st, 400, "bad ssaid")
	}, 1, "simpleuser_http_request_duration_seconds", "route", "POST /api/login", "status", "400")

	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"unmatched": true, "OPTIONS": true}
	for _, p := range []string{"POST /api/login", "GET /api/oauth/{provider}/start", "GET /api/oauth/{provider}/callback"} {
		allowed[p] = true
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				v := lp.GetValue()
				switch lp.GetName() {
				case "route":
					if !allowed[v] {
						t.Errorf("route label %q", v)
					}
				case "provider":
					if v != "" && v != "unknown" {
						t.Errorf("provider label %q", v)
					}
				}
			}
		}
	}
	if n := testutil.CollectAndCount(e.reg, "simpleuser_http_request_duration_seconds"); n > 8 {
		t.Errorf("%d request series after 95 requests, want at most 8", n)
	}
}

// TestBackendErrorsCounted: with the code store on a Redis that refuses
// connections, a send is 503 and counts one redis error and one
// unavailable send; a hasher that stays busy counts hasher errors.
func TestBackendErrorsCounted(t *testing.T) {
	e := newEnv(t, simpleuser.Config{Codes: coderedis.New(testenv.DeadRedis(t), "prommetrics-test:")})
	e.wantDelta("send on a dead redis", func() {
		e.wantDelta("send on a dead redis", func() {
			st, _ := e.do("POST", "/api/send-code/send", "d", "", map[string]any{"email": "eve@example.com", "codePurpose": "Login"})
			e.want(st, 503, "send on a dead redis")
		}, 1, "simpleuser_code_sends_total", "purpose", "Login", "result", "unavailable")
	}, 1, "simpleuser_backend_errors_total", "backend", "redis")
	e.wantDelta("verify on a dead redis", func() {
		st, _ := e.do("GET", "/api/send-code/verify?email=eve@example.com&codePurpose=Login&code=123456", "d", "", nil)
		e.want(st, 503, "verify on a dead redis")
	}, 1, "simpleuser_backend_errors_total", "backend", "redis")
	if c := e.count("simpleuser_backend_errors_total", "backend", "postgres"); c != 0 {
		t.Errorf("postgres errors %v with no postgres", c)
	}
}

// TestPostgresErrorsCounted: with the users on PostgreSQL behind a proxy
// that is then stopped, a login is 503 and counts one postgres error (and
// a login result "backend_unavailable"); the Redis-free flows count no
// redis error.
func TestPostgresErrorsCounted(t *testing.T) {
	raw := testenv.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, u.Host)
	u.Host = p.Addr()
	pool, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, simpleuser.Config{Users: postgres.New(pool)})
	e.codeLogin("d1", "gus@example.com", map[string]any{"setPassword": "gus's password"})

	p.Stop()
	e.wantDelta("login while postgres is down", func() {
		e.wantDelta("login while postgres is down", func() {
			st, _ := e.do("POST", "/api/login", "d2", "", map[string]any{"email": "gus@example.com", "password": "gus's password"})
			e.want(st, 503, "login while postgres is down")
		}, 1, "simpleuser_logins_total", "method", "password", "provider", "", "result", "backend_unavailable")
	}, 1, "simpleuser_backend_errors_total", "backend", "postgres")
	if c := e.count("simpleuser_backend_errors_total", "backend", "redis"); c != 0 {
		t.Errorf("redis errors %v", c)
	}
	p.Start()
}

// TestHasherBusyCounted: with one hashing slot and a 20 ms wait,
// concurrent password logins get 503 BUSY; each counts one hasher error,
// and every wait is observed.
func TestHasherBusyCounted(t *testing.T) {
	e := newEnv(t, simpleuser.Config{HashConcurrency: 1, HashMaxWait: 20 * time.Millisecond,
		Argon2: password.Params{Memory: 32 * 1024, Time: 4, Threads: 1}, PasswordMaxAttempts: -1, PasswordAddressMaxAttempts: -1})
	e.codeLogin("d", "fay@example.com", map[string]any{"setPassword": "fay's password"})
	waits := e.count("simpleuser_password_hash_wait_seconds")
	var wg sync.WaitGroup
	var busy atomic.Int64
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, data := e.do("POST", "/api/login", fmt.Sprint("d", i), "", map[string]any{"email": "fay@example.com", "password": "fay's password"})
			if st == 503 && data["code"] == "BUSY" {
				busy.Add(1)
			} else if st != 200 {
				t.Errorf("login: %d %v", st, data)
			}
		}()
	}
	wg.Wait()
	if busy.Load() == 0 {
		t.Fatal("no login was refused BUSY: the hasher never stayed full for 20 ms")
	}
	if got := e.count("simpleuser_backend_errors_total", "backend", "hasher"); got != float64(busy.Load()) {
		t.Errorf("hasher errors %v, want %d (one per 503 BUSY)", got, busy.Load())
	}
	if got := e.count("simpleuser_password_hash_wait_seconds") - waits; got != 6 {
		t.Errorf("%v waits observed, want 6", got)
	}
	if got := e.count("simpleuser_logins_total", "method", "password", "provider", "", "result", "busy"); got != float64(busy.Load()) {
		t.Errorf("busy logins %v, want %d", got, busy.Load())
	}
}

// TestNew: one Observer per registry; a second on the same registry fails.
func TestNew(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := prommetrics.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Fatal("a second Observer registered on the same registry")
	}
	// Pre-initialised series exist at 0.
	if n := testutil.CollectAndCount(reg, "simpleuser_rate_limit_refusals_total"); n != 9 {
		t.Errorf("%d refusal series at start, want 9 (one per rule)", n)
	}
	var _ metrics.Observer = (*prommetrics.Observer)(nil)
}
