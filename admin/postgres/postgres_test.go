package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/admin/admintest"
	"github.com/simpleuser/simpleuser/admin/postgres"
	"github.com/simpleuser/simpleuser/internal/testenv"
	tenantpg "github.com/simpleuser/simpleuser/tenant/postgres"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

func migrated(t *testing.T) *pgxpool.Pool {
	pool := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := userpg.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return pool
}

func TestConformance(t *testing.T) {
	admintest.Run(t, func(t *testing.T) admin.Store { return postgres.New(migrated(t)) })
}

func TestSearch(t *testing.T) {
	pool := migrated(t)
	admintest.RunSearch(t, admintest.SearchHarness{Searcher: postgres.New(pool), Users: userpg.New(pool), Tenants: tenantpg.New(pool)})
}

// An entry recorded in a transaction of the user store that rolls back is
// gone with it: the audit log commits with the change it records.
func TestRecordJoinsTransaction(t *testing.T) {
	pool := migrated(t)
	users, store := userpg.New(pool), postgres.New(pool)
	ctx := t.Context()
	_ = users.WithTx(ctx, func(ctx context.Context) error {
		if err := store.Record(ctx, &admin.Entry{At: time.Now(), Action: admin.ActionUserDelete, TargetUserID: 1}); err != nil {
			t.Fatal(err)
		}
		return context.Canceled // roll back
	})
	if es, err := store.Entries(ctx, admin.Filter{}); err != nil || len(es) != 0 {
		t.Errorf("after rollback: %d entries, %v; want none", len(es), err)
	}
}

// TestSearchExplain: over 200,000 users (ANALYZEd) and 20,000 memberships
// of two tenants, no search the admin API makes reads a table by a
// sequential scan, and a search by tenant walks the memberships' keyset
// index (no sort of the tenant's members).
func TestSearchExplain(t *testing.T) {
	pool := migrated(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (email, email_key, disabled, created_at, updated_at)
		SELECT 'user' || g || '@example.com', 'user' || g || '@example.com', g % 50 = 0, now() - g * interval '1 second', now()
		FROM generate_series(1, 200000) g`); err != nil {
		t.Fatal(err)
	}
	// Two tenants: a large one (every 10th user) and a small one (every
	// 10,000th), as the tenant store adds memberships (with the user's
	// creation time).
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_tenants (id, slug, name, created_at, updated_at)
		VALUES (1, 'large', 'Large', now(), now()), (2, 'small', 'Small', now(), now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_tenant_memberships (user_id, tenant_id, status, created_at, updated_at, user_created_at)
		SELECT id, CASE WHEN id % 10000 = 0 THEN 2 ELSE 1 END, 'active', now(), now(), created_at
		FROM simpleuser_users WHERE id % 10 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE simpleuser_users; ANALYZE simpleuser_tenant_memberships`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	queries := map[string]admin.UserQuery{
		"first page":    {},
		"next page":     {After: &admin.Cursor{CreatedAt: now.Add(-time.Hour), ID: 3600}},
		"by email":      {Email: "User777@example.com"},
		"by phone":      {Phone: "+447700900777"},
		"disabled":      {Status: admin.StatusDisabled},
		"created range": {CreatedFrom: now.Add(-48 * time.Hour), CreatedTo: now.Add(-24 * time.Hour), Limit: 500},
		"active, page":  {Status: admin.StatusActive, After: &admin.Cursor{CreatedAt: now.Add(-time.Hour), ID: 3600}},
		// The search by tenant walks simpleuser_tenant_memberships_search_idx.
		"large tenant":            {TenantID: 1},
		"large tenant, next page": {TenantID: 1, After: &admin.Cursor{CreatedAt: now.Add(-time.Hour), ID: 3600}},
		"small tenant":            {TenantID: 2},
		"small tenant, disabled":  {TenantID: 2, Status: admin.StatusDisabled},
		"large tenant, range":     {TenantID: 1, CreatedFrom: now.Add(-48 * time.Hour), CreatedTo: now.Add(-24 * time.Hour), Limit: 500},
		"tenant, email":           {TenantID: 1, Email: "User770@example.com"},
	}
	for name, q := range queries {
		sql, args := postgres.SearchSQL(q)
		rows, err := pool.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		if strings.Contains(p, "Seq Scan") || !strings.Contains(p, "Index") {
			t.Errorf("%s: plan scans the table:\n%s", name, p)
		}
		// By tenant, a page is a walk of the keyset index, never a sort of
		// the tenant's members.
		if q.TenantID != 0 && q.Email == "" && (!strings.Contains(p, "simpleuser_tenant_memberships_search_idx") || strings.Contains(p, "Sort")) {
			t.Errorf("%s: plan does not walk the tenant's keyset index:\n%s", name, p)
		}
	}
}
