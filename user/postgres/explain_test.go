package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// planNode is the part of an EXPLAIN (FORMAT JSON) node the test reads.
type planNode struct {
	NodeType        string     `json:"Node Type"`
	RelationName    string     `json:"Relation Name"`
	IndexName       string     `json:"Index Name"`
	ConflictIndexes []string   `json:"Conflict Arbiter Indexes"`
	Plans           []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// TestExplainNoSeqScan seeds 100,000 users (a quarter with a phone, a third of them with two
// identities) and plans every request-path statement, exactly as the Store
// sends it, with representative parameters: no plan may scan
// simpleuser_users or simpleuser_identities sequentially, and each must use
// the index it was written for. Each statement is planned twice: as a custom plan
// (the parameters' values known, as for the first executions of a prepared
// statement) and as the generic plan PostgreSQL may switch to once pgx's
// cached prepared statement has run a few times.
func TestExplainNoSeqScan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 rows")
	}
	_, pool := newTestStore(t)
	ctx := context.Background()
	// Even ids registered, odd ones anonymous; a third active at some
	// point in the last ~40 days; every 50th registered one unregistered;
	// creation spread over ~80 days.
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_users
		(email, email_key, ssaid, password_hash, metadata, register_time, last_active_time, unregister_time, created_at, updated_at, phone)
		SELECT
			CASE WHEN i % 2 = 0 THEN 'User' || i || '@Example.com' END,
			CASE WHEN i % 2 = 0 THEN 'user' || i || '@example.com' END,
			CASE WHEN i % 2 = 1 THEN 'ssaid-' || i END,
			CASE WHEN i % 2 = 0 THEN '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' END,
			'{"plan": "free"}',
			CASE WHEN i % 2 = 0 THEN now() - (i % 1900) * interval '1 hour' END,
			CASE WHEN i % 3 = 0 THEN now() - (i % 1000) * interval '1 hour' END,
			CASE WHEN i % 100 = 0 THEN now() - (i % 60) * interval '1 day' END,
			now() - (i % 2000) * interval '1 hour',
			now(),
			CASE WHEN i % 4 = 0 THEN '+447700' || lpad(i::text, 6, '0') END
		FROM generate_series(1, 100000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO simpleuser_identities
		(user_id, provider, subject, email, email_verified, created_at, last_used_at)
		SELECT id, p, p || '-sub-' || id, email, true, now(), now()
		FROM simpleuser_users, unnest(ARRAY['google', 'github']) AS p
		WHERE id % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE simpleuser_users; ANALYZE simpleuser_identities`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM simpleuser_users`); n != 100000 {
		t.Fatalf("seeded %d users, want 100000", n)
	}
	now := time.Now().UTC()
	meta := `{"plan": "pro"}`
	updateArgs := []any{int64(4242), int64(1), now,
		"User4242@Example.com", nil, "hash", false, meta,
		"192.0.2.1", now, "192.0.2.2", now, nil, `{"theme": "dark"}`, "user4242@example.com",
		"+447700904242", now, nil, false, false, nil}

	for _, tc := range []struct {
		name  string
		sql   string
		args  []any
		index string // the index the plan must use
	}{
		{"Get", sqlGet, []any{int64(4242)}, "simpleuser_users_pkey"},
		{"GetByEmail", sqlGetByEmail, []any{"user4242@example.com"}, emailIndex},
		{"GetByPhone", sqlGetByPhone, []any{"+447700004240"}, phoneIndex},
		{"Migrate: users without a key", sqlUnkeyed, []any{int64(0), keyBatch}, "simpleuser_users_email_unkeyed_idx"},
		{"GetAnonymous", sqlGetAnonymous, []any{"ssaid-4243"}, ssaidIndex},
		{"GetOrCreateAnonymous existing", sqlGetOrCreateAnonymous, []any{"ssaid-4243", now}, ssaidIndex},
		{"GetOrCreateAnonymous new", sqlGetOrCreateAnonymous, []any{"ssaid-new", now}, ssaidIndex},
		{"Update", sqlUpdate, updateArgs, "simpleuser_users_pkey"},
		{"Update existence check", sqlExists, []any{int64(4242)}, "simpleuser_users_pkey"},
		{"Delete", sqlDelete, []any{int64(4242)}, "simpleuser_users_pkey"},
		{"TouchActive", sqlTouchActive, []any{int64(4242), "192.0.2.9", now}, "simpleuser_users_pkey"},
		{"TouchActive async", sqlTouchActiveAsync, []any{int64(4242), "192.0.2.9", now}, "simpleuser_users_pkey"},
		{"ListUnregistered", sqlListUnregistered, []any{now.Add(-30 * 24 * time.Hour), 100}, "simpleuser_users_unregister_time_idx"},
		{"PurgeAnonymous", sqlPurgeAnonymous, []any{now.Add(-30 * 24 * time.Hour), 1000}, "simpleuser_users_anon_idle_idx"},
		{"PurgeAnonymous large batch", sqlPurgeAnonymous, []any{now.Add(-30 * 24 * time.Hour), 10000}, "simpleuser_users_anon_idle_idx"},
		{"LinkIdentity", sqlLinkIdentity, []any{int64(4242), "google", "google-sub-new", "a@example.com", true, now}, identityKey},
		{"GetIdentity", sqlGetIdentity, []any{"google", "google-sub-4242"}, identityKey},
		{"ListIdentities", sqlListIdentities, []any{int64(4242)}, identityIndex},
		{"UnlinkIdentity", sqlUnlinkIdentity, []any{int64(4242), "google", "google-sub-4242"}, identityKey},
		{"TouchIdentity", sqlTouchIdentity, []any{"google", "google-sub-4242", "a@example.com", true, now}, identityKey},
	} {
		for _, generic := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " custom", true: " generic"}[generic]
			t.Run(name, func(t *testing.T) {
				plan := explain(t, pool, tc.sql, tc.args, generic)
				var seq, used []string
				var arbiters []string
				plan.walk(func(n planNode) {
					if n.NodeType == "Seq Scan" && (n.RelationName == "simpleuser_users" || n.RelationName == "simpleuser_identities") {
						seq = append(seq, n.NodeType)
					}
					if n.IndexName != "" {
						used = append(used, n.IndexName)
					}
					arbiters = append(arbiters, n.ConflictIndexes...)
				})
				if len(seq) > 0 {
					t.Errorf("plan scans a table sequentially:\n%s", dump(plan))
				}
				if !contains(used, tc.index) && !(tc.name == "LinkIdentity" && contains(arbiters, tc.index)) { // an insert uses its arbiter
					t.Errorf("plan uses indexes %v, want %s:\n%s", used, tc.index, dump(plan))
				}
				if strings.HasPrefix(tc.name, "GetOrCreateAnonymous") && !contains(arbiters, ssaidIndex) {
					t.Errorf("conflict arbiters %v, want %s", arbiters, ssaidIndex)
				}
				if tc.name == "LinkIdentity" && !contains(arbiters, identityKey) {
					t.Errorf("conflict arbiters %v, want %s", arbiters, identityKey)
				}
			})
		}
	}
}

