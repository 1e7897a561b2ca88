package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/realbackends"
	"github.com/simpleuser/simpleuser/internal/testclock"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/user"
)

// backendSet configures the stores of the service under test. The memory
// set needs nothing (the service defaults to in-memory stores); a real set
// (PostgreSQL + Redis) sets Config.Users, Codes, Risk and SessionStore.
type backendSet struct {
	name      string
	configure func(t *testing.T, cfg *simpleuser.Config)
}

// backendSets are the backends every HTTP test runs on.
var backendSets = []backendSet{
	{name: "memory", configure: func(*testing.T, *simpleuser.Config) {}},
	{name: "postgres+redis", configure: configureReal},
	{name: "postgres+redis-cluster", configure: func(t *testing.T, cfg *simpleuser.Config) { realbackends.ConfigureCluster(t, cfg) }},
}

// configureReal puts the service on the real backends: users in a fresh,
// migrated PostgreSQL schema (its Now on the test clock), codes, risk
// counters and sessions in Redis under a key prefix unique to the test.
//
// Clock caveat: Redis expires code and session keys by its own wall clock,
// not by the test clock. The test clock starts at wall time and only moves
// forward, so a key never vanishes early; but a test that advances the clock
// past a code's TTL and expects the code to be gone would fail here. The
// session manager checks session expiry against Config.Now itself, and the
// risk store scores by the passed now, so both follow the test clock.
func configureReal(t *testing.T, cfg *simpleuser.Config) { realbackends.Configure(t, cfg) }

