package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/smtptest"
	"github.com/simpleuser/simpleuser/mail"
)

func baseConfig() mail.Config {
	return mail.Config{Host: "127.0.0.1", Security: mail.NoTLS, From: "no-reply@example.com", AppName: "Example"}
}

// Each purpose has its own built-in English message, with the app name,
// the code and the lifetime in minutes in the subject or the bodies.
func TestBuiltInMessagesPerPurpose(t *testing.T) {
	s, err := mail.New(baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // subject, a phrase of the body
		hooks.PurposeLogin:         {"123456 is your Example sign-in code", "sign in to Example"},
		hooks.PurposeResetPassword: {"Your Example password reset code", "choose a new password"},
		hooks.PurposeChangeEmail:   {"Confirm your new email address for Example", "make ada@example.com the email address"},
		hooks.PurposeUnregister:    {"Confirm deleting your Example account", "delete your Example account"},
	}
	for purpose, w := range want {
		r, err := s.Render(hooks.SendCodeRequest{Email: "ada@example.com", Purpose: purpose, TTL: 15 * time.Minute}, "123456")
		if err != nil {
			t.Fatalf("%s: %v", purpose, err)
		}
		if r.Subject != w[0] {
			t.Errorf("%s: subject %q, want %q", purpose, r.Subject, w[0])
		}
		for _, body := range []string{r.Text, r.HTML} {
			for _, part := range []string{w[1], "123456", "expires in 15 minutes"} {
				if !strings.Contains(body, part) {
					t.Errorf("%s: body lacks %q:\n%s", purpose, part, body)
				}
			}
		}
		if r.Language != "en" {
			t.Errorf("%s: language %q", purpose, r.Language)
		}
	}
	// The lifetime rounds up to whole minutes; singular for one; absent without a TTL.
	for ttl, phrase := range map[time.Duration]string{90 * time.Second: "expires in 2 minutes", time.Minute: "expires in 1 minute.", 0: ""} {
		r, _ := s.Render(hooks.SendCodeRequest{Purpose: hooks.PurposeLogin, TTL: ttl}, "1")
		if phrase == "" && strings.Contains(r.Text, "expires") || phrase != "" && !strings.Contains(r.Text, phrase) {
			t.Errorf("TTL %v: text %q, want %q", ttl, r.Text, phrase)
		}
	}
	if _, err := s.Render(hooks.SendCodeRequest{Purpose: "Other"}, "1"); err == nil {
		t.Error("an unknown purpose rendered")
	}
}

var german = mail.Messages{
	hooks.PurposeLogin:         {Subject: "{{.Code}} ist Ihr Anmeldecode für {{.AppName}}", Text: "Code: {{.Code}}, gültig {{.Minutes}} Minuten.", HTML: "<p lang={{.Language}}>Code: <b>{{.Code}}</b></p>"},
	hooks.PurposeResetPassword: {Subject: "Passwort zurücksetzen", Text: "Code: {{.Code}}"},
	hooks.PurposeChangeEmail:   {Subject: "Neue Adresse bestätigen", Text: "Code: {{.Code}}"},
	hooks.PurposeUnregister:    {Subject: "Konto löschen", Text: "Code: {{.Code}}"},
}

// The language is the best match of Accept-Language among English and the
// app's translations (a regional variant matches its language; q-values
// order the choices); English when nothing matches well (another script of
// the language is not a match).
func TestLanguageFromAcceptLanguage(t *testing.T) {
	cfg := baseConfig()
	cfg.Translations = map[string]mail.Messages{"de": german, "zh-Hant": german}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for al, want := range map[string]string{
		"gsw":                       "de", // Swiss German reads German
		"zh-TW":                     "zh-Hant",
		"zh-CN":                     "en", // a Simplified Chinese reader is not given Traditional
		"zh-CN, de;q=0.5":           "de",
		"":                          "en",
		"de":                        "de",
		"de-CH, en;q=0.5":           "de",
		"fr-FR, de;q=0.8, en;q=0.5": "de",
		"en;q=0.9, de;q=0.1":        "en",
		"fr, ja":                    "en",
		"*":                         "en",
		"!!garbage;;q=x":            "en",
	} {
		r, err := s.Render(hooks.SendCodeRequest{Purpose: hooks.PurposeLogin, AcceptLanguage: al, TTL: 5 * time.Minute}, "654321")
		if err != nil {
			t.Fatal(err)
		}
		if r.Language != want {
			t.Errorf("Accept-Language %q: %s, want %s", al, r.Language, want)
		}
		if want == "de" && (r.Subject != "654321 ist Ihr Anmeldecode für Example" || r.Text != "Code: 654321, gültig 5 Minuten.") {
			t.Errorf("German message: %q / %q", r.Subject, r.Text)
		}
	}
}

