package main

import (
	"context"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/tenant"
	tenantpg "github.com/simpleuser/simpleuser/tenant/postgres"
)

// The permission path (GET /app/reports on the example app, guarded by
// middleware.RequirePermission("reports.read")) is loaded with tenant
// sessions: sessions whose body carries a tenant, the member's roles and
// the permissions they grant (session codec v4), as the kit's sign-in
// writes them for a member of a tenant (tenant.Service.LoginClaims).
//
// The data behind them is real: one tenant (slug benchTenantSlug), one
// role benchRole granting reports.read and reports.export, an active
// membership with that role for every user of a hot token, and that
// user's example-app row in the tenant (as the app's MembershipAdded
// handler adds it). The claims are resolved by the kit's tenant.Service
// over tenant/postgres, then written into one more session per hot token
// of the same user (token benchTenantToken(j) beside benchToken(j)), in
// its per-user index too. So the path runs over as many distinct sessions
// as whoami, spread alike over the data set; only the body differs (the
// claims add about 40 bytes).
const (
	benchTenantSlug = "bench-tenant"
	benchRole       = "bench-analyst"
	benchPermission = "reports.read" // exampleapp's reportsPermission
)

// benchTenantToken is the token of the tenant session seeded beside
// session j (see benchToken).
func benchTenantToken(j int) string {
	h := sha512.Sum512([]byte("subench-tenant-token:" + strconv.Itoa(j)))
	var b [session.TokenLength]byte
	for i := range b {
		b[i] = tokenAlphabet[int(h[i])%len(tokenAlphabet)]
	}
	return string(b[:])
}

// tenantFile seeds (idempotently) the tenant, role, memberships and
// tenant sessions of the hot tokens (the same j as hotFiles picks) and
// writes their tokens to a file of dir.
func (e *env) tenantFile(ctx context.Context, dir string, hot int) (string, error) {
	var tid int64
	err := e.pg.QueryRow(ctx, `INSERT INTO simpleuser_tenants (slug, name, created_at, updated_at)
		VALUES ($1, 'Bench', now(), now())
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id`, benchTenantSlug).Scan(&tid)
	if err != nil {
		return "", fmt.Errorf("seed tenant: %w", err)
	}
	if _, err := e.pg.Exec(ctx, `INSERT INTO simpleuser_roles (name, description, permissions, created_at, updated_at)
		VALUES ($1, 'bench: reads reports', $2, now(), now()) ON CONFLICT (name) DO NOTHING`,
		benchRole, []string{"reports.export", benchPermission}); err != nil {
		return "", fmt.Errorf("seed role: %w", err)
	}
	s := e.seededSessions
	js := make([]int, 0, hot)
	var users []int64
	for k := 0; k < hot; k++ {
		j := int(int64(k) * int64(s) / int64(hot))
		js = append(js, j)
		if n := len(users); n == 0 || users[n-1] != sessionUser(j) {
			users = append(users, sessionUser(j))
		}
	}
	if _, err := e.pg.Exec(ctx, `INSERT INTO simpleuser_tenant_memberships (user_id, tenant_id, status, roles, created_at, updated_at, user_created_at)
		SELECT u.id, $2, 'active', ARRAY[$3::text], now(), now(), u.created_at FROM simpleuser_users u WHERE u.id = ANY($1)
		ON CONFLICT DO NOTHING`, users, tid, benchRole); err != nil {
		return "", fmt.Errorf("seed memberships: %w", err)
	}
	if e.appTable {
		if _, err := e.pg.Exec(ctx, `INSERT INTO app_users (auth_user_id, tenant_id, nickname, referral_code)
			SELECT u, $2::bigint, 'u' || u, 'T' || $2::text || '-' || u FROM unnest($1::bigint[]) u
			ON CONFLICT DO NOTHING`, users, tid); err != nil {
			return "", fmt.Errorf("seed tenant app_users: %w", err)
		}
	}
	// The claims as the kit resolves them at sign-in (every hot user holds
	// the same membership, so the first one's are everyone's).
	ts := &tenant.Service{Store: tenantpg.New(e.pg), Default: tenant.DefaultOnly}
	cl, err := ts.LoginClaims(ctx, users[0])
	if err != nil {
		return "", err
	}
	if cl.TenantID != tid || len(cl.Permissions) != 2 {
		return "", fmt.Errorf("tenant claims of user %d: %+v, want tenant %d with 2 permissions", users[0], cl, tid)
	}
	if err := e.writeTenantSessions(ctx, js, cl); err != nil {
		return "", err
	}
	// Proof that the seeded format is the kit's: the session manager reads
	// the claims back.
	m := newManager(e.rpool, e.o.redisPrefix)
	d, err := m.Get(ctx, benchTenantToken(js[len(js)-1]))
	if err != nil || d.TenantID != tid || len(d.Permissions) != 2 {
		return "", fmt.Errorf("seeded tenant session does not resolve with its claims: %+v, %v", d, err)
	}
	var b strings.Builder
	for _, j := range js {
		b.WriteString(benchTenantToken(j))
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, fmt.Sprintf("tenant-tokens-%s-%d.txt", e.o.dbName, s))
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// writeTenantSessions writes the tenant session beside each session j of
// js (body as session.Manager.Create writes it, plus a member of its
// user's index), pipelined on one connection.
func (e *env) writeTenantSessions(ctx context.Context, js []int, cl tenant.Claims) error {
	conn, err := redisconn.Get(ctx, e.rpool)
	if err != nil {
		return err
	}
	defer conn.Close()
	prefix := e.o.redisPrefix
	pending := 0
	for i, j := range js {
		uid := sessionUser(j)
		d := e.seedSession(j, uid)
		cl.Apply(&d)
		key := session.Key(benchTenantToken(j))
		exp := d.ExpiresAt.UnixMilli()
		idx := prefix + "usess:" + strconv.FormatInt(uid, 10)
		if err := conn.Send("SET", prefix+"session:"+key, session.Encode(&d), "PXAT", exp); err != nil {
			return err
		}
		if err := conn.Send("ZADD", idx, exp, key); err != nil {
			return err
		}
		// The index lives as long as its latest session (GT: never shortened).
		if err := conn.Send("PEXPIREAT", idx, exp, "GT"); err != nil {
			return err
		}
		pending += 3
		if pending >= 3000 || i == len(js)-1 {
			if err := conn.Flush(); err != nil {
				return err
			}
			for ; pending > 0; pending-- {
				if _, err := conn.Receive(); err != nil {
					return fmt.Errorf("seed tenant sessions: %w", err)
				}
			}
		}
	}
	return ctx.Err()
}
