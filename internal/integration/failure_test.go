package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/user"
)

// maxWait bounds every request while a backend is down or silent.
const maxWait = 10 * time.Second

// The client timeouts of the instances under failure: short, as a
// deployment would configure them, so that the tests stay quick. (The kit's
// defaults are 3 s for PostgreSQL's connect_timeout and 2 s for Redis.)
var (
	pgParams   = map[string]string{"connect_timeout": "1"}
	redisShort = redisconn.Options{DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second}
)

// proxied is one instance whose PostgreSQL and Redis connections go through
// proxies the test can stop, restart or freeze.
type proxied struct {
	*backends
	mb       *mailbox
	pgp, rdp *testenv.Proxy
	in       *instance
	id       string
}

func newProxied(t *testing.T) *proxied {
	t.Helper()
	be := newBackends(t)
	p := &proxied{backends: be, mb: newMailbox(), id: uniq(),
		pgp: testenv.NewProxy(t, realPG(t)), rdp: testenv.NewProxy(t, realRedis(t))}
	p.in = be.newInstance(t, "proxied", p.mb, instOpts{
		pgAddr: p.pgp.Addr(), pgParams: pgParams,
		redisAddr: p.rdp.Addr(), redis: redisShort,
	})
	return p
}

func (p *proxied) email(name string) string { return name + "-" + p.id + "@example.com" }

// fixture is the state the outage tests need, made while both backends are
// up: a registered user U with a password and several sessions, an
// existing user V without one, codes for every code-taking endpoint, and an
// anonymous user.
type fixture struct {
	eU, eV, eNew, eChange       string
	pw                          string
	idU, idV, idAnon            int64
	tokMe, tokCP, tokCE, tokUnr string
	tokLogout                   string
	codeV, codeNew, codeReset   string
	codeUnreg, codeChange       string
	devU, devAnon               string
}

func (p *proxied) prepare(t *testing.T) *fixture {
	t.Helper()
	return prepare(t, p.in, p.mb)
}

