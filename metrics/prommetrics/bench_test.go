package prommetrics_test

// Benchmarks of what the observer costs: GET /api/user-center/me through
// the handlers on in-memory stores (the kit's own CPU, no round trips)
// with the default metrics.Nop and with this package's Observer, and the
// Observer's calls alone.
//
//	go test -run '^$' -bench . -benchmem ./metrics/prommetrics

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/metrics/prommetrics"
	"github.com/simpleuser/simpleuser/session"
)

func BenchmarkMe(b *testing.B) {
	for _, tc := range []struct {
		name string
		obs  func(b *testing.B) metrics.Observer
	}{
		{"nop", func(*testing.B) metrics.Observer { return nil }},
		{"prometheus", func(b *testing.B) metrics.Observer {
			o, err := prommetrics.New(prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			return o
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			svc, err := simpleuser.New(simpleuser.Config{Metrics: tc.obs(b), Logger: slog.New(slog.DiscardHandler),
				Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "000000", nil }}})
			if err != nil {
				b.Fatal(err)
			}
			u, err := svc.CreateUser(context.Background(), simpleuser.NewUser{Email: "bench@example.com"})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := svc.Sessions().Create(context.Background(), session.Data{UserID: u.ID})
			if err != nil {
				b.Fatal(err)
			}
			h := handlers.New(svc, handlers.Options{})
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("GET", "/api/user-center/me", nil)
				r.Header.Set("x-client-ssaid", "device-1")
				r.Header.Set("x-client-token", tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("GET /me: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}

func BenchmarkObserver(b *testing.B) {
	o, err := prommetrics.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.Request("GET /api/user-center/me", 200, time.Millisecond)
		}
	})
	b.Run("Login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.Login(metrics.MethodPassword, "", metrics.ResultSuccess)
		}
	})
	b.Run("nop Request", func(b *testing.B) {
		var n metrics.Observer = metrics.Nop{}
		b.ReportAllocs()
		for b.Loop() {
			n.Request("GET /api/user-center/me", 200, time.Millisecond)
		}
	})
}
