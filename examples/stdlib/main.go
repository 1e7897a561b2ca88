// Command stdlib mounts simpleuser on net/http's ServeMux: the JSON API
// under /api/, the identity middleware around everything, and GET /orders
// for registered users only. Codes are printed to stderr.
//
//	go run ./stdlib   # then the README's curl session against :8080
package main

import (
	"log"
	"net/http"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/examples/internal/dev"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/middleware"
)

func main() {
	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{SendCode: dev.SendCode}})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", routes(svc)))
}

// routes is the whole app: a ServeMux needs no glue, the kit's middleware
// is func(http.Handler) http.Handler.
func routes(svc *simpleuser.Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", handlers.New(svc, handlers.Options{}))
	mux.Handle("GET /orders", middleware.RequireRegistered(http.HandlerFunc(orders)))
	return middleware.Identity(svc, middleware.Options{})(mux)
}

// orders answers the registered user's orders.
func orders(w http.ResponseWriter, r *http.Request) {
	u, err := simpleuser.CurrentUser(r.Context()) // loaded once per request: the guard's load
	if err != nil {
		envelope.Error(w, r, nil, err)
		return
	}
	envelope.OK(w, map[string]any{"userId": u.ID, "orders": []string{}})
}
