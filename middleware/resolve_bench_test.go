package middleware_test

// Benchmarks of the request identity path: Identity alone, then the full
// resolve path of the example app's hot endpoints (Recover, Identity, a
// Require* guard, the lookup, the envelope), on in-memory stores (the
// kit's own CPU cost) and on Redis + PostgreSQL (with the round trips).
//
//	go test -run '^$' -bench . -benchmem ./middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// benchWriter is a ResponseWriter that keeps nothing, reused across
// iterations so the benchmark measures the middleware, not a recorder.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) reset()                      { clear(w.h); w.code = 200 }

func benchService(b *testing.B, mod func(*simpleuser.Config)) *simpleuser.Service {
	b.Helper()
	cfg := simpleuser.Config{Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) {
		return "000000", nil
	}}}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// benchToken issues a session for a fresh registered user.
func benchToken(b *testing.B, svc *simpleuser.Service) string {
	b.Helper()
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bench@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := svc.Sessions().Create(ctx, session.Data{UserID: u.ID, IP: "127.0.0.1", UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// benchWhoami and benchMe are the example app's hot handlers in miniature.
func benchWhoami(w http.ResponseWriter, r *http.Request) {
	d, err := simpleuser.CurrentSession(r.Context())
	if err != nil {
		envelope.Error(w, r, nil, err)
		return
	}
	envelope.OK(w, map[string]any{"userId": d.UserID})
}

func benchMe(w http.ResponseWriter, r *http.Request) {
	u, err := simpleuser.CurrentUser(r.Context())
	if err != nil {
		envelope.Error(w, r, nil, err)
		return
	}
	envelope.OK(w, map[string]any{"id": u.ID, "email": u.Email, "registered": u.Registered()})
}

func benchChain(svc *simpleuser.Service, guard func(http.Handler) http.Handler, h http.HandlerFunc) http.Handler {
	return middleware.Recover(nil)(middleware.Identity(svc, middleware.Options{})(guard(h)))
}

func benchServe(b *testing.B, h http.Handler, hdr map[string]string) {
	b.Helper()
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.RemoteAddr = "203.0.113.7:41000"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := &benchWriter{h: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(w, r)
	if w.code != http.StatusOK {
		b.Fatalf("status %d", w.code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.code != http.StatusOK {
		b.Fatalf("status %d", w.code)
	}
}

// browserChain is benchChain as the JSON API mounts it in cookie mode with
// trusted origins: Recover, CORS, Identity, CSRF, the guard.
func browserChain(svc *simpleuser.Service, guard func(http.Handler) http.Handler, h http.HandlerFunc) http.Handler {
	return middleware.Recover(nil)(middleware.CORS(svc)(middleware.Identity(svc, middleware.Options{})(middleware.CSRF(svc)(guard(h)))))
}

// browserConfig is cookie mode with one trusted origin.
func browserConfig(c *simpleuser.Config) {
	c.Browser = simpleuser.BrowserConfig{CookieMode: true, InsecureCookies: true, TrustedOrigins: []string{"https://app.example"}}
}

// cookieHeaders are a trusted origin's credentialed fetch of /me.
func cookieHeaders(tok string) map[string]string {
	return map[string]string{"Cookie": "simpleuser_session=" + tok + "; simpleuser_device=device-1",
		"Origin": "https://app.example", "Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}
}

// BenchmarkResolveCookie is BenchmarkResolveMemory's user-token path with
// cookie mode, CORS and CSRF mounted: by header (what mounting costs a
// header client) and by cookie from a trusted origin (CORS acting).
func BenchmarkResolveCookie(b *testing.B) {
	b.Run("user-token-header", func(b *testing.B) {
		svc := benchService(b, browserConfig)
		tok := benchToken(b, svc)
		benchServe(b, browserChain(svc, middleware.RequireUser, benchMe), map[string]string{middleware.HeaderToken: tok, middleware.HeaderSSAID: "device-1"})
	})
	b.Run("user-cookie", func(b *testing.B) {
		svc := benchService(b, browserConfig)
		tok := benchToken(b, svc)
		benchServe(b, browserChain(svc, middleware.RequireUser, benchMe), cookieHeaders(tok))
	})
}

// BenchmarkIdentity is Identity alone: headers, client address, context.
func BenchmarkIdentity(b *testing.B) {
	svc := benchService(b, nil)
	h := middleware.Identity(svc, middleware.Options{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	benchServe(b, h, map[string]string{middleware.HeaderSSAID: "device-1", middleware.HeaderToken: "t"})
}

// BenchmarkResolveMemory is the resolve path on in-memory stores.
func BenchmarkResolveMemory(b *testing.B) {
	b.Run("session", func(b *testing.B) {
		svc := benchService(b, nil)
		tok := benchToken(b, svc)
		benchServe(b, benchChain(svc, middleware.RequireSession, benchWhoami), map[string]string{middleware.HeaderToken: tok})
	})
	b.Run("user-token", func(b *testing.B) {
		svc := benchService(b, nil)
		tok := benchToken(b, svc)
		benchServe(b, benchChain(svc, middleware.RequireUser, benchMe), map[string]string{middleware.HeaderToken: tok, middleware.HeaderSSAID: "device-1"})
	})
	b.Run("user-anonymous", func(b *testing.B) {
		svc := benchService(b, nil)
		benchServe(b, benchChain(svc, middleware.RequireUser, benchMe), map[string]string{middleware.HeaderSSAID: "device-1"})
	})
}

// BenchmarkResolveBackends is the resolve path on Redis (sessions) and
// PostgreSQL (users): what one request of the example app costs, round
// trips included, with no concurrency.
func BenchmarkResolveBackends(b *testing.B) {
	backends := func(b *testing.B) func(*simpleuser.Config) {
		pool, prefix := testenv.Redis(b)
		pg := testenv.Postgres(b)
		if err := postgres.Migrate(context.Background(), pg); err != nil {
			b.Fatal(err)
		}
		return func(c *simpleuser.Config) {
			c.Users = postgres.New(pg)
			c.SessionStore, c.SessionIndex = sessionredis.New(pool, prefix)
		}
	}
	b.Run("session", func(b *testing.B) {
		svc := benchService(b, backends(b))
		tok := benchToken(b, svc)
		benchServe(b, benchChain(svc, middleware.RequireSession, benchWhoami), map[string]string{middleware.HeaderToken: tok})
	})
	b.Run("user-token", func(b *testing.B) {
		svc := benchService(b, backends(b))
		tok := benchToken(b, svc)
		benchServe(b, benchChain(svc, middleware.RequireUser, benchMe), map[string]string{middleware.HeaderToken: tok, middleware.HeaderSSAID: "device-1"})
	})
	b.Run("user-anonymous", func(b *testing.B) {
		svc := benchService(b, backends(b))
		benchServe(b, benchChain(svc, middleware.RequireUser, benchMe), map[string]string{middleware.HeaderSSAID: "device-1"})
	})
}