// prepare makes a fixture through in (both backends up).
func prepare(t *testing.T, in *instance, mb *mailbox) *fixture {
	t.Helper()
	id := uniq()
	email := func(name string) string { return name + "-" + id + "@example.com" }
	f := &fixture{
		eU: email("u"), eV: email("v"), eNew: email("new"), eChange: email("changed"),
		pw: "password-one", devU: nextSSAID("dev-u"), devAnon: nextSSAID("dev-anon"),
	}
	var tok string
	tok, f.idU = in.register(t, mb, f.devU, f.eU, f.pw)
	f.tokMe = tok
	for _, dst := range []*string{&f.tokCP, &f.tokCE, &f.tokUnr, &f.tokLogout} {
		var id int64
		*dst, id = in.login(t, f.devU, map[string]any{"email": f.eU, "password": f.pw})
		if id != f.idU {
			t.Fatalf("password login: user %d, want %d", id, f.idU)
		}
	}
	v := &user.User{Email: f.eV}
	if err := in.svc.Users().Create(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	f.idV = v.ID
	f.codeV = in.sendCode(t, mb, f.eV, "Login")
	f.codeNew = in.sendCode(t, mb, f.eNew, "Login")
	f.codeReset = in.sendCode(t, mb, f.eU, "ResetPassword")
	f.codeUnreg = in.sendCode(t, mb, f.eU, "Unregister")
	f.codeChange = in.sendCode(t, mb, f.eChange, "ChangeEmail")
	f.idAnon = in.me(t, f.devAnon, "").want(t, 200, "").num("id")
	return f
}

// probe is one request made while a backend is down, and what it must get.
type probe struct {
	name string
	r    rq
	want int    // the status; 503 also asserts the message names the backend
	why  string // for a status other than 503: why it is honest
}

// probes is one request to every endpoint of SPEC §4 (and a few inputs
// rejected before any backend is asked). down is "postgres" or "redis";
// the wants differ where an endpoint needs only the other backend.
func (f *fixture) probes(down string) []probe {
	pg := down == "postgres"
	either := func(ifPG, ifRedis int) int {
		if pg {
			return ifPG
		}
		return ifRedis
	}
	fresh := nextSSAID("fresh")
	return []probe{
		{name: "send-code", r: rq{method: "POST", path: "/send-code/send", ssaid: nextSSAID("s"), ip: nextIP(),
			body: map[string]any{"email": "outage-" + uniq() + "@example.com", "codePurpose": "Login"}},
			want: either(200, 503), why: "codes and cooldowns live in Redis only"},
		{name: "verify", r: rq{method: "GET", path: "/send-code/verify",
			query: map[string]string{"email": f.eNew, "codePurpose": "Login", "code": f.codeNew}},
			want: either(200, 503), why: "codes and attempt counters live in Redis only"},
		{name: "user-exists", r: rq{method: "GET", path: "/login/user-exists", query: map[string]string{"email": f.eU}},
			want: either(503, 200), why: "a PostgreSQL read only"},
		{name: "login by code, existing user", r: rq{method: "POST", path: "/login", ssaid: nextSSAID("l"), ip: nextIP(),
			body: map[string]any{"email": f.eV, "code": f.codeV}}, want: 503},
		{name: "login by code, new user", r: rq{method: "POST", path: "/login", ssaid: nextSSAID("l"), ip: nextIP(),
			body: map[string]any{"email": f.eNew, "code": f.codeNew}}, want: 503},
		{name: "login by password", r: rq{method: "POST", path: "/login", ssaid: nextSSAID("l"), ip: nextIP(),
			body: map[string]any{"email": f.eU, "password": f.pw}}, want: 503},
		{name: "login by password, unknown email", r: rq{method: "POST", path: "/login", ssaid: nextSSAID("l"), ip: nextIP(),
			body: map[string]any{"email": "nobody-" + uniq() + "@example.com", "password": f.pw}},
			want: either(503, 404), why: "a PostgreSQL read says there is no such account; no password is checked"},
		{name: "reset-password", r: rq{method: "POST", path: "/login/reset-password",
			body: map[string]any{"email": f.eU, "code": f.codeReset, "newPassword": "password-two"}}, want: 503},
		{name: "unregister-with-code", r: rq{method: "POST", path: "/login/unregister-with-code",
			body: map[string]any{"email": f.eU, "code": f.codeUnreg}}, want: 503},
		{name: "me without token", r: rq{method: "GET", path: "/user-center/me", ssaid: fresh}, want: 503,
			why: "a new anonymous user is a PostgreSQL row, created within the address's budget, which lives in Redis"},
		{name: "me without token, known device", r: rq{method: "GET", path: "/user-center/me", ssaid: f.devAnon},
			want: either(503, 200), why: "an existing anonymous user is a PostgreSQL read; no session or budget is involved"},
		{name: "me with token", r: rq{method: "GET", path: "/user-center/me", ssaid: f.devU, token: f.tokMe}, want: 503},
		{name: "change-password", r: rq{method: "POST", path: "/user-center/change-password", ssaid: f.devU, token: f.tokCP,
			body: map[string]any{"newPassword": "password-two", "currentPassword": f.pw}}, want: 503},
		{name: "change-email", r: rq{method: "POST", path: "/user-center/change-email", ssaid: f.devU, token: f.tokCE,
			body: map[string]any{"email": f.eChange, "code": f.codeChange}}, want: 503},
		{name: "unregister", r: rq{method: "POST", path: "/user-center/unregister", ssaid: f.devU, token: f.tokUnr}, want: 503},
		{name: "unregister, anonymous", r: rq{method: "POST", path: "/user-center/unregister", ssaid: f.devAnon}, want: 503},
		{name: "logout", r: rq{method: "POST", path: "/user-center/logout", ssaid: f.devU, token: f.tokLogout},
			want: either(200, 503), why: "sessions live in Redis only"},
		{name: "sessions", r: rq{method: "GET", path: "/user-center/sessions", token: f.tokMe}, want: 503},
		{name: "end a session", r: rq{method: "DELETE", path: "/user-center/sessions/" + strings.Repeat("A", 22), token: f.tokMe}, want: 503},
		{name: "logout-all", r: rq{method: "POST", path: "/user-center/logout-all", token: f.tokMe}, want: 503},

		// Rejected before any backend is asked.
		{name: "send-code, invalid email", r: rq{method: "POST", path: "/send-code/send", ssaid: nextSSAID("s"),
			body: map[string]any{"email": "nope", "codePurpose": "Login"}}, want: 400, why: "input validation"},
		{name: "login, neither code nor password", r: rq{method: "POST", path: "/login", ssaid: nextSSAID("s"),
			body: map[string]any{"email": f.eU}}, want: 400, why: "input validation"},
		{name: "me, no ssaid", r: rq{method: "GET", path: "/user-center/me"}, want: 400, why: "missing x-client-ssaid"},
		{name: "logout, no token", r: rq{method: "POST", path: "/user-center/logout", ssaid: nextSSAID("s")}, want: 401, why: "no token to revoke"},
		{name: "change-password, malformed token", r: rq{method: "POST", path: "/user-center/change-password", ssaid: nextSSAID("s"), token: "short",
			body: map[string]any{"newPassword": "password-two"}}, want: 401, why: "a token of the wrong length is rejected unread"},
	}
}

// runProbes makes every probe and asserts its status, its envelope, the
// backend named in 503 messages and the time bound.
func runProbes(t *testing.T, in *instance, down string, probes []probe) {
	t.Helper()
	for _, pr := range probes {
		r, err := in.send(pr.r)
		if err != nil {
			t.Errorf("%s: %v", pr.name, err)
			continue
		}
		if r.elapsed >= maxWait {
			t.Errorf("%s: answered after %v, want < %v", pr.name, r.elapsed, maxWait)
		}
		if r.status != pr.want {
			t.Errorf("%s with %s down: got %v, want %d (%s)", pr.name, down, r, pr.want, pr.why)
			continue
		}
		if r.status == 503 {
			if r.code() != "BACKEND_UNAVAILABLE" || !strings.Contains(r.message, down) ||
				r.header.Get("Retry-After") == "" || r.num("waitTimeMs") <= 0 {
				t.Errorf("%s: 503 answer %v (Retry-After %q) does not name %s with a wait", pr.name, r, r.header.Get("Retry-After"), down)
			}
		}
		t.Logf("%-36s %d %-40q %v", pr.name, r.status, r.message, r.elapsed.Round(100*time.Microsecond))
	}
}

// fullFlow runs send → login → me on in and asserts 200s.
func (p *proxied) fullFlow(t *testing.T) {
	t.Helper()
	email, dev := p.email("after-"+uniq()), nextSSAID("after")
	tok, id := p.in.register(t, p.mb, dev, email, "")
	if got := p.in.me(t, dev, tok).want(t, 200, "").num("id"); got != id {
		t.Fatalf("/me: user %d, want %d", got, id)
	}
}

func TestPostgresDown(t *testing.T) {
	p := newProxied(t)
	f := p.prepare(t)
	sessions := p.redisKeys(t, "session:")
	rows := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users")
	sends := p.mb.sends.Load()

	p.pgp.Stop()
	runProbes(t, p.in, "postgres", f.probes("postgres"))

	// Nothing was half-written: the failed logins made no session (the one
	// logout, which needs no PostgreSQL, removed one).
	if n := p.redisKeys(t, "session:"); n != sessions-1 {
		t.Errorf("%d session bodies after the outage, want %d (one logout, no login)", n, sessions-1)
	}
	if n := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users"); n != rows {
		t.Errorf("%d users after the outage, want %d", n, rows)
	}
	if n := p.mb.sends.Load(); n != sends+1 {
		t.Errorf("SendCode ran %d times during the outage, want 1 (send-code needs no PostgreSQL)", n-sends)
	}

	p.pgp.Start()
	in := p.in
	// The same instance serves again, and the failed requests changed nothing.
	p.fullFlow(t)
	in.me(t, f.devU, f.tokMe).want(t, 200, "")
	in.me(t, f.devU, f.tokUnr).want(t, 200, "") // unregister did not happen
	in.me(t, f.devU, f.tokLogout).want(t, 401, "INVALID_TOKEN")
	if got := in.me(t, f.devAnon, "").want(t, 200, "").num("id"); got != f.idAnon {
		t.Errorf("anonymous user %d after the outage, want %d", got, f.idAnon)
	}
	// The codes presented during the outage were not consumed: the login
	// endpoints read the account before touching the code.
	if _, id := in.login(t, nextSSAID("l"), map[string]any{"email": f.eV, "code": f.codeV}); id != f.idV {
		t.Errorf("login of V: user %d, want %d", id, f.idV)
	}
	in.login(t, nextSSAID("l"), map[string]any{"email": f.eNew, "code": f.codeNew})
	in.do(t, rq{method: "POST", path: "/user-center/change-email", ssaid: f.devU, token: f.tokCE,
		body: map[string]any{"email": f.eChange, "code": f.codeChange}}).want(t, 200, "")
	// The password did not change.
	in.login(t, nextSSAID("l"), map[string]any{"email": f.eChange, "password": f.pw})

	// Codes of reset-password and unregister-with-code: see
	// TestCodeKeptWhenPostgresFails.
}

