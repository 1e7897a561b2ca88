package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestFactorFlags: passkeys are on by default, their relying party
// localhost and origin http://localhost:PORT taken from a loopback or
// all-interfaces -addr; given flags win (an id alone means https://ID, an
// origin alone names the id); another -addr needs them; -passkeys=false
// turns them off; a relying party the kit refuses stops the app with the
// field at fault. -secret and -mfa-issuer reach the service.
func TestFactorFlags(t *testing.T) {
	tests := []struct {
		args    []string
		rpID    string
		origins string
	}{
		{nil, "localhost", "http://localhost:8080"},
		{[]string{"-addr", "127.0.0.1:9000"}, "localhost", "http://localhost:9000"},
		{[]string{"-addr", "[::1]:9001"}, "localhost", "http://localhost:9001"},
		{[]string{"-addr", "0.0.0.0:80"}, "localhost", "http://localhost:80"},
		{[]string{"-addr", "192.0.2.1:443", "-passkey-rp-id", "example.com"}, "example.com", "https://example.com"},
		{[]string{"-addr", "192.0.2.1:443", "-passkey-origins", "https://app.example.com/ , https://login.app.example.com"}, "app.example.com", "https://app.example.com https://login.app.example.com"},
		{[]string{"-passkey-rp-id", "example.com", "-passkey-origins", "https://app.example.com"}, "example.com", "https://app.example.com"},
	}
	for _, tc := range tests {
		a := newTestApp(t, tc.args...)
		p := a.Service.Config().Passkeys
		if a.Service.Passkeys() == nil || p.RPID != tc.rpID || strings.Join(p.Origins, " ") != tc.origins || p.RPName != "simpleuser example" {
			t.Errorf("%v: passkeys %+v", tc.args, p)
		}
	}
	if a := newTestApp(t, "-passkeys=false"); a.Service.Passkeys() != nil {
		t.Error("-passkeys=false left passkeys on")
	}
	a := newTestApp(t, "-secret", "0123456789abcdef0123456789abcdef", "-mfa-issuer", "Acme")
	if c := a.Service.Config(); string(c.Secret) != "0123456789abcdef0123456789abcdef" || a.Service.MFA().Config().Issuer != "Acme" {
		t.Errorf("secret %q, issuer %q", c.Secret, a.Service.MFA().Config().Issuer)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "192.0.2.1:8080"}, "-passkey-rp-id"},
		{[]string{"-passkey-rp-id", "example.com", "-passkey-origins", "https://evil.example"}, "Origins"},
		{[]string{"-passkey-origins", "http://example.com"}, "Origins"},
		{[]string{"-passkey-origins", "not an origin"}, "-passkey-origins"},
	} {
		s, err := parseFlags(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}