// explain returns the plan of sql with args: a custom plan (EXPLAIN over the
// extended protocol, the values bound), or the generic one (PREPARE, then
// EXPLAIN EXECUTE under plan_cache_mode = force_generic_plan). Nothing is
// executed.
func explain(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, sql string, args []any, generic bool) planNode {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx) // one connection; rolled back, so PREPARE and SET vanish
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var out []byte
	if !generic {
		err = tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&out)
	} else {
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "PREPARE explain_stmt AS "+sql); err != nil {
			t.Fatalf("PREPARE: %v", err)
		}
		ph := make([]string, len(args))
		for i := range args {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		// The simple protocol makes pgx inline the values as literals.
		qargs := append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
		err = tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE explain_stmt("+strings.Join(ph, ", ")+")", qargs...).Scan(&out)
		if _, derr := tx.Exec(ctx, "DEALLOCATE explain_stmt"); derr != nil && err == nil {
			err = derr
		}
	}
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	return plans[0].Plan
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dump renders a plan as an indented tree of node types, relations and indexes.
func dump(n planNode) string {
	var b strings.Builder
	var rec func(planNode, int)
	rec = func(n planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s\n", strings.Repeat("  ", depth), n.NodeType, n.RelationName, n.IndexName)
		for _, c := range n.Plans {
			rec(c, depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}
