package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// Open a pool, create or upgrade the tables, and use the Store.
func Example() {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		log.Fatal(err) // a *backend.Error when the server is down
	}
	var users user.Store = postgres.New(pool)
	_ = users
}

// Create a user and the app's own row for it in one transaction: the app's
// INSERT joins the kit's transaction through TxFrom, so both commit or
// neither does. The app's table:
//
//	CREATE TABLE app_users (
//	    auth_user_id bigint PRIMARY KEY REFERENCES simpleuser_users(id) ON DELETE CASCADE,
//	    nickname     text NOT NULL
//	);
func ExampleTxFrom() {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	users := postgres.New(pool)

	err = users.WithTx(ctx, func(ctx context.Context) error {
		u := &user.User{Email: "ann@example.com"}
		if err := users.Create(ctx, u); err != nil {
			return err
		}
		tx, _ := postgres.TxFrom(ctx)
		_, err := tx.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname) VALUES ($1, $2)`, u.ID, "ann")
		return err // an error here rolls back the user too
	})
	if err != nil {
		log.Print(err)
	}
}
