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
	admintest.RunSearch(t, admintest.SearchHarness{Searcher: postgres.New(pool), Users: userpg.New(pool)})
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

// TestSearchExplain: over 200,000 users (ANALYZEd), no search the admin API
// makes reads the users table by a sequential scan.
func TestSearchExplain(t *testing.T) {
	pool := migrated(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users (email, email_key, disabled, created_at, updated_at)
		SELECT 'user' || g || '@example.com', 'user' || g || '@example.com', g % 50 = 0, now() - g * interval '1 second', now()
		FROM generate_series(1, 200000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE simpleuser_users`); err != nil {
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
	}
}
