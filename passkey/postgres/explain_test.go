package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/internal/testenv"
	userpg "github.com/simpleuser/simpleuser/user/postgres"
)

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

// TestExplainNoSeqScan seeds 50,000 users with a user handle, half of them
// with two passkeys, and plans every statement of the Store as it sends
// it, custom and generic: none may scan a passkey table sequentially, and
// each must use (or, for an insert, arbitrate on) the index it was written
// for (docs/schema.md).
func TestExplainNoSeqScan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 50,000 users")
	}
	ctx := context.Background()
	pool := testenv.Postgres(t)
	if err := userpg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO simpleuser_users (email, email_key, created_at, updated_at)
			SELECT 'u' || i || '@example.com', 'u' || i || '@example.com', now(), now() FROM generate_series(1, 50000) AS i`,
		`INSERT INTO simpleuser_passkey_handles (user_id, handle, created_at)
			SELECT id, sha256(('h' || id)::bytea), now() FROM simpleuser_users`,
		`INSERT INTO simpleuser_passkeys (credential_id, user_id, name, public_key, created_at)
			SELECT sha256(('c' || id || '-' || k)::bytea), id, 'k', '\x01', now()
			FROM simpleuser_users, generate_series(1, 2) AS k WHERE id % 2 = 0`,
		`ANALYZE simpleuser_users; ANALYZE simpleuser_passkey_handles; ANALYZE simpleuser_passkeys`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var uid int64
	var handle, cred []byte
	if err := pool.QueryRow(ctx, `SELECT p.user_id, h.handle, p.credential_id FROM simpleuser_passkeys p
		JOIN simpleuser_passkey_handles h USING (user_id) ORDER BY p.user_id LIMIT 1 OFFSET 12000`).Scan(&uid, &handle, &cred); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	const (
		handlesPKey = "simpleuser_passkey_handles_pkey"
		handleKey   = "simpleuser_passkey_handles_handle_key"
		passkeysKey = "simpleuser_passkeys_pkey"
		userIdx     = "simpleuser_passkeys_user_idx"
	)
	for _, tc := range []struct {
		name    string
		sql     string
		args    []any
		indexes []string // one of them must be used (or be the insert's arbiter)
	}{
		{"UserHandle read", sqlGetHandle, []any{uid}, []string{handlesPKey}},
		{"UserHandle insert", sqlInsertHandle, []any{uid, handle}, []string{handlesPKey}},
		{"UserByHandle", sqlUserByHandle, []any{handle}, []string{handleKey}},
		{"Add", sqlAdd, []any{[]byte("new-cred"), uid, "k", []byte{1}, int64(0), nil, []string{}, false, false, true, now, handle}, []string{passkeysKey}},
		{"Add: exists", sqlExists, []any{cred}, []string{passkeysKey}},
		{"List", sqlList, []any{uid}, []string{userIdx}},
		{"Get", sqlGet, []any{cred}, []string{passkeysKey}},
		{"Rename", sqlRename, []any{uid, cred, "new"}, []string{passkeysKey, userIdx}},
		{"Remove", sqlRemove, []any{uid, cred}, []string{passkeysKey, userIdx}},
		{"RecordUse", sqlRecordUse, []any{cred, int64(9), true, now}, []string{passkeysKey}},
	} {
		for _, generic := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s generic=%v", tc.name, generic), func(t *testing.T) {
				plan := explain(t, pool, tc.sql, tc.args, generic)
				var used []string
				plan.walk(func(n planNode) {
					if n.NodeType == "Seq Scan" && strings.HasPrefix(n.RelationName, "simpleuser_passkey") {
						t.Errorf("plan scans %s sequentially", n.RelationName)
					}
					if n.IndexName != "" {
						used = append(used, n.IndexName)
					}
					used = append(used, n.ConflictIndexes...)
				})
				if !slices.ContainsFunc(tc.indexes, func(ix string) bool { return slices.Contains(used, ix) }) {
					t.Errorf("plan uses %v, want one of %v", used, tc.indexes)
				}
			})
		}
	}
}

// explain returns the custom plan of sql with args, or the generic one
// (PREPARE, EXPLAIN EXECUTE under plan_cache_mode = force_generic_plan).
// Nothing is executed: the transaction is rolled back.
func explain(t *testing.T, pool *pgxpool.Pool, sql string, args []any, generic bool) planNode {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
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
		qargs := append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
		err = tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE explain_stmt("+strings.Join(ph, ", ")+")", qargs...).Scan(&out)
		if _, derr := tx.Exec(ctx, "DEALLOCATE explain_stmt"); derr != nil && err == nil { // PREPARE outlives a rollback
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