// TestCodeKeptWhenPostgresFails: a code-taking endpoint that fails with 503
// must leave its code usable, as login and change-email do (they read the
// account before consuming the code), so that the user can retry once
// PostgreSQL is back without asking for a new code and waiting out the send
// cooldown.
func TestCodeKeptWhenPostgresFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(f *fixture) map[string]any
		path string
	}{
		{"reset-password", func(f *fixture) map[string]any {
			return map[string]any{"email": f.eU, "code": f.codeReset, "newPassword": "password-two"}
		}, "/login/reset-password"},
		{"unregister-with-code", func(f *fixture) map[string]any {
			return map[string]any{"email": f.eU, "code": f.codeUnreg}
		}, "/login/unregister-with-code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxied(t)
			f := p.prepare(t)
			p.pgp.Stop()
			p.in.do(t, rq{method: "POST", path: tc.path, body: tc.body(f)}).want(t, 503, "BACKEND_UNAVAILABLE")
			p.pgp.Start()
			p.in.do(t, rq{method: "POST", path: tc.path, body: tc.body(f)}).want(t, 200, "")
		})
	}
}

func TestRedisDown(t *testing.T) {
	p := newProxied(t)
	f := p.prepare(t)
	codes := p.redisKeys(t, "code:")
	sends := p.mb.sends.Load()
	rows := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users")

	p.rdp.Stop()
	probes := f.probes("redis")
	runProbes(t, p.in, "redis", probes)
	if n := p.mb.sends.Load(); n != sends {
		t.Errorf("SendCode ran %d times while Redis was down: a code went out that was never stored", n-sends)
	}
	// No new row: the anonymous user of "me without token" needs the
	// address's budget, kept in Redis (fail closed); the anonymous
	// unregister rolled back.
	if n := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users"); n != rows {
		t.Errorf("%d users after the outage, want %d", n, rows)
	}
	if n := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users WHERE id = $1", f.idAnon); n != 1 {
		t.Error("the anonymous user was deleted by an unregister that answered 503")
	}
	if n := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users WHERE id = $1 AND unregister_time IS NULL", f.idU); n != 1 {
		t.Error("U was unregistered by a request that answered 503")
	}

	p.rdp.Start()
	in := p.in
	if n := p.redisKeys(t, "code:"); n != codes {
		t.Errorf("%d codes stored after the outage, want %d (the failed send stored none)", n, codes)
	}
	p.fullFlow(t)
	// Every session survived: logout, logout-all, unregister and change-password failed.
	for _, tok := range []string{f.tokMe, f.tokCP, f.tokCE, f.tokUnr, f.tokLogout} {
		in.me(t, f.devU, tok).want(t, 200, "")
	}
	if got := in.me(t, f.devAnon, "").want(t, 200, "").num("id"); got != f.idAnon {
		t.Errorf("anonymous user %d after the outage, want %d", got, f.idAnon)
	}
	// No code was consumed (the attempt counter is taken first, and failed)
	// and the password did not change.
	in.login(t, nextSSAID("l"), map[string]any{"email": f.eU, "password": f.pw})
	if _, id := in.login(t, nextSSAID("l"), map[string]any{"email": f.eV, "code": f.codeV}); id != f.idV {
		t.Errorf("login of V: user %d, want %d", id, f.idV)
	}
	in.login(t, nextSSAID("l"), map[string]any{"email": f.eNew, "code": f.codeNew})
	in.do(t, rq{method: "POST", path: "/login/reset-password",
		body: map[string]any{"email": f.eU, "code": f.codeReset, "newPassword": "password-two"}}).want(t, 200, "")
	in.login(t, nextSSAID("l"), map[string]any{"email": f.eU, "password": "password-two"})
	in.do(t, rq{method: "POST", path: "/login/unregister-with-code",
		body: map[string]any{"email": f.eU, "code": f.codeUnreg}}).want(t, 200, "")
	if n := p.sqlCount(t, "SELECT count(*) FROM simpleuser_users WHERE id = $1 AND unregister_time IS NOT NULL", f.idU); n != 1 {
		t.Error("unregister-with-code after the outage did not unregister U")
	}
	// change-email's code, checked last (the reset revoked tokCE).
	tok, _ := in.login(t, f.devU, map[string]any{"email": f.eU, "password": "password-two"}) // recovers U
	in.do(t, rq{method: "POST", path: "/user-center/change-email", ssaid: f.devU, token: tok,
		body: map[string]any{"email": f.eChange, "code": f.codeChange}}).want(t, 200, "")
}

