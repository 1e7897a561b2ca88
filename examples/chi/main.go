// Command chi mounts simpleuser on github.com/go-chi/chi: the JSON API
// mounted at /api, the identity middleware with r.Use, and GET /orders for
// registered users only (r.With). chi takes net/http middleware as it is,
// so there is no glue. Codes are printed to stderr.
//
//	go run ./chi
package main

import (
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"

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

func routes(svc *simpleuser.Service) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Identity(svc, middleware.Options{}))
	// The API matches the full path, /api included; chi's Mount keeps it.
	r.Mount("/api", handlers.New(svc, handlers.Options{}))
	r.With(middleware.RequireRegistered).Get("/orders", orders)
	return r
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
