package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/redisconn"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// secret is the Config.Secret every instance of a test shares, as
// instances sharing a Redis must.
var secret = []byte("integration-test-secret")

// backends is one fresh, migrated PostgreSQL schema and one Redis key prefix,
// shared by the instances of a test, with admin handles for checks.
type backends struct {
	admin  *pgxpool.Pool // testenv's pool on the schema: SQL checks
	schema string
	redis  redisconn.Client // testenv's pool (or cluster client): key checks
	prefix string
	// cluster: the instances' Redis is the Redis Cluster of
	// REDIS_CLUSTER_URL (newClusterBackends).
	cluster bool
}

func newBackends(t *testing.T) *backends {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := &backends{admin: testenv.Postgres(t)}
	if err := postgres.Migrate(ctx, b.admin); err != nil {
		t.Fatalf("postgres.Migrate: %v", err)
	}
	if err := b.admin.QueryRow(ctx, "SELECT current_schema()").Scan(&b.schema); err != nil || b.schema == "" {
		t.Fatalf("current_schema: %q %v", b.schema, err)
	}
	b.redis, b.prefix = testenv.Redis(t)
	return b
}

// newClusterBackends is newBackends with Redis on the Redis Cluster of
// REDIS_CLUSTER_URL.
func newClusterBackends(t *testing.T) *backends {
	t.Helper()
	b := newBackends(t)
	b.redis, b.prefix = testenv.RedisCluster(t)
	b.cluster = true
	return b
}

// realPG is the host:port of the PostgreSQL server of DATABASE_URL.
func realPG(t *testing.T) string {
	t.Helper()
	return pgURL(t).Host
}

// realRedis is the host:port of the Redis server of REDIS_URL.
func realRedis(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	return u.Host
}

func pgURL(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(testenv.DatabaseURL())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Fatalf("DATABASE_URL must be a postgres:// URL with a host for these tests (err %v)", err)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "5432")
	}
	return u
}

// kitPGURL is DATABASE_URL pointed at addr (host:port), on b's schema,
// with extra connection parameters (e.g. connect_timeout).
func (b *backends) kitPGURL(t *testing.T, addr string, params map[string]string) string {
	t.Helper()
	u := pgURL(t)
	u.Host = addr
	q := u.Query()
	q.Set("search_path", b.schema)
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// kitRedisURL is REDIS_URL pointed at addr (host:port).
func kitRedisURL(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	u.Host = addr
	return u.String()
}

// mailbox is the SendCode hook of every instance of a test: it delivers
// random codes and remembers the last one per address and purpose.
type mailbox struct {
	mu    sync.Mutex
	codes map[string]string
	sends atomic.Int64
}

func newMailbox() *mailbox { return &mailbox{codes: map[string]string{}} }

func (m *mailbox) send(_ context.Context, req hooks.SendCodeRequest) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(900000))
	if err != nil {
		return "", err
	}
	code := fmt.Sprint(100000 + n.Int64())
	m.sends.Add(1)
	m.mu.Lock()
	m.codes[user.EmailKey(req.Email)+"/"+req.Purpose] = code
	m.mu.Unlock()
	return code, nil
}

// last is the last code delivered to email for purpose ("" if none).
func (m *mailbox) last(email, purpose string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.codes[user.EmailKey(email)+"/"+purpose]
}

// instOpts says where an instance finds its backends and how patient it is.
type instOpts struct {
	pgAddr    string            // default: the real server
	pgParams  map[string]string // extra PostgreSQL URL parameters
	redisAddr string            // default: the real server
	redis     redisconn.Options // URL is filled in
	config    func(*simpleuser.Config)
}

// instance is one service with its handler behind an HTTP server, on pools
// of its own, as a separate process would be.
type instance struct {
	name string
	svc  *simpleuser.Service
	srv  *httptest.Server
	pg   *pgxpool.Pool
	rp   *redis.Pool      // the instance's Redis pool; nil on a cluster
	rc   redisconn.Client // rp, or the instance's cluster client
}

// trusted lets the tests choose the client address with X-Forwarded-For,
// as a load balancer in front of the instances would report it.
var trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}

