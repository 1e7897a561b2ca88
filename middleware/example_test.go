package middleware_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/middleware"
)

func ExampleIdentity() {
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "123456", nil }},
	})
	if err != nil {
		log.Fatal(err)
	}
	trusted, _ := middleware.ParseTrustedProxies("10.0.0.0/8")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		fmt.Println("ssaid:", simpleuser.SSAID(ctx), "ip:", simpleuser.ClientIP(ctx))
	})
	mux.Handle("GET /me", middleware.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := simpleuser.CurrentUser(r.Context())
		fmt.Println("anonymous user:", !u.Registered())
	})))
	h := middleware.Recover(nil)(middleware.Identity(svc, middleware.Options{TrustedProxies: trusted})(mux))

	req := httptest.NewRequest("GET", "/hello", nil)
	req.RemoteAddr = "10.0.0.7:51234" // a trusted proxy...
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("x-client-ssaid", "device-1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	req = httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("x-client-ssaid", "device-1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	req = httptest.NewRequest("GET", "/hello", nil)
	req.Header.Set("x-client-ssaid", "bad ssaid with spaces")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println("malformed ssaid:", w.Code)
	// Output:
	// ssaid: device-1 ip: 203.0.113.9
	// anonymous user: true
	// malformed ssaid: 400
}

func ExampleRequestID() {
	// The app's logger adds the request id to each line logged with the
	// request's context, as the kit's own lines do.
	logger := slog.New(logging.Handler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	})))
	trusted, _ := middleware.ParseTrustedProxies("10.0.0.0/8")
	h := middleware.RequestID(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "handling", "path", r.URL.Path)
	}))

	req := httptest.NewRequest("GET", "/orders", nil)
	req.RemoteAddr = "10.0.0.7:51234" // the trusted proxy names the request
	req.Header.Set("X-Request-Id", "edge-42")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	fmt.Println("response id:", w.Header().Get("X-Request-Id"))
	// Output:
	// level=INFO msg=handling path=/orders request_id=edge-42
	// response id: edge-42
}
