// Command gorillamux mounts simpleuser on github.com/gorilla/mux: the JSON
// API on the /api/ path prefix, the identity middleware with r.Use, and
// GET /orders for registered users only. gorilla/mux takes net/http
// middleware as it is, so there is no glue. Codes are printed to stderr.
//
//	go run ./gorillamux
package main

import (
	"log"
	"net/http"

	"github.com/gorilla/mux"

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
	r := mux.NewRouter()
	// gorilla/mux runs r.Use middleware on matched routes only; an
	// unmatched path gets the router's plain 404, as without the kit.
	r.Use(middleware.Identity(svc, middleware.Options{}))
	r.PathPrefix("/api/").Handler(handlers.New(svc, handlers.Options{}))
	r.Handle("/orders", middleware.RequireRegistered(http.HandlerFunc(orders))).Methods(http.MethodGet)
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
