package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/realbackends"
	"github.com/simpleuser/simpleuser/internal/smtptest"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/mail"
	"github.com/simpleuser/simpleuser/password"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// switchable is a SendCode hook delivering through whichever Sender it
// currently holds (the SMTP server "comes back" between two requests).
type switchable struct{ cur atomic.Pointer[mail.Sender] }

func (w *switchable) SendCode(ctx context.Context, r hooks.SendCodeRequest) (string, error) {
	return w.cur.Load().SendCode(ctx, r)
}

// newService returns a service (memory or, with real, PostgreSQL and
// Redis) whose SendCode is hook, logging at debug level into logs.
func newService(t *testing.T, real bool, hook func(context.Context, hooks.SendCodeRequest) (string, error), logs *syncBuffer) *simpleuser.Service {
	t.Helper()
	cfg := simpleuser.Config{
		Hooks:  hooks.Hooks{SendCode: hook},
		Argon2: password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if real {
		realbackends.Configure(t, &cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

var codeInText = regexp.MustCompile(`\n    (\d{6})\n`)

// codeFrom returns the code of the n-th message srv received.
func codeFrom(t *testing.T, srv *smtptest.Server, n int) string {
	t.Helper()
	p, err := srv.Wait(t, n, 5*time.Second).Parse()
	if err != nil {
		t.Fatal(err)
	}
	m := codeInText.FindStringSubmatch(p.Text)
	if m == nil {
		t.Fatalf("no code in message %d:\n%s", n, p.Text)
	}
	return m[1]
}

// A delivery the SMTP server refuses answers 502 SEND_FAILED and gives the
// send cooldowns back: the person retries at once (not 429) when the
// server is back, receives the code and signs in with it. The cooldown
// itself is real: a third immediate send is 429.
func TestFailedDeliveryReleasesTheCooldown(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "postgres+redis"}[real], func(t *testing.T) {
			refusing := smtptest.Start(t, smtptest.Options{Refuse: true})
			working := smtptest.Start(t, smtptest.Options{})
			var hook switchable
			hook.cur.Store(newSender(t, refusing.URL("", ""), nil))
			svc := newService(t, real, hook.SendCode, &syncBuffer{})
			ctx := context.Background()
			c := simpleuser.Client{SSAID: "mail-dev-1", IP: netip.MustParseAddr("203.0.113.7")}

			err := svc.SendCode(ctx, c, "ada@example.com", hooks.PurposeLogin)
			if e := simpleuser.AsError(err); e == nil || e.Status != http.StatusBadGateway || e.Code != "SEND_FAILED" {
				t.Fatalf("refused delivery: %v, want 502 SEND_FAILED", err)
			}
			hook.cur.Store(newSender(t, working.URL("", ""), nil))
			if err := svc.SendCode(ctx, c, "ada@example.com", hooks.PurposeLogin); err != nil {
				t.Fatalf("immediate retry after a failed delivery: %v, want success", err)
			}
			res, err := svc.Login(ctx, c, simpleuser.LoginInput{Email: "ada@example.com", Code: codeFrom(t, working, 1)})
			if err != nil || res.Token == "" {
				t.Fatalf("login with the mailed code: %v", err)
			}
			err = svc.SendCode(ctx, c, "ada@example.com", hooks.PurposeLogin)
			if e := simpleuser.AsError(err); e == nil || e.Status != http.StatusTooManyRequests {
				t.Fatalf("third send within the cooldown: %v, want 429", err)
			}
		})
	}
}

// Over HTTP: the Accept-Language of POST /send-code/send chooses the
// message's language; a refused AUTH is 502 SEND_FAILED in the envelope.
func TestHTTPSendCodeThroughSMTP(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: testUser, Password: testPass})
	var hook switchable
	hook.cur.Store(newSender(t, srv.URL(testUser, testPass), func(c *mail.Config) {
		c.RootCAs = srv.RootCAs
		c.Translations = map[string]mail.Messages{"de": german}
	}))
	svc := newService(t, false, hook.SendCode, &syncBuffer{})
	api := handlers.New(svc, handlers.Options{Prefix: "/api"})
	send := func(ssaid, email, lang string) (int, map[string]any) {
		body := strings.NewReader(`{"email":"` + email + `","codePurpose":"Login"}`)
		r := httptest.NewRequest("POST", "/api/send-code/send", body)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("x-client-ssaid", ssaid)
		r.Header.Set("Accept-Language", lang)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		var env map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &env)
		return w.Code, env
	}
	if code, env := send("http-dev-1", "ada@example.com", "de-AT, en;q=0.3"); code != 200 {
		t.Fatalf("send-code: %d %v", code, env)
	}
	p, err := srv.Wait(t, 1, 5*time.Second).Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Get("Content-Language") != "de" || !strings.Contains(p.Subject, "Anmeldecode") {
		t.Fatalf("Accept-Language de-AT gave %q: %q", p.Header.Get("Content-Language"), p.Subject)
	}

	hook.cur.Store(newSender(t, srv.URL(testUser, "not-the-password"), func(c *mail.Config) { c.RootCAs = srv.RootCAs }))
	code, env := send("http-dev-2", "bob@example.com", "")
	data, _ := env["data"].(map[string]any)
	if code != http.StatusBadGateway || env["statusCode"] != float64(502) || data["code"] != "SEND_FAILED" {
		t.Fatalf("refused AUTH: %d %v, want 502 SEND_FAILED", code, env)
	}
	if len(srv.Messages()) != 1 {
		t.Fatalf("%d messages, want only the first", len(srv.Messages()))
	}
}

// Neither a code nor the SMTP password reaches the logs, through
// successful and failed deliveries (refused AUTH, a hung server); the
// failures are logged.
func TestCodesAndPasswordsNeverLogged(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: testUser, Password: testPass})
	hung := smtptest.Start(t, smtptest.Options{Hang: true})
	logs := &syncBuffer{}
	var hook switchable
	var sent []string
	record := func(ctx context.Context, r hooks.SendCodeRequest) (string, error) {
		c, err := hook.SendCode(ctx, r)
		if c != "" {
			sent = append(sent, c)
		}
		return c, err
	}
	svc := newService(t, false, record, logs)
	ctx := logging.WithRequestID(context.Background(), "rid-mail")
	tls := func(c *mail.Config) { c.RootCAs = srv.RootCAs }
	steps := []struct {
		sender *mail.Sender
		ok     bool
	}{
		{newSender(t, srv.URL(testUser, testPass), tls), true},
		{newSender(t, srv.URL(testUser, "wrong-"+testPass), tls), false},
		{newSender(t, "smtp://"+hung.Addr(), func(c *mail.Config) { c.Timeout = 300 * time.Millisecond }), false},
		{newSender(t, srv.URL(testUser, testPass), tls), true},
	}
	for i, st := range steps {
		hook.cur.Store(st.sender)
		c := simpleuser.Client{SSAID: fmt.Sprintf("log-dev-%d", i), IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)})}
		err := svc.SendCode(ctx, c, fmt.Sprintf("log%d@example.com", i), hooks.PurposeResetPassword)
		if (err == nil) != st.ok {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	out := logs.String()
	if len(sent) != 2 || strings.Count(out, "code delivery failed") != 2 {
		t.Fatalf("%d codes sent, logs:\n%s", len(sent), out)
	}
	for _, secret := range append(sent, testPass, "wrong-"+testPass) {
		if strings.Contains(out, secret) {
			t.Fatalf("%q reached the logs:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "535") || !strings.Contains(out, "i/o timeout") {
		t.Errorf("the failures' causes are missing from the logs:\n%s", out)
	}
}
