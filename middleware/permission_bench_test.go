package middleware_test

// RequirePermission against RequireSession on one route: the permission
// guard reads the same session and checks a claim in it, so it should
// keep >= 0.85 of the session-only throughput (issue 17).
//
//	go test -run '^$' -bench 'Guard' -benchmem ./middleware

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
)

// tenantToken issues a session in a tenant with a realistic claim set:
// three roles, 24 permissions.
func tenantToken(b *testing.B, svc *simpleuser.Service) string {
	b.Helper()
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bench@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	d := session.Data{UserID: u.ID, IP: "127.0.0.1", UserAgent: "bench", TenantID: 7, Roles: []string{"admin", "editor", "viewer"}}
	for i := range 24 {
		d.Permissions = append(d.Permissions, fmt.Sprintf("resource%02d.write", i))
	}
	tok, err := svc.Sessions().Create(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func BenchmarkGuardMemory(b *testing.B) {
	guards := []struct {
		name  string
		guard func(http.Handler) http.Handler
	}{
		{"session", middleware.RequireSession},
		{"permission", middleware.RequirePermission("resource17.write")},
		{"role", middleware.RequireRole("editor")},
	}
	// The session-only limit as the kit serves it without tenants: a body
	// without claims.
	b.Run("session-no-tenant", func(b *testing.B) {
		svc := benchService(b, nil)
		tok := benchToken(b, svc)
		benchServe(b, benchChain(svc, middleware.RequireSession, benchWhoami), map[string]string{middleware.HeaderToken: tok})
	})
	for _, g := range guards {
		b.Run(g.name, func(b *testing.B) {
			svc := benchService(b, nil)
			tok := tenantToken(b, svc)
			benchServe(b, benchChain(svc, g.guard, benchWhoami), map[string]string{middleware.HeaderToken: tok})
		})
	}
}

func BenchmarkGuardRedis(b *testing.B) {
	for _, g := range []struct {
		name  string
		guard func(http.Handler) http.Handler
	}{
		{"session", middleware.RequireSession},
		{"permission", middleware.RequirePermission("resource17.write")},
	} {
		b.Run(g.name, func(b *testing.B) {
			pool, prefix := testenv.Redis(b)
			svc := benchService(b, func(c *simpleuser.Config) { c.SessionStore, c.SessionIndex = sessionredis.New(pool, prefix) })
			tok := tenantToken(b, svc)
			benchServe(b, benchChain(svc, g.guard, benchWhoami), map[string]string{middleware.HeaderToken: tok})
		})
	}
}