// A German message travels with its language header and its subject
// encoded for non-ASCII (RFC 2047), decoded intact by the receiver.
func TestTranslatedDelivery(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSender(t, srv.URL("", ""), func(c *mail.Config) { c.Translations = map[string]mail.Messages{"de": german} })
	req := loginReq("jürgen@bücher.example")
	req.AcceptLanguage = "de-DE,de;q=0.9"
	code, err := s.SendCode(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, 1, time.Second)
	if len(m.To) != 1 || m.To[0] != "jürgen@xn--bcher-kva.example" {
		t.Errorf("recipient %q, want the domain in A-labels", m.To)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != code+" ist Ihr Anmeldecode für Example" || p.Header.Get("Content-Language") != "de" {
		t.Errorf("subject %q, Content-Language %q", p.Subject, p.Header.Get("Content-Language"))
	}
	if p.HTML != "<p lang=de>Code: <b>"+code+"</b></p>" {
		t.Errorf("HTML %q", p.HTML)
	}
}

// The app replaces one purpose's message; the others stay built in. The
// HTML template escapes what it inserts.
func TestAppOverriddenMessages(t *testing.T) {
	cfg := baseConfig()
	cfg.AppName = `Tom & <Jerry>`
	msgs := mail.DefaultMessages()
	msgs[hooks.PurposeLogin] = mail.Message{
		Subject: "Sign in to {{.AppName}}",
		Text:    "{{.Code}} for {{.Email}} ({{.Purpose}})",
		HTML:    `<a title="{{.AppName}}">{{.AppName}}</a> {{.Code}}`,
	}
	cfg.Messages = mail.Messages{hooks.PurposeLogin: msgs[hooks.PurposeLogin]}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Render(hooks.SendCodeRequest{Email: "ada@example.com", Purpose: hooks.PurposeLogin}, "777")
	if r.Subject != "Sign in to Tom & <Jerry>" || r.Text != "777 for ada@example.com (Login)" {
		t.Errorf("overridden text: %q / %q", r.Subject, r.Text)
	}
	if r.HTML != `<a title="Tom &amp; &lt;Jerry&gt;">Tom &amp; &lt;Jerry&gt;</a> 777` {
		t.Errorf("HTML not escaped: %q", r.HTML)
	}
	r, _ = s.Render(hooks.SendCodeRequest{Purpose: hooks.PurposeUnregister}, "777")
	if r.Subject != "Confirm deleting your Tom & <Jerry> account" {
		t.Errorf("the other purposes must keep the built-in message: %q", r.Subject)
	}
	// DefaultMessages is a copy: changing it changed nothing in the kit.
	if mail.DefaultMessages()[hooks.PurposeLogin].Subject == "Sign in to {{.AppName}}" {
		t.Error("DefaultMessages returned the kit's own map")
	}
}

// A subject template producing line breaks gives one line.
func TestSubjectIsOneLine(t *testing.T) {
	cfg := baseConfig()
	cfg.Messages = mail.Messages{hooks.PurposeLogin: {Subject: "Code\n{{.Code}}\r\nnow", Text: "x"}}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Render(hooks.SendCodeRequest{Purpose: hooks.PurposeLogin}, "42"); r.Subject != "Code 42 now" {
		t.Fatalf("subject %q", r.Subject)
	}
}

// The SecondFactor code (issue 16: an email code as a second factor) has a
// built-in English message; a translation may leave it out, and it is
// then sent in English, or give it.
func TestSecondFactorMessage(t *testing.T) {
	cfg := baseConfig()
	cfg.Translations = map[string]mail.Messages{"de": german}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := hooks.SendCodeRequest{Purpose: hooks.PurposeSecondFactor, AcceptLanguage: "de", TTL: 10 * time.Minute}
	r, err := s.Render(req, "246810")
	if err != nil || r.Language != "en" || r.Subject != "246810 is your Example verification code" || !strings.Contains(r.Text, "confirm it is you signing in") {
		t.Fatalf("SecondFactor without a German message: %+v, %v", r, err)
	}
	withIt := mail.Messages{hooks.PurposeSecondFactor: {Subject: "Bestätigungscode {{.Code}}", Text: "Code: {{.Code}}"}}
	for k, v := range german {
		withIt[k] = v
	}
	cfg.Translations = map[string]mail.Messages{"de": withIt}
	if s, err = mail.New(cfg); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Render(req, "246810"); err != nil || r.Language != "de" || r.Subject != "Bestätigungscode 246810" {
		t.Fatalf("SecondFactor with a German message: %+v, %v", r, err)
	}
}