// eachBackend runs f as a subtest per backend set, the sets side by side
// (each env has its own service, schema and key prefix; the tests spend
// most of their time waiting on PostgreSQL and Redis). Every caller makes
// it its test's last statement: the subtests run after the caller returns.
func eachBackend(t *testing.T, f func(t *testing.T, b backendSet)) {
	t.Helper()
	for _, b := range backendSets {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// newClock starts at the wall clock: the default session store
// (scs/memstore) drops bodies by wall-clock expiry, so a clock behind real
// time would make fresh sessions vanish. Advancing it is fine.
func newClock() *testclock.Clock { return testclock.New(time.Now()) }

// env is one service + handler under test.
type env struct {
	t      testing.TB
	svc    *simpleuser.Service
	h      http.Handler
	clock  *testclock.Clock
	prefix string
	uniq   string

	mu       sync.Mutex
	codes    map[string]string // emailKey/purpose -> last code sent
	sends    atomic.Int64
	failSend atomic.Bool
	ipSeq    atomic.Int64
	seq      atomic.Int64
}

type envConfig struct {
	backend backendSet
	cfg     []func(*simpleuser.Config)
	opts    []func(*Options)
}

type envOption func(*envConfig)

// withBackend picks the backend set (default: the first of backendSets).
func withBackend(b backendSet) envOption { return func(c *envConfig) { c.backend = b } }

// withConfig adjusts the service config.
func withConfig(f func(*simpleuser.Config)) envOption {
	return func(c *envConfig) { c.cfg = append(c.cfg, f) }
}

// withOptions adjusts the handler options.
func withOptions(f func(*Options)) envOption {
	return func(c *envConfig) { c.opts = append(c.opts, f) }
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newEnv builds a service (fast argon2, test clock, capturing SendCode) on
// a backend set, and the handler under test.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ec := collect(opts)
	return build(t, ec, func(cfg *simpleuser.Config) { ec.backend.configure(t, cfg) })
}

// newMemoryEnv is newEnv on the in-memory stores, for fuzz targets (which
// have no *testing.T at setup).
func newMemoryEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	return build(tb, collect(opts), nil)
}

func collect(opts []envOption) envConfig {
	ec := envConfig{backend: backendSets[0]}
	for _, o := range opts {
		o(&ec)
	}
	return ec
}

func build(tb testing.TB, ec envConfig, configure func(*simpleuser.Config)) *env {
	tb.Helper()
	e := &env{t: tb, clock: newClock(), codes: map[string]string{}, uniq: randHex(4)}
	cfg := simpleuser.Config{
		Hooks:  hooks.Hooks{SendCode: e.sendCodeHook},
		Now:    e.clock.Now,
		Argon2: password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if configure != nil {
		configure(&cfg)
	}
	for _, f := range ec.cfg {
		f(&cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		tb.Fatalf("simpleuser.New: %v", err)
	}
	o := Options{Logger: cfg.Logger}
	for _, f := range ec.opts {
		f(&o)
	}
	e.svc = svc
	e.h = New(svc, o)
	e.prefix = normalizePrefix(o.Prefix)
	return e
}

func (e *env) sendCodeHook(_ context.Context, req hooks.SendCodeRequest) (string, error) {
	if e.failSend.Load() {
		return "", errors.New("smtp down")
	}
	code := codeFor(e.sends.Add(1))
	e.mu.Lock()
	e.codes[user.EmailKey(req.Email)+"/"+req.Purpose] = code
	e.mu.Unlock()
	return code, nil
}

// codeFor is the n-th code the capturing SendCode hook delivers.
func codeFor(n int64) string { return fmt.Sprintf("%06d", 100000+(n*7919)%900000) }

// lastCode returns the last code delivered to email for purpose.
func (e *env) lastCode(email, purpose string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.codes[user.EmailKey(email)+"/"+purpose]
}

// email returns an address unique to this env.
func (e *env) email(name string) string { return name + "-" + e.uniq + "@example.com" }

// ssaid returns a device id unique to this env.
func (e *env) ssaid(name string) string { return name + "-" + e.uniq }

// nextIP returns a fresh client address.
func (e *env) nextIP() string {
	n := e.ipSeq.Add(1)
	return fmt.Sprintf("198.51.%d.%d", 100+n/250, 1+n%250)
}

// rq describes one request.
type rq struct {
	method, path string
	body         any // nil: none; string or []byte: raw; else JSON
	ssaid, token string
	ip           string // peer address; default 192.0.2.1
	header       map[string]string
	query        map[string]string
	rawQuery     string
}

// res is a checked envelope answer.
type res struct {
	code    int
	header  http.Header
	raw     []byte
	env     map[string]json.RawMessage
	message string
	data    map[string]any
	list    []map[string]any // data, when it is a list
	hasData bool
}

var tsFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// do serves r and checks the envelope shape of the answer.
func (e *env) do(r rq) *res {
	e.t.Helper()
	return doOn(e.t, e.h, e.prefix, r)
}

func doOn(t testing.TB, h http.Handler, prefix string, r rq) *res {
	t.Helper()
	var body io.Reader
	ct := ""
	switch b := r.body.(type) {
	case nil:
	case string:
		body, ct = strings.NewReader(b), "application/json"
	case []byte:
		body, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body, ct = bytes.NewReader(j), "application/json"
	}
	path := prefix + r.path
	if len(r.query) > 0 {
		q := url.Values{}
		for k, v := range r.query {
			q.Set(k, v)
		}
		path += "?" + q.Encode()
	} else if r.rawQuery != "" {
		path += "?" + r.rawQuery
	}
	req := httptest.NewRequest(r.method, path, body)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if r.ssaid != "" {
		req.Header.Set("x-client-ssaid", r.ssaid)
	}
	if r.token != "" {
		req.Header.Set("x-client-token", r.token)
	}
	for k, v := range r.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if r.ip != "" {
		req.RemoteAddr = r.ip + ":4242"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), r.method+" "+path)
}

// checkEnvelope asserts the envelope contract on one answer.
func checkEnvelope(t testing.TB, code int, h http.Header, body []byte, what string) *res {
	t.Helper()
	out := &res{code: code, header: h, raw: body}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, body %s", what, ct, body)
	}
	if err := json.Unmarshal(body, &out.env); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v: %s", what, err, body)
	}
	var sc int
	var success bool
	var ts string
	if err := json.Unmarshal(out.env["statusCode"], &sc); err != nil || sc != code {
		t.Fatalf("%s: statusCode %s, HTTP %d", what, out.env["statusCode"], code)
	}
	if err := json.Unmarshal(out.env["success"], &success); err != nil || success != (code < 400) {
		t.Fatalf("%s: success %s with status %d", what, out.env["success"], code)
	}
	if err := json.Unmarshal(out.env["message"], &out.message); err != nil || out.message == "" {
		t.Fatalf("%s: message %s", what, out.env["message"])
	}
	if code < 400 && out.message != "success" {
		t.Fatalf("%s: message %q on success", what, out.message)
	}
	if err := json.Unmarshal(out.env["timestamp"], &ts); err != nil || !tsFormat.MatchString(ts) {
		t.Fatalf("%s: timestamp %s", what, out.env["timestamp"])
	}
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Fatalf("%s: timestamp %q: %v", what, ts, err)
	}
	for k := range out.env {
		switch k {
		case "statusCode", "message", "success", "timestamp", "data":
		default:
			t.Fatalf("%s: unexpected envelope key %q", what, k)
		}
	}
	if raw, ok := out.env["data"]; ok {
		out.hasData = true
		if bytes.HasPrefix(raw, []byte("[")) && code < 400 { // a list (GET /user-center/sessions)
			if err := json.Unmarshal(raw, &out.list); err != nil || out.list == nil {
				t.Fatalf("%s: data is not a list of objects: %s", what, raw)
			}
		} else if err := json.Unmarshal(raw, &out.data); err != nil || out.data == nil {
			t.Fatalf("%s: data is not an object: %s", what, raw)
		}
	}
	if code >= 400 {
		if !out.hasData || out.data["code"] == "" || out.data["code"] == nil {
			t.Fatalf("%s: error without data.code: %s", what, body)
		}
	}
	return out
}