func (b *backends) newInstance(t *testing.T, name string, mb *mailbox, o instOpts) *instance {
	t.Helper()
	if o.pgAddr == "" {
		o.pgAddr = realPG(t)
	}
	if o.redisAddr == "" {
		o.redisAddr = realRedis(t)
	}
	pg, err := postgres.Open(context.Background(), b.kitPGURL(t, o.pgAddr, o.pgParams))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(pg.Close)
	o.redis.URL = kitRedisURL(t, o.redisAddr)
	if b.cluster {
		o.redis.URL = testenv.RedisClusterURL()
	}
	rc, err := redisconn.New(o.redis)
	if err != nil {
		t.Fatalf("redisconn.New: %v", err)
	}
	t.Cleanup(func() { rc.Close() })
	rp, _ := rc.(*redis.Pool)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	users := postgres.New(pg)
	users.QueryTimeout = time.Second // like the 1 s connect and Redis timeouts: keep failure tests short
	cfg := simpleuser.Config{
		Users:  users,
		Codes:  coderedis.New(rc, b.prefix),
		Risk:   riskredis.New(rc, b.prefix),
		Hooks:  hooks.Hooks{SendCode: mb.send},
		Secret: secret,
		Argon2: password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger: logger,
	}
	cfg.SessionStore, cfg.SessionIndex = sessionredis.New(rc, b.prefix)
	if o.config != nil {
		o.config(&cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatalf("simpleuser.New: %v", err)
	}
	srv := httptest.NewServer(handlers.New(svc, handlers.Options{Logger: logger, TrustedProxies: trusted}))
	t.Cleanup(srv.Close)
	return &instance{name: name, svc: svc, srv: srv, pg: pg, rp: rp, rc: rc}
}

// client is the HTTP client of the tests; its timeout only keeps a hung
// request from hanging the test binary (the tests assert much tighter bounds).
var client = &http.Client{Timeout: 20 * time.Second}

// rq is one request to an instance.
type rq struct {
	method, path string
	ssaid, token string
	ip           string // sent as X-Forwarded-For; default: none (127.0.0.1)
	body         any    // JSON-encoded when not nil
	query        map[string]string
}

// reply is a checked envelope answer.
type reply struct {
	status  int
	header  http.Header
	raw     []byte
	message string
	data    map[string]any
	elapsed time.Duration
}

func (r *reply) str(k string) string { s, _ := r.data[k].(string); return s }
func (r *reply) num(k string) int64  { f, _ := r.data[k].(float64); return int64(f) }
func (r *reply) code() string        { return r.str("code") }

func (r *reply) String() string {
	return fmt.Sprintf("%d %s (%v)", r.status, r.raw, r.elapsed.Round(time.Millisecond))
}

// send serves r on in and checks the envelope; it is safe to call from
// any goroutine (it returns errors instead of failing the test).
func (in *instance) send(r rq) (*reply, error) {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	u := in.srv.URL + "/api" + r.path
	if len(r.query) > 0 {
		q := url.Values{}
		for k, v := range r.query {
			q.Set(k, v)
		}
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(r.method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.ssaid != "" {
		req.Header.Set("x-client-ssaid", r.ssaid)
	}
	if r.token != "" {
		req.Header.Set("x-client-token", r.token)
	}
	if r.ip != "" {
		req.Header.Set("X-Forwarded-For", r.ip)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w (after %v)", r.method, r.path, in.name, err, time.Since(start))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	out := &reply{status: resp.StatusCode, header: resp.Header, raw: raw, elapsed: time.Since(start)}
	if err != nil {
		return out, fmt.Errorf("%s %s on %s: reading the body: %w", r.method, r.path, in.name, err)
	}
	if err := out.check(); err != nil {
		return out, fmt.Errorf("%s %s on %s: %w: %s", r.method, r.path, in.name, err, raw)
	}
	return out, nil
}

// check asserts the envelope contract and fills message and data.
func (r *reply) check() error {
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var env struct {
		StatusCode int             `json:"statusCode"`
		Message    string          `json:"message"`
		Success    *bool           `json:"success"`
		Timestamp  string          `json:"timestamp"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.raw, &env); err != nil {
		return fmt.Errorf("not an envelope: %v", err)
	}
	if env.StatusCode != r.status || env.Success == nil || *env.Success != (r.status < 400) || env.Message == "" {
		return fmt.Errorf("envelope does not match HTTP %d", r.status)
	}
	if _, err := time.Parse(time.RFC3339, env.Timestamp); err != nil {
		return fmt.Errorf("timestamp %q", env.Timestamp)
	}
	r.message = env.Message
	if len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, &r.data); err != nil {
			return fmt.Errorf("data is not an object")
		}
	}
	if r.status >= 400 && r.code() == "" {
		return fmt.Errorf("error without data.code")
	}
	return nil
}

// do is send that fails the test on a transport or envelope error.
func (in *instance) do(t *testing.T, r rq) *reply {
	t.Helper()
	out, err := in.send(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// want asserts the status and (when code != "") data.code.
func (r *reply) want(t *testing.T, status int, code string) *reply {
	t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		t.Fatalf("got %v, want %d %s", r, status, code)
	}
	return r
}

// uniq makes names unique to one test run.
func uniq() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// seq hands out client addresses and device ids, so that the per-IP and
// per-ssaid cooldowns of one helper call never collide with another's.
var seq atomic.Int64

func nextIP() string {
	n := seq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&0xff, (n>>8)&0xff, n&0xff)
}

func nextSSAID(prefix string) string { return fmt.Sprintf("%s-%s-%d", prefix, uniq(), seq.Add(1)) }

// sendCode sends a code to email for purpose through in, from a fresh
// device and address, asserts 200 and returns the code delivered.
func (in *instance) sendCode(t *testing.T, mb *mailbox, email, purpose string) string {
	t.Helper()
	in.do(t, rq{method: "POST", path: "/send-code/send", ssaid: nextSSAID("sender"), ip: nextIP(),
		body: map[string]any{"email": email, "codePurpose": purpose}}).want(t, 200, "")
	c := mb.last(email, purpose)
	if c == "" {
		t.Fatalf("no code delivered to %s for %s", email, purpose)
	}
	return c
}

// login posts body from ssaid, asserts 200 and returns the token and user id.
func (in *instance) login(t *testing.T, ssaid string, body map[string]any) (string, int64) {
	t.Helper()
	r := in.do(t, rq{method: "POST", path: "/login", ssaid: ssaid, ip: nextIP(), body: body}).want(t, 200, "")
	tok, id := r.str("token"), r.num("userId")
	if len(tok) != 64 || id <= 0 {
		t.Fatalf("login answer %v", r)
	}
	return tok, id
}

// register creates the account of email by a Login code sent through in
// (with password pw when not empty) and returns its token and id.
func (in *instance) register(t *testing.T, mb *mailbox, ssaid, email, pw string) (string, int64) {
	t.Helper()
	body := map[string]any{"email": email, "code": in.sendCode(t, mb, email, "Login")}
	if pw != "" {
		body["setPassword"] = pw
	}
	return in.login(t, ssaid, body)
}

// me fetches /user-center/me.
func (in *instance) me(t *testing.T, ssaid, token string) *reply {
	t.Helper()
	return in.do(t, rq{method: "GET", path: "/user-center/me", ssaid: ssaid, token: token})
}

// sqlCount runs a count(*) query on the test's schema.
func (b *backends) sqlCount(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	if err := b.admin.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// redisKeys counts the test's Redis keys under prefix + sub.
func (b *backends) redisKeys(t *testing.T, sub string) int {
	t.Helper()
	keys, err := testenv.RedisKeys(b.redis, b.prefix+sub)
	if err != nil {
		t.Fatalf("SCAN %s%s*: %v", b.prefix, sub, err)
	}
	return len(keys)
}

// parallel runs f(i) for i in [0, n) at once and returns the answers; a
// transport or envelope error fails the test.
func parallel(t *testing.T, n int, f func(i int) (*reply, error)) []*reply {
	t.Helper()
	out := make([]*reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func statuses(rs []*reply) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}
