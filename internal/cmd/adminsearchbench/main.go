// Command adminsearchbench measures the admin user search over a large
// users table: it creates a schema, migrates it, inserts -users rows with
// one INSERT ... generate_series, ANALYZEs, then times -n searches of each
// kind the admin API makes (random cursors; by tenant over two tenants of
// 100,000 and 100 members per million users) and prints p50 and p99 in ms.
// It drops its schema at the end.
//
//	go run ./internal/cmd/adminsearchbench -db postgres://postgres@127.0.0.1:5432/test -users 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/admin"
	adminpg "github.com/simpleuser/simpleuser/admin/postgres"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

func main() {
	db := flag.String("db", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL URL")
	users := flag.Int("users", 1_000_000, "rows to insert")
	n := flag.Int("n", 2000, "searches per kind")
	flag.Parse()
	ctx := context.Background()
	schema := fmt.Sprintf("adminbench_%d", time.Now().UnixNano())
	cfg, err := pgxpool.ParseConfig(*db)
	if err != nil {
		log.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		log.Fatal(err)
	}
	defer pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	if err := userpg.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (email, email_key, disabled, login_time, created_at, updated_at)
		SELECT 'user' || g || '@example.com', 'user' || g || '@example.com', g % 50 = 0, now(),
		       now() - g * interval '1 second', now()
		FROM generate_series(1, $1) g`, *users); err != nil {
		log.Fatal(err)
	}
	// Two tenants, memberships as tenant/postgres writes them: a large one
	// (every 10th user) and a small one (every 10,000th).
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_tenants (id, slug, name, created_at, updated_at)
		VALUES (1, 'large', 'Large', now(), now()), (2, 'small', 'Small', now(), now())`); err != nil {
		log.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_tenant_memberships (user_id, tenant_id, status, created_at, updated_at, user_created_at)
		SELECT id, CASE WHEN id % 10000 = 0 THEN 2 ELSE 1 END, 'active', now(), now(), created_at
		FROM simpleuser_users WHERE id % 10 = 0`); err != nil {
		log.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE simpleuser_users; ANALYZE simpleuser_tenant_memberships"); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("inserted %d users in %v\n", *users, time.Since(start).Round(time.Millisecond))
	s := adminpg.New(pool)
	now := time.Now()
	cursor := func() *admin.Cursor {
		g := rand.IntN(*users) + 1
		return &admin.Cursor{CreatedAt: now.Add(-time.Duration(g) * time.Second), ID: int64(g)} // row g has id g
	}
	kinds := []struct {
		name string
		q    func() admin.UserQuery
	}{
		{"first page (50)", func() admin.UserQuery { return admin.UserQuery{} }},
		{"page at a random cursor (50)", func() admin.UserQuery { return admin.UserQuery{After: cursor()} }},
		{"by email", func() admin.UserQuery {
			return admin.UserQuery{Email: fmt.Sprintf("User%d@example.com", rand.IntN(*users)+1)}
		}},
		{"disabled at a random cursor (50)", func() admin.UserQuery {
			return admin.UserQuery{Status: admin.StatusDisabled, After: cursor()}
		}},
		{"created range, random day (50)", func() admin.UserQuery {
			from := now.Add(-time.Duration(rand.IntN(*users)) * time.Second)
			return admin.UserQuery{CreatedFrom: from, CreatedTo: from.Add(24 * time.Hour)}
		}},
		{"large tenant at a random cursor (50)", func() admin.UserQuery { return admin.UserQuery{TenantID: 1, After: cursor()} }},
		{"large tenant, disabled, random cursor", func() admin.UserQuery {
			return admin.UserQuery{TenantID: 1, Status: admin.StatusDisabled, After: cursor()}
		}},
		{"small tenant, first page", func() admin.UserQuery { return admin.UserQuery{TenantID: 2} }},
		{"large tenant, created range (50)", func() admin.UserQuery {
			from := now.Add(-time.Duration(rand.IntN(*users)) * time.Second)
			return admin.UserQuery{TenantID: 1, CreatedFrom: from, CreatedTo: from.Add(24 * time.Hour)}
		}},
	}
	for _, k := range kinds {
		ds := make([]time.Duration, 0, *n)
		for range *n {
			t0 := time.Now()
			if _, err := s.SearchUsers(ctx, k.q()); err != nil {
				log.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Printf("%-34s p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", k.name, ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]), ms(ds[len(ds)-1]))
	}
}
