package simpleuser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/mfa"
)

// BenchmarkMe serves GET /api/user-center/me through the JSON API on the
// in-memory stores, for an account without MFA and for one with MFA on
// (signed in with its second factor): the factor state comes from the
// session, so the two should cost the same (issue 16).
//
//	go test -run '^$' -bench BenchmarkMe -benchmem .
func BenchmarkMe(b *testing.B) {
	for _, withMFA := range []bool{false, true} {
		name := "plain"
		if withMFA {
			name = "mfa"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			svc := benchSvc(b)
			if _, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bench@example.com", Password: "bench-password-1"}); err != nil {
				b.Fatal(err)
			}
			c := simpleuser.Client{SSAID: "device-1", IP: netip.MustParseAddr("203.0.113.7")}
			res, err := svc.Login(ctx, c, simpleuser.LoginInput{Email: "bench@example.com", Password: "bench-password-1"})
			if err != nil {
				b.Fatal(err)
			}
			if withMFA {
				if _, err := svc.MFA().SetEmailFactor(ctx, res.User, true); err != nil {
					b.Fatal(err)
				}
				if res, err = svc.Login(ctx, c, simpleuser.LoginInput{Email: "bench@example.com", Password: "bench-password-1"}); err != nil || !res.MFARequired {
					b.Fatal(res, err)
				}
				c.Token = res.Token
				if err := svc.MFA().SendCode(svc.WithClient(ctx, c), c.Token, nil); err != nil {
					b.Fatal(err)
				}
				done, err := svc.MFA().Complete(ctx, c.Token, nil, mfa.FactorEmail, "000000", false, "")
				if err != nil {
					b.Fatal(err)
				}
				res.Token = done.Token
			}
			h := handlers.New(svc, handlers.Options{})
			req := httptest.NewRequest(http.MethodGet, "/api/user-center/me", nil)
			req.Header.Set("x-client-ssaid", "device-1")
			req.Header.Set("x-client-token", res.Token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("/me: %d %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
