package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/smtptest"
)

func TestMailFlags(t *testing.T) {
	s, err := parseFlags(nil)
	if err != nil || s.mail != (mailSettings{appName: "simpleuser example"}) {
		t.Fatalf("defaults %+v, %v", s.mail, err)
	}
	t.Setenv("SIMPLEUSER_SMTP_URL", "smtps://u:p@smtp.example.com")
	t.Setenv("SIMPLEUSER_MAIL_FROM", "a@example.com")
	t.Setenv("SIMPLEUSER_APP_NAME", "Shop")
	if s, _ = parseFlags(nil); s.mail != (mailSettings{"smtps://u:p@smtp.example.com", "a@example.com", "Shop"}) {
		t.Fatalf("from the environment %+v", s.mail)
	}
	s, _ = parseFlags([]string{"-smtp-url", "smtp://h:587", "-mail-from", "b@example.com", "-app-name", "X"})
	if s.mail != (mailSettings{"smtp://h:587", "b@example.com", "X"}) {
		t.Fatalf("flags over the environment %+v", s.mail)
	}
}

// A bad mail configuration stops the app at start with a message naming
// the flag, and never shows the SMTP password.
func TestMailConfigurationErrors(t *testing.T) {
	for _, c := range []struct {
		mail mailSettings
		want string
	}{
		{mailSettings{smtpURL: "smtp://u:hunter2@h:587"}, "-mail-from"},
		{mailSettings{from: "a@example.com"}, "-smtp-url"},
		{mailSettings{smtpURL: "smtp://u:hunter2@h:x", from: "a@example.com"}, "-smtp-url"},
		{mailSettings{smtpURL: "smtp://u:hunter2@smtp.example.com?tls=none", from: "a@example.com", appName: "A"}, "clear"},
		{mailSettings{smtpURL: "smtp://h", from: "not an address", appName: "A"}, "From"},
	} {
		_, err := newApp(context.Background(), settings{mail: c.mail, allowAnonymous: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%+v: %v, want an error about %s without the password", c.mail, err, c.want)
		}
	}
}

var mailedCode = regexp.MustCompile(`\n    (\d{6})\n`)

// The exampleapp run with -smtp-url and -mail-from mails the code (nothing
// printed): the test reads it from the mail the SMTP server received and
// signs in with it. The server requires AUTH, which the URL's credentials
// pass; the app's log names the server but not the password.
func TestExampleappMailsCodes(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "app", Password: "smtp-Secret-1"})
	var printed, logs bytes.Buffer
	s, err := parseFlags([]string{"-smtp-url", srv.URL("app", "smtp-Secret-1"), "-mail-from", "Example <no-reply@example.com>", "-app-name", "Example Shop"})
	if err != nil {
		t.Fatal(err)
	}
	s.allowAnonymous = true
	a, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(&logs, nil)), &printed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h := &harness{t: t, app: a}

	if c, _ := h.call("POST", "/api/send-code/send", "mail-dev", "", map[string]any{"email": "grace@example.com", "codePurpose": "Login"}); c != 200 {
		t.Fatalf("send-code: %d", c)
	}
	m := srv.Wait(t, 1, 5*time.Second)
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	code := mailedCode.FindStringSubmatch(p.Text)
	if code == nil || m.To[0] != "grace@example.com" || m.Authenticated != "app" || !strings.Contains(p.Subject, "Example Shop") {
		t.Fatalf("mail to %v (auth %q), subject %q:\n%s", m.To, m.Authenticated, p.Subject, p.Text)
	}
	c, data := h.call("POST", "/api/login", "mail-dev", "", map[string]any{"email": "grace@example.com", "code": code[1]})
	token, _ := data["token"].(string)
	if c != 200 || token == "" {
		t.Fatalf("login with the mailed code: %d %v", c, data)
	}
	if c, me := h.call("GET", "/api/user-center/me", "mail-dev", token, nil); c != 200 || me["email"] != "grace@example.com" {
		t.Fatalf("/me: %d %v", c, me)
	}
	if printed.Len() != 0 {
		t.Errorf("codes printed although mailed: %q", printed.String())
	}
	if l := logs.String(); !strings.Contains(l, "codes are mailed") || !strings.Contains(l, srv.Addr()) || strings.Contains(l, "smtp-Secret-1") || strings.Contains(l, code[1]) {
		t.Errorf("start-up log must name the server, never the password or a code:\n%s", l)
	}
}

// Without -smtp-url the development sender prints each code to stderr, as
// before.
func TestExampleappPrintsCodesWithoutSMTP(t *testing.T) {
	var printed bytes.Buffer
	a, err := newApp(context.Background(), settings{allowAnonymous: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), &printed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h := &harness{t: t, app: a}
	if c, _ := h.call("POST", "/api/send-code/send", "print-dev", "", map[string]any{"email": "lin@example.com", "codePurpose": "Login"}); c != 200 {
		t.Fatalf("send-code: %d", c)
	}
	if !regexp.MustCompile(`^\[dev code sender\] Login code for lin@example.com: \d{6}\n$`).MatchString(printed.String()) {
		t.Fatalf("printed %q", printed.String())
	}
}
