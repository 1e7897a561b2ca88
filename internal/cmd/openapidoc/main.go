// Command openapidoc writes the OpenAPI document that handlers.New serves
// at {prefix}/openapi.json, for linting it (scripts/lint-openapi.sh) or
// reading it without running a server.
//
//	go run ./internal/cmd/openapidoc [-prefix /api] [-app-fields] > openapi.json
//
// -app-fields adds sample app fields to the User schema, a sample app
// error code and a license, as an app's hooks.MeFieldsType and
// Options.ErrorCodes and License do.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
)

// appFields are sample app fields of GET /user-center/me.
type appFields struct {
	Nickname string   `json:"nickname" description:"The user's display name."`
	Level    int      `json:"level" minimum:"0" description:"Game level."`
	Badges   []string `json:"badges,omitempty" description:"Badges earned."`
}

func main() {
	prefix := flag.String("prefix", "", "Options.Prefix (default /api)")
	app := flag.Bool("app-fields", false, "add sample app fields, an app error code and a license")
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Parse()
	if err := run(*prefix, *app, *out); err != nil {
		fmt.Fprintln(os.Stderr, "openapidoc:", err)
		os.Exit(1)
	}
}

func run(prefix string, app bool, out string) error {
	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{
		SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "", nil },
	}})
	if err != nil {
		return err
	}
	opts := handlers.Options{Prefix: prefix}
	if app {
		opts.UserFields = appFields{}
		opts.ErrorCodes = []string{"NICKNAME_TAKEN"}
		opts.License = handlers.License{Name: "MIT", Identifier: "MIT"}
	}
	h := handlers.New(svc, opts)
	path := "/api/openapi.json"
	switch prefix {
	case "":
	case "/", "-":
		path = "/openapi.json"
	default:
		path = prefix + "/openapi.json"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if w.Code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, w.Code, w.Body)
	}
	var dst io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	_, err = dst.Write(w.Body.Bytes())
	return err
}