// TestSilentBackends: a server that accepts connections and never answers
// (a hung host, a black-holing firewall) costs a bounded wait, then a 503
// naming the backend. The silent instance shares its schema and Redis
// prefix with a healthy one that made the fixture, so its tokens and codes
// are real.
func TestSilentBackends(t *testing.T) {
	t.Parallel()
	for _, down := range []string{"postgres", "redis"} {
		t.Run(down, func(t *testing.T) {
			t.Parallel()
			be := newBackends(t)
			mb := newMailbox()
			f := prepare(t, be.newInstance(t, "healthy", mb, instOpts{}), mb)
			o := instOpts{pgParams: pgParams, redis: redisShort}
			if down == "postgres" {
				o.pgAddr = testenv.Blackhole(t)
			} else {
				o.redisAddr = testenv.Blackhole(t)
			}
			runProbes(t, be.newInstance(t, "silent-"+down, mb, o), down, f.probes(down))
		})
	}
}

// TestPartitionedBackends: the network to a backend goes silent (the proxy
// stops forwarding without closing anything), as in a partition or when
// the server host hangs.
func TestPartitionedBackends(t *testing.T) {
	t.Parallel()
	only503 := func(f *fixture, down string) []probe {
		var out []probe
		for _, pr := range f.probes(down) {
			if pr.want == 503 {
				out = append(out, pr)
			}
		}
		return out
	}
	// Redis: pooled connections fail within the read timeout, new ones
	// within the dial timeout.
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		p := newProxied(t)
		f := p.prepare(t) // the pool now holds live connections
		p.rdp.Freeze()
		runProbes(t, p.in, "redis", only503(f, "redis"))
		p.rdp.Thaw()
		p.fullFlow(t)
	})
	// PostgreSQL, new connections: each fails within connect_timeout.
	t.Run("postgres, new connections", func(t *testing.T) {
		t.Parallel()
		p := newProxied(t)
		f := p.prepare(t)
		p.pgp.Freeze()
		p.in.pg.Reset() // no established connection: every request dials
		runProbes(t, p.in, "postgres", only503(f, "postgres"))
		p.pgp.Thaw()
		p.fullFlow(t)
	})
	// PostgreSQL, established connections: a query on a pooled connection
	// that goes silent has no read timeout in pgx; the store's QueryTimeout
	// bounds it (503 instead of a hang).
	t.Run("postgres, established connections", func(t *testing.T) {
		t.Parallel()
		p := newProxied(t)
		f := p.prepare(t)
		p.pgp.Freeze()
		runProbes(t, p.in, "postgres", only503(f, "postgres")[:2])
		p.pgp.Thaw()
		p.fullFlow(t)
	})
}
