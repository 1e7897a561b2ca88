// Command echo mounts simpleuser on github.com/labstack/echo (v5): the
// JSON API on /api/* (echo.WrapHandler), the identity middleware with
// e.Use (echo.WrapMiddleware), and GET /orders for registered users only
// (echo.WrapMiddleware again). Echo adapts net/http middleware itself, so
// there is no glue. Codes are printed to stderr.
//
//	go run ./echo
package main

import (
	"log"

	"github.com/labstack/echo/v5"

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
	if err := routes(svc).Start(":8080"); err != nil {
		log.Fatal(err)
	}
}

func routes(svc *simpleuser.Service) *echo.Echo {
	e := echo.New()
	e.Use(echo.WrapMiddleware(middleware.Identity(svc, middleware.Options{})))
	e.Any("/api/*", echo.WrapHandler(handlers.New(svc, handlers.Options{})))
	e.GET("/orders", orders, echo.WrapMiddleware(middleware.RequireRegistered))
	return e
}

// orders answers the registered user's orders.
func orders(c *echo.Context) error {
	u, err := simpleuser.CurrentUser(c.Request().Context()) // loaded once per request: the guard's load
	if err != nil {
		envelope.Error(c.Response(), c.Request(), nil, err)
		return nil
	}
	envelope.OK(c.Response(), map[string]any{"userId": u.ID, "orders": []string{}})
	return nil
}
