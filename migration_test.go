package simpleuser_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// TestMigrationRecipe runs docs/migration/recipe.sql on a sample legacy
// table and logs a migrated user in with the legacy bcrypt password.
func TestMigrationRecipe(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("legacy-secret"), bcrypt.MinCost)
	if _, err := pool.Exec(ctx, `CREATE TABLE legacy_users (
		id serial PRIMARY KEY, email text UNIQUE, password_hash text,
		email_verified bool, nickname text, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO legacy_users (email, password_hash, email_verified, nickname) VALUES
		(' Grace@Example.com ', $1, true, 'grace'), ('linus@example.com', $1, false, 'linus')`, string(hash)); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, pool); err != nil { // step 1
		t.Fatal(err)
	}
	recipe, err := os.ReadFile("docs/migration/recipe.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, string(recipe)); err != nil { // steps 2-4, as documented
		t.Fatalf("recipe: %v", err)
	}

	f := newFixture(t, func(c *simpleuser.Config) { c.Users = postgres.New(pool) })
	res, err := f.svc.Login(ctx, client("migrated"), simpleuser.LoginInput{Email: "grace@example.com", Password: "legacy-secret"})
	if err != nil {
		t.Fatalf("legacy password login: %v", err)
	}
	u, err := f.svc.GetUser(ctx, res.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "Grace@Example.com" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.Metadata["emailVerified"] != true {
		t.Fatalf("migrated user %q, hash %.10s, metadata %v", u.Email, u.PasswordHash, u.Metadata)
	}
	var nickname string
	if err := pool.QueryRow(ctx, `SELECT nickname FROM app_users WHERE auth_user_id = $1`, u.ID).Scan(&nickname); err != nil || nickname != "grace" {
		t.Fatalf("app row of the migrated user: %q (%v)", nickname, err)
	}
	// The upgraded hash keeps working; the cascade removes the app row with the user.
	if _, err := f.svc.Login(ctx, client("migrated-2"), simpleuser.LoginInput{Email: "grace@example.com", Password: "legacy-secret"}); err != nil {
		t.Fatalf("login after the upgrade: %v", err)
	}
	if err := f.svc.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM app_users WHERE auth_user_id = $1`, u.ID).Scan(&n)
	if n != 0 {
		t.Fatal("ON DELETE CASCADE did not remove the app row")
	}
}
