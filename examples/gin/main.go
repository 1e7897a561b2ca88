// Command gin mounts simpleuser on github.com/gin-gonic/gin: the JSON API
// on /api/*path (gin.WrapH), the identity middleware around the engine
// (a gin.Engine is an http.Handler), and GET /orders for registered users
// only. gin has no adapter for net/http middleware; guard below is the few
// lines it takes. Codes are printed to stderr.
//
//	go run ./gin
package main

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

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
	gin.SetMode(gin.ReleaseMode) // no debug listing of the routes
	r := gin.New()
	r.Any("/api/*path", gin.WrapH(handlers.New(svc, handlers.Options{})))
	r.GET("/orders", guard(middleware.RequireRegistered), orders)
	// Identity wraps the engine: every request, routed or not, carries the
	// client in its context, and gin's handlers find it in c.Request.
	return middleware.Identity(svc, middleware.Options{})(r)
}

// guard turns one of the kit's guards (middleware.RequireUser,
// RequireRegistered, RequireSession) into a gin handler: the guard either
// answers the request itself (401, 402... in the kit's envelope), and the
// chain stops there, or calls its next handler, and gin's chain goes on.
// The guards neither change the request nor wrap the writer, so nothing
// needs passing on.
func guard(g func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		g(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true })).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// orders answers the registered user's orders.
func orders(c *gin.Context) {
	u, err := simpleuser.CurrentUser(c.Request.Context()) // loaded once per request: the guard's load
	if err != nil {
		envelope.Error(c.Writer, c.Request, nil, err)
		return
	}
	envelope.OK(c.Writer, map[string]any{"userId": u.ID, "orders": []string{}})
}
