package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

// AppUser holds the app's own user fields, documented in the /me schema.
type AppUser struct {
	Age      int    `json:"age" description:"Age in years."`
	Internal string `json:"-"` // never exposed
}

func ExampleNew() {
	var lastCode string
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(ctx context.Context, req hooks.SendCodeRequest) (string, error) {
			lastCode = "123456" // a real app emails a random code
			return lastCode, nil
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := handlers.New(svc, handlers.Options{
		UserFields: AppUser{},
		MeFields: func(ctx context.Context, u *user.User) (map[string]any, error) {
			return map[string]any{"age": 18}, nil // read from the app's own table
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)

	call := func(method, path, body, token string) map[string]any {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-client-ssaid", "device-1")
		if token != "" {
			req.Header.Set("x-client-token", token)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		var env map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		return env
	}

	env := call("POST", "/api/send-code/send", `{"email":"ann@example.com","codePurpose":"Login"}`, "")
	fmt.Println("send-code:", env["statusCode"], env["message"])

	env = call("POST", "/api/login", `{"email":"ann@example.com","code":"`+lastCode+`"}`, "")
	token := env["data"].(map[string]any)["token"].(string)
	fmt.Println("login:", env["statusCode"], len(token))

	me := call("GET", "/api/user-center/me", "", token)["data"].(map[string]any)
	fmt.Println("me:", me["email"], me["registered"], me["age"])

	env = call("GET", "/api/nope", "", "")
	fmt.Println("unknown:", env["statusCode"], env["data"].(map[string]any)["code"])
	// Output:
	// send-code: 200 success
	// login: 200 64
	// me: ann@example.com true 18
	// unknown: 404 NOT_FOUND
}

func ExampleReadyz() {
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "123456", nil }},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", handlers.New(svc, handlers.Options{}))
	mux.Handle("GET /healthz", handlers.Healthz())
	mux.Handle("GET /readyz", handlers.Readyz(svc, handlers.ReadyOptions{}))

	for _, path := range []string{"/healthz", "/readyz"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		var env struct{ Data json.RawMessage }
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		fmt.Println(path, w.Code, string(env.Data))
	}
	// Output:
	// /healthz 200 {"status":"alive"}
	// /readyz 200 {"status":"ready","backends":{}}
}
