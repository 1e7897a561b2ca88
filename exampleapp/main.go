// Command exampleapp serves simpleuser's API on :8080, on in-memory stores by
// default or on PostgreSQL and Redis when -database-url and -redis-url are
// given. Codes are mailed through -smtp-url from -mail-from (package mail),
// or without them printed to stderr by a development sender. Sign-in
// providers are enabled by their client credentials. GET / is a small web
// page (package web): sign up and sign in by email code, by password, with
// each configured provider or with a passkey; the second step of a sign-in
// into an account with two-step verification; then an account page
// (profile, sessions, linked sign-in accounts, passkeys, two-step
// verification, settings, password, email address, deletion, log out).
// For plain http on localhost, add -addr 127.0.0.1:8080 -insecure-cookies
// and open http://localhost:8080/. Passkeys are on by default; their
// relying party defaults to localhost and http://localhost:PORT for a
// loopback -addr, and is set with -passkey-rp-id and -passkey-origins
// otherwise. -secret sets the app's secret (stored codes, sealed TOTP
// secrets, trusted-device tokens).
// GET /healthz and GET /readyz are the liveness and readiness probes, GET
// /metrics the Prometheus metrics (-metrics=false turns it off); logs
// go to stderr (-log-level, -log-format), each line of a request with its
// request id.
//
//	go run ./exampleapp
//	go run ./exampleapp -database-url postgres://postgres@127.0.0.1:5432/test -redis-url redis://127.0.0.1:6379/0
//	go run ./exampleapp -database-url postgres://postgres@127.0.0.1:5432/test -redis-url redis-cluster://127.0.0.1:7000,127.0.0.1:7001
//	go run ./exampleapp -smtp-url smtp://127.0.0.1:1025?tls=none -mail-from 'Example <no-reply@example.com>'
//	go run ./exampleapp -public-url https://app.example -google-client-id ID -google-client-secret SECRET
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// settings are the command-line flags; each has an environment twin.
type settings struct {
	addr           string
	fixedCode      string
	trustedProxies string
	allowAnonymous bool
	databaseURL    string
	redisURL       string
	redisPrefix    string
	purgeInterval  time.Duration
	anonymousTTL   time.Duration
	providers      providerSettings
	browser        browserSettings
	log            logSettings
	metrics        metricsSettings
	mail           mailSettings
	factors        factorSettings
	// now is the service's clock (Config.Now), for tests only (no flag);
	// nil: time.Now.
	now func() time.Time
}

func parseFlags(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("exampleapp", flag.ContinueOnError)
	fs.StringVar(&s.addr, "addr", envOr("SIMPLEUSER_ADDR", ":8080"), "listen address (SIMPLEUSER_ADDR)")
	fs.StringVar(&s.fixedCode, "fixed-code", getenv("SIMPLEUSER_FIXED_CODE"), "send this code every time, for tests (SIMPLEUSER_FIXED_CODE)")
	fs.StringVar(&s.trustedProxies, "trusted-proxies", getenv("SIMPLEUSER_TRUSTED_PROXIES"), "comma-separated CIDRs whose X-Forwarded-For is trusted (SIMPLEUSER_TRUSTED_PROXIES)")
	fs.BoolVar(&s.allowAnonymous, "allow-anonymous", envBool("SIMPLEUSER_ALLOW_ANONYMOUS", true), "allow anonymous users keyed by x-client-ssaid (SIMPLEUSER_ALLOW_ANONYMOUS)")
	fs.StringVar(&s.databaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL; empty keeps users in memory (DATABASE_URL)")
	fs.StringVar(&s.redisURL, "redis-url", getenv("REDIS_URL"), "Redis URL redis://host:port/db, or redis-cluster://host:port,host:port for a Redis Cluster; empty keeps sessions, codes and limits in memory (REDIS_URL)")
	fs.StringVar(&s.redisPrefix, "redis-prefix", envOr("SIMPLEUSER_REDIS_PREFIX", "simpleuser:"), "Redis key prefix (SIMPLEUSER_REDIS_PREFIX)")
	fs.DurationVar(&s.purgeInterval, "purge-interval", envDuration("SIMPLEUSER_PURGE_INTERVAL", time.Hour), "how often to delete idle anonymous users and accounts past their unregister grace period; 0 disables (SIMPLEUSER_PURGE_INTERVAL)")
	fs.DurationVar(&s.anonymousTTL, "anonymous-ttl", envDuration("SIMPLEUSER_ANONYMOUS_TTL", 30*24*time.Hour), "delete anonymous users idle for longer than this; 0 keeps them (SIMPLEUSER_ANONYMOUS_TTL)")
	defineProviderFlags(fs, &s.providers)
	defineBrowserFlags(fs, &s.browser)
	defineLogFlags(fs, &s.log)
	defineMetricsFlags(fs, &s.metrics)
	defineMailFlags(fs, &s.mail)
	defineFactorFlags(fs, &s.factors)
	return s, fs.Parse(args)
}

// lookupEnv reads the environment twins of the flags. Tests replace it so
// that a DATABASE_URL or REDIS_URL exported for the kit's own integration
// tests never points an exampleapp test at the shared database or the
// default Redis prefix.
var lookupEnv = os.LookupEnv

// getenv is os.Getenv over lookupEnv.
func getenv(name string) string {
	v, _ := lookupEnv(name)
	return v
}

func envOr(name, def string) string {
	if v, ok := lookupEnv(name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := lookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := lookupEnv(name); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

func main() {
	s, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	log := mustLogger(s.log)
	slog.SetDefault(log) // where the kit logs when given no logger
	if err := run(s, log); err != nil {
		log.Error("exampleapp stopped", slog.Any("error", err))
		os.Exit(1)
	}
}

func run(s settings, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := newApp(ctx, s, log, os.Stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	app.startPurger(ctx, s, log)

	srv := &http.Server{
		Addr:              s.addr,
		Handler:           app.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("exampleapp listening", slog.String("addr", s.addr), slog.String("backends", app.Backends))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
