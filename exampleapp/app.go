package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/exampleapp/web"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/middleware"
)

// app is the wired example server.
type app struct {
	Service  *simpleuser.Service
	Handler  http.Handler
	Backends string
	appUsers appUsers
	closers  []func()
}

// Close releases the backend connections.
func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// newApp builds the service and the HTTP handler. Codes are mailed through
// s.mail.smtpURL, or without it written to codeOut (the development
// sender: never do this in production).
func newApp(ctx context.Context, s settings, log *slog.Logger, codeOut io.Writer) (*app, error) {
	trusted, err := middleware.ParseTrustedProxies(s.trustedProxies)
	if err != nil {
		return nil, fmt.Errorf("-trusted-proxies: %w", err)
	}
	if s.fixedCode != "" {
		log.Warn("every code is the fixed value from -fixed-code: for tests only, never in production")
	}
	send, err := codeSender(s, log, codeOut)
	if err != nil {
		return nil, err
	}
	a := &app{Backends: "memory"}
	cfg := simpleuser.Config{
		Logger:           log,
		DisableAnonymous: !s.allowAnonymous,
		Hooks:            hooks.Hooks{SendCode: send},
		Now:              s.now,
	}
	if err := configureBrowser(s, &cfg); err != nil {
		return nil, err
	}
	metricsHandler, err := configureMetrics(s.metrics, log, &cfg)
	if err != nil {
		return nil, err
	}
	if err := configureFactors(s, &cfg, log); err != nil {
		return nil, err
	}
	if err := a.configureBackends(ctx, s, log, &cfg); err != nil {
		a.Close()
		return nil, err
	}
	appHooks(&cfg.Hooks, a.appUsers, func() *simpleuser.Service { return a.Service })
	links, err := configureProviders(ctx, s.providers, &cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Service = svc

	api := handlers.New(svc, handlers.Options{Prefix: "/api", TrustedProxies: trusted, Logger: log})
	mux := http.NewServeMux()
	mux.Handle("GET /app/whoami", middleware.RequireSession(http.HandlerFunc(whoami)))
	mux.Handle("GET /app/reports", middleware.RequirePermission(reportsPermission)(http.HandlerFunc(reports)))
	// The page: sign-in, sign-up and the account, on the service's Go API.
	mux.Handle("/", web.New(svc, web.Options{Providers: links, APIPrefix: "/api", Logger: log,
		SignUpFields: []web.Field{{Name: "nickname", Label: "Nickname"}}}))
	mux.Handle("GET /healthz", handlers.Healthz())
	mux.Handle("GET /readyz", handlers.Readyz(svc, handlers.ReadyOptions{Logger: log}))
	if metricsHandler != nil {
		mux.Handle("GET /metrics", metricsHandler)
	}
	// The app's own routes get CORS and the CSRF check as the API does
	// (which mounts both itself).
	own := middleware.CORS(svc)(middleware.CSRF(svc)(mux))
	// Every path under /api goes to the API before the mux, which would
	// answer one it cleans ("/api//login") with its own bare 307.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		own.ServeHTTP(w, r)
	})
	a.Handler = middleware.RequestID(trusted)(middleware.Recover(log)(middleware.Identity(svc, middleware.Options{TrustedProxies: trusted, Logger: log})(root)))
	return a, nil
}

// startPurger runs the service's purger until ctx ends: every
// s.purgeInterval it deletes anonymous users idle for s.anonymousTTL and
// accounts past their unregister grace period. With the anonymous-user
// budget per client address (Config.AnonymousAddressLimit), it bounds the
// users table: see docs/backends.md.
func (a *app) startPurger(ctx context.Context, s settings, log *slog.Logger) {
	if s.purgeInterval <= 0 {
		log.Warn("the purger is off (-purge-interval 0): idle anonymous users are never deleted")
		return
	}
	a.Service.StartPurger(ctx, s.purgeInterval, s.anonymousTTL)
	log.Info("purger started", slog.String("interval", s.purgeInterval.String()), slog.String("anonymousTTL", s.anonymousTTL.String()))
}

// whoami answers the user id and nickname from the session alone: one
// session-store read, no user-store read (the nickname was stored in the
// session by GetSessionUserData at login).
func whoami(w http.ResponseWriter, r *http.Request) {
	d, err := simpleuser.CurrentSession(r.Context())
	if err != nil {
		envelope.Error(w, r, nil, err)
		return
	}
	var data struct {
		Nickname string `json:"nickname"`
	}
	_ = json.Unmarshal(d.UserData, &data)
	envelope.OK(w, whoamiData{UserID: d.UserID, Nickname: data.Nickname})
}

// reportsPermission is the permission GET /app/reports needs: a role
// granting it, held in the session's tenant (docs/tenants.md).
const reportsPermission = "reports.read"

// reports is a tenant route guarded by middleware.RequirePermission: the
// session's claims decide (one session-store read, no user, membership or
// role read), and it answers the tenant and user the session acts as.
func reports(w http.ResponseWriter, r *http.Request) {
	d, err := simpleuser.CurrentSession(r.Context())
	if err != nil || d == nil { // the guard answered these already
		envelope.Error(w, r, nil, simpleuser.ErrAuthRequired)
		return
	}
	envelope.OK(w, reportsData{TenantID: d.TenantID, UserID: d.UserID})
}

type reportsData struct {
	TenantID int64 `json:"tenantId"`
	UserID   int64 `json:"userId"`
}

// AppendJSON writes the answer without reflection (envelope.Appender).
func (d reportsData) AppendJSON(b []byte) ([]byte, error) {
	b = strconv.AppendInt(append(b, `{"tenantId":`...), d.TenantID, 10)
	b = strconv.AppendInt(append(b, `,"userId":`...), d.UserID, 10)
	return append(b, '}'), nil
}

type whoamiData struct {
	UserID   int64  `json:"userId"`
	Nickname string `json:"nickname"`
}

// AppendJSON writes the answer without encoding/json's reflection
// (envelope.Appender): a route every page may call is worth four lines.
func (d whoamiData) AppendJSON(b []byte) ([]byte, error) {
	b = strconv.AppendInt(append(b, `{"userId":`...), d.UserID, 10)
	b = envelope.AppendString(append(b, `,"nickname":`...), d.Nickname)
	return append(b, '}'), nil
}

// devSender returns a SendCode hook that prints each code to out. With a
// fixed code every send uses it.
func devSender(fixed string, out io.Writer) func(context.Context, hooks.SendCodeRequest) (string, error) {
	var mu sync.Mutex
	return func(_ context.Context, req hooks.SendCodeRequest) (string, error) {
		c := fixed
		if c == "" {
			n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
			if err != nil {
				return "", err
			}
			c = fmt.Sprintf("%06d", n.Int64())
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "[dev code sender] %s code for %s: %s\n", req.Purpose, req.Email, c)
		return c, nil
	}
}