// want asserts the status (and, when code != "", data.code).
func (r *res) want(t testing.TB, status int, code string) *res {
	t.Helper()
	if r.code != status {
		t.Fatalf("status %d, want %d: %s", r.code, status, r.raw)
	}
	if code != "" && r.dataCode() != code {
		t.Fatalf("data.code %q, want %q: %s", r.dataCode(), code, r.raw)
	}
	return r
}

func (r *res) dataCode() string { s, _ := r.data["code"].(string); return s }

// str returns data[key] as a string.
func (r *res) str(key string) string { s, _ := r.data[key].(string); return s }

// num returns data[key] as an int64.
func (r *res) num(key string) int64 { f, _ := r.data[key].(float64); return int64(f) }

// noData asserts a success answer without a data field.
func (r *res) noData(t testing.TB) {
	t.Helper()
	if r.hasData {
		t.Fatalf("unexpected data: %s", r.raw)
	}
}

// wait asserts a 429 carrying data.waitTimeMs and Retry-After, and returns the wait.
func (r *res) wait(t testing.TB, code string) time.Duration {
	t.Helper()
	r.want(t, http.StatusTooManyRequests, code)
	ms := r.num("waitTimeMs")
	if ms <= 0 {
		t.Fatalf("429 without a positive data.waitTimeMs: %s", r.raw)
	}
	ra := r.header.Get("Retry-After")
	if ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After: %v", r.header)
	}
	var secs int64
	fmt.Sscan(ra, &secs)
	if secs*1000 < ms || (secs-1)*1000 >= ms {
		t.Fatalf("Retry-After %s does not round up waitTimeMs %d", ra, ms)
	}
	return time.Duration(ms) * time.Millisecond
}

// sendCode sends a code from a throwaway device and address, asserts 200
// and returns the code delivered.
func (e *env) sendCode(email, purpose string) string {
	e.t.Helper()
	e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(fmt.Sprintf("sender%d", e.seq.Add(1))), ip: e.nextIP(),
		body: map[string]any{"email": email, "codePurpose": purpose}}).want(e.t, 200, "").noData(e.t)
	c := e.lastCode(email, purpose)
	if c == "" {
		e.t.Fatal("no code captured")
	}
	return c
}

// login posts a login body from ssaid and asserts 200; it returns token and user id.
func (e *env) login(ssaid string, body map[string]any) (string, int64) {
	e.t.Helper()
	r := e.do(rq{method: "POST", path: "/login", ssaid: ssaid, body: body}).want(e.t, 200, "")
	tok := r.str("token")
	if len(tok) != 64 {
		e.t.Fatalf("token %q", tok)
	}
	id := r.num("userId")
	if id <= 0 {
		e.t.Fatalf("userId %v", r.data["userId"])
	}
	return tok, id
}

// register creates an account for email through ssaid with a Login code
// (and setPassword when pw != ""); it returns the token and user id.
func (e *env) register(ssaid, email, pw string) (string, int64) {
	e.t.Helper()
	code := e.sendCode(email, "Login")
	body := map[string]any{"email": email, "code": code}
	if pw != "" {
		body["setPassword"] = pw
	}
	return e.login(ssaid, body)
}

// me fetches /user-center/me.
func (e *env) me(ssaid, token string) *res {
	e.t.Helper()
	return e.do(rq{method: "GET", path: "/user-center/me", ssaid: ssaid, token: token})
}

// setDisabled flips the disabled flag of user id in the store.
func (e *env) setDisabled(id int64, disabled bool) {
	e.t.Helper()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		u, err := e.svc.Users().Get(ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		u.Disabled = disabled
		if err = e.svc.Users().Update(ctx, u); err == nil {
			return
		} else if !errors.Is(err, user.ErrConflict) {
			e.t.Fatal(err)
		}
	}
	e.t.Fatal("could not update the user")
}
