package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/smtptest"
	"github.com/simpleuser/simpleuser/mail"
)

const (
	testUser = "mailer"
	testPass = "s3cret-Pa55"
)

// newSender returns a Sender for srv's URL with mod applied to the config.
func newSender(t *testing.T, rawURL string, mod func(*mail.Config)) *mail.Sender {
	t.Helper()
	cfg, err := mail.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Example <no-reply@example.com>"
	cfg.AppName = "Example"
	cfg.Timeout = 5 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loginReq(email string) hooks.SendCodeRequest {
	return hooks.SendCodeRequest{Email: email, Purpose: hooks.PurposeLogin, TTL: 10 * time.Minute}
}

// checkDelivered checks the one message srv received: envelope, headers,
// the code in subject, text and HTML, the lifetime.
func checkDelivered(t *testing.T, srv *smtptest.Server, code, to string) smtptest.Message {
	t.Helper()
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "no-reply@example.com" || len(m.To) != 1 || m.To[0] != to {
		t.Fatalf("envelope from %q to %q", m.From, m.To)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("SendCode returned %q, want 6 digits", code)
	}
	if p.Subject != code+" is your Example sign-in code" {
		t.Errorf("subject %q", p.Subject)
	}
	if !strings.Contains(p.Text, "\n    "+code+"\n") || !strings.Contains(p.Text, "expires in 10 minutes") {
		t.Errorf("text body lacks the code or its lifetime:\n%s", p.Text)
	}
	if !strings.Contains(p.HTML, ">"+code+"</p>") || !strings.Contains(p.HTML, `<html lang="en">`) {
		t.Errorf("HTML body lacks the code or the language:\n%s", p.HTML)
	}
	if got := p.Header.Get("Content-Language"); got != "en" {
		t.Errorf("Content-Language %q, want en", got)
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	return m
}

func TestDeliveryPlain(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv.URL("", ""), nil)
	code, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if m := checkDelivered(t, srv, code, "ada@example.com"); m.TLS || m.Authenticated != "" {
		t.Fatalf("plain delivery: TLS %v, auth %q", m.TLS, m.Authenticated)
	}
}

// Plain with credentials works to a loopback host (a local development
// server), and the message is sent only after AUTH succeeded.
func TestDeliveryPlainWithAuthOnLoopback(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: testUser, Password: testPass})
	s := newSender(t, srv.URL(testUser, testPass), nil)
	code, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if m := checkDelivered(t, srv, code, "ada@example.com"); m.Authenticated != testUser {
		t.Fatalf("authenticated as %q", m.Authenticated)
	}
}

func TestDeliveryStartTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: testUser, Password: testPass})
	url := srv.URL(testUser, testPass)
	if !strings.HasPrefix(url, "smtp://") || strings.Contains(url, "tls=") {
		t.Fatalf("URL %s: want the default smtp:// form (STARTTLS)", url)
	}
	s := newSender(t, url, func(c *mail.Config) { c.RootCAs = srv.RootCAs })
	code, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if m := checkDelivered(t, srv, code, "ada@example.com"); !m.TLS || m.Authenticated != testUser {
		t.Fatalf("STARTTLS delivery: TLS %v, auth %q", m.TLS, m.Authenticated)
	}
}

// The server's certificate is verified: without the test CA in RootCAs
// the system roots refuse it, and nothing is sent.
func TestStartTLSVerifiesTheCertificate(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true})
	s := newSender(t, srv.URL("", ""), nil)
	_, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v, want a certificate error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent over an unverified connection", n)
	}
}

// STARTTLS is required by default: a server that does not offer it gets
// nothing, not even the credentials.
func TestStartTLSRequired(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, "smtp://"+srv.Addr(), nil)
	_, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("server without STARTTLS: %v, want an error naming STARTTLS", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent in clear", n)
	}
}

func TestDeliveryImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true, Username: testUser, Password: testPass})
	url := srv.URL(testUser, testPass)
	if !strings.HasPrefix(url, "smtps://") {
		t.Fatalf("URL %s, want smtps://", url)
	}
	s := newSender(t, url, func(c *mail.Config) { c.RootCAs = srv.RootCAs })
	code, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if m := checkDelivered(t, srv, code, "ada@example.com"); !m.TLS || m.Authenticated != testUser {
		t.Fatalf("implicit TLS delivery: TLS %v, auth %q", m.TLS, m.Authenticated)
	}
}

func TestRefusedAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: testUser, Password: testPass})
	const wrong = "wrong-Pa55word"
	s := newSender(t, srv.URL(testUser, wrong), func(c *mail.Config) { c.RootCAs = srv.RootCAs })
	code, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err == nil || code != "" {
		t.Fatalf("refused AUTH: code %q, err %v; want an error and no code", code, err)
	}
	if !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("error %q does not say the server refused AUTH (535)", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("the error repeats the password: %q", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted without AUTH", n)
	}
}

func TestRefusedMessage(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Refuse: true})
	s := newSender(t, srv.URL("", ""), nil)
	if _, err := s.SendCode(context.Background(), loginReq("ada@example.com")); err == nil || !strings.Contains(err.Error(), "554") {
		t.Fatalf("refused message: %v, want the server's 554", err)
	}
}

// A server that accepts the connection and never answers gives an error
// within Config.Timeout, for each security mode, and a cancelled request
// stops waiting at once.
func TestHangingServer(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hang: true})
	const timeout = 400 * time.Millisecond
	for _, url := range []string{
		"smtp://" + srv.Addr() + "?tls=none",
		"smtp://" + srv.Addr(),
		"smtps://" + srv.Addr(),
	} {
		s := newSender(t, url, func(c *mail.Config) { c.Timeout = timeout })
		start := time.Now()
		_, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s: a hanging server gave no error", url)
		}
		if took < timeout-50*time.Millisecond || took > timeout+time.Second {
			t.Fatalf("%s: error after %v, want about %v: %v", url, took, timeout, err)
		}
	}
	if srv.Connections() != 3 {
		t.Fatalf("%d connections reached the server, want 3", srv.Connections())
	}

	s := newSender(t, "smtp://"+srv.Addr()+"?tls=none", func(c *mail.Config) { c.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.SendCode(ctx, loginReq("ada@example.com"))
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("cancelled send: %v after %v, want an error at once", err, took)
	}
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled send: %v does not say so", err)
	}
}

// A server nobody listens on fails fast, with the address in the error.
func TestUnreachableServer(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	addr := srv.Addr()
	s := newSender(t, "smtp://"+addr+"?tls=none", nil)
	srv.Close()
	_, err := s.SendCode(context.Background(), loginReq("ada@example.com"))
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("closed server: %v, want an error naming %s", err, addr)
	}
}
