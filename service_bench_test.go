package simpleuser_test

// Benchmarks of the service's hot flows on in-memory stores (the kit's own
// CPU cost, no round trips): resolving the current user, and a password
// login (dominated by one argon2id verification, m=19 MiB t=2 p=1).
//
//	go test -run '^$' -bench . -benchmem .

import (
	"context"
	"net/netip"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/session"
)

func benchSvc(b *testing.B) *simpleuser.Service {
	b.Helper()
	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) {
		return "000000", nil
	}}})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

func BenchmarkResolveUser(b *testing.B) {
	ctx := context.Background()
	ip := netip.MustParseAddr("203.0.113.7")
	b.Run("token", func(b *testing.B) {
		svc := benchSvc(b)
		u, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bench@example.com"})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := svc.Sessions().Create(ctx, session.Data{UserID: u.ID})
		if err != nil {
			b.Fatal(err)
		}
		c := simpleuser.Client{SSAID: "device-1", Token: tok, IP: ip}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.ResolveUser(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("anonymous", func(b *testing.B) {
		svc := benchSvc(b)
		c := simpleuser.Client{SSAID: "device-1", IP: ip}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.ResolveUser(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLoginPassword(b *testing.B) {
	ctx := context.Background()
	svc := benchSvc(b)
	if _, err := svc.CreateUser(ctx, simpleuser.NewUser{Email: "bench@example.com", Password: "bench-password-1"}); err != nil {
		b.Fatal(err)
	}
	c := simpleuser.Client{SSAID: "device-1", IP: netip.MustParseAddr("203.0.113.7")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Login(ctx, c, simpleuser.LoginInput{Email: "bench@example.com", Password: "bench-password-1"}); err != nil {
			b.Fatal(err)
		}
	}
}
