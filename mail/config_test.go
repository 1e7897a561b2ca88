package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mail"
)

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]mail.Config{
		"smtp://user:p%40ss@smtp.example.com:587":     {Host: "smtp.example.com", Port: 587, Security: mail.StartTLS, Username: "user", Password: "p@ss"},
		"smtp://smtp.example.com":                     {Host: "smtp.example.com", Security: mail.StartTLS},
		"smtps://u:p@smtp.example.com":                {Host: "smtp.example.com", Security: mail.ImplicitTLS, Username: "u", Password: "p"},
		"smtps://[::1]:2465/":                         {Host: "::1", Port: 2465, Security: mail.ImplicitTLS},
		"smtp://127.0.0.1:1025?tls=none":              {Host: "127.0.0.1", Port: 1025, Security: mail.NoTLS},
		"smtp://h?tls=starttls&auth=login&timeout=3s": {Host: "h", Security: mail.StartTLS, AuthMechanism: "LOGIN", Timeout: 3 * time.Second},
	} {
		got, err := mail.ParseURL(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if got.Host != want.Host || got.Port != want.Port || got.Security != want.Security || got.Username != want.Username ||
			got.Password != want.Password || got.AuthMechanism != want.AuthMechanism || got.Timeout != want.Timeout {
			t.Errorf("%s: %+v, want %+v", raw, got, want)
		}
	}
	for raw, part := range map[string]string{
		"http://h":                  "scheme",
		"smtp://":                   "no host",
		"smtp://h:0":                "port",
		"smtp://h:99999":            "port",
		"smtp://h/path":             "path",
		"smtps://h?tls=none":        "smtps",
		"smtp://h?tls=maybe":        "tls=",
		"smtp://h?timeout=-1s":      "timeout",
		"smtp://h?pool=3":           "unknown parameter",
		"smtp://u:hunter2@h:x":      "URL",
		"smtp://u:hunter2@h\x7f:25": "URL",
	} {
		_, err := mail.ParseURL(raw)
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("%q: %v, want an error about %s", raw, err, part)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error repeats the password: %v", raw, err)
		}
	}
}

// New refuses an invalid Config with an error naming the field; zero
// values get their defaults.
func TestConfigValidationNamesTheField(t *testing.T) {
	for field, mod := range map[string]func(*mail.Config){
		"Host":               func(c *mail.Config) { c.Host = "" },
		"Security":           func(c *mail.Config) { c.Security = "ssl" },
		"Port":               func(c *mail.Config) { c.Port = 70000 },
		"AuthMechanism":      func(c *mail.Config) { c.Username, c.AuthMechanism = "u", "NTLM" },
		"Username":           func(c *mail.Config) { c.Password = "p" },
		"Security is none":   func(c *mail.Config) { c.Host, c.Username, c.Password = "smtp.example.com", "u", "p" },
		"Timeout":            func(c *mail.Config) { c.Timeout = -time.Second },
		"From is required":   func(c *mail.Config) { c.From = "" },
		"From is not":        func(c *mail.Config) { c.From = "not an address" },
		"AppName":            func(c *mail.Config) { c.AppName = " " },
		"CodeLength":         func(c *mail.Config) { c.CodeLength = 65 },
		`Messages["Signup"]`: func(c *mail.Config) { c.Messages = mail.Messages{"Signup": {Subject: "s", Text: "t"}} },
		`["Login"].Subject`:  func(c *mail.Config) { c.Messages = mail.Messages{hooks.PurposeLogin: {Text: "t"}} },
		`["Login"].Text`:     func(c *mail.Config) { c.Messages = mail.Messages{hooks.PurposeLogin: {Subject: "s"}} },
		`["Login"].HTML`: func(c *mail.Config) {
			c.Messages = mail.Messages{hooks.PurposeLogin: {Subject: "s", Text: "t", HTML: "{{.Code"}}
		},
		`Messages["Login"]: Text`: func(c *mail.Config) {
			c.Messages = mail.Messages{hooks.PurposeLogin: {Subject: "s", Text: "{{.Nickname}}"}} // no such field
		},
		`Translations["de"] lacks the ResetPassword`: func(c *mail.Config) {
			c.Translations = map[string]mail.Messages{"de": {hooks.PurposeLogin: {Subject: "s", Text: "t"}}}
		},
		`Translations["xx-!"]`: func(c *mail.Config) { c.Translations = map[string]mail.Messages{"xx-!": german} },
		`Translations["en"]`:   func(c *mail.Config) { c.Translations = map[string]mail.Messages{"en": german} },
	} {
		cfg := baseConfig()
		mod(&cfg)
		_, err := mail.New(cfg)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming it", field, err)
		}
	}
	// Credentials in clear are allowed to a loopback host only.
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		cfg := baseConfig()
		cfg.Host, cfg.Username, cfg.Password = host, "u", "p"
		if _, err := mail.New(cfg); err != nil {
			t.Errorf("plain AUTH to %s: %v", host, err)
		}
	}
}
