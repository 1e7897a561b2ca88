// Package mail delivers simpleuser's one-time codes by SMTP: a ready
// hooks.Hooks.SendCode hook (Sender.SendCode) built on
// github.com/wneessen/go-mail.
//
//	cfg, err := mail.ParseURL("smtp://user:pass@smtp.example.com:587") // STARTTLS required
//	cfg.From, cfg.AppName = "Example <no-reply@example.com>", "Example"
//	sender, err := mail.New(cfg)
//	svc, err := simpleuser.New(simpleuser.Config{Hooks: hooks.Hooks{SendCode: sender.SendCode}})
//
// The connection is STARTTLS (RFC 3207, required by default), implicit TLS
// (RFC 8314) or, for a development server on the same machine, plain; SMTP
// AUTH (RFC 4954) with the configured credentials; every delivery bounded
// by Config.Timeout. Each code is code.Generate's (uniform decimal digits
// from crypto/rand). The message has a text body (text/template) and an
// HTML alternative (html/template) per code purpose, in English built in or
// in a language the app supplies, chosen from the request's
// Accept-Language; the app may replace any of them (DefaultMessages gives
// the English sources to start from). Codes and passwords never reach a
// log or an error. See docs/mail.md.
package mail
