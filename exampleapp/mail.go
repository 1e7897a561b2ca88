package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mail"
)

// mailSettings are the mail delivery flags.
type mailSettings struct {
	smtpURL string // smtp://user:pass@host:587, smtps://..., smtp://host:1025?tls=none
	from    string // the sender address
	appName string // named in every message
}

func defineMailFlags(fs *flag.FlagSet, m *mailSettings) {
	fs.StringVar(&m.smtpURL, "smtp-url", getenv("SIMPLEUSER_SMTP_URL"), "mail codes through this SMTP server: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (TLS), smtp://127.0.0.1:1025?tls=none (local, plain); empty prints codes to stderr (SIMPLEUSER_SMTP_URL)")
	fs.StringVar(&m.from, "mail-from", getenv("SIMPLEUSER_MAIL_FROM"), "sender of the code mails, e.g. \"Example <no-reply@example.com>\"; required with -smtp-url (SIMPLEUSER_MAIL_FROM)")
	fs.StringVar(&m.appName, "app-name", envOr("SIMPLEUSER_APP_NAME", "simpleuser example"), "the app's name in the code mails (SIMPLEUSER_APP_NAME)")
}

// codeSender returns the SendCode hook: mail through -smtp-url when it is
// set (with -fixed-code, that code is mailed every time), the development
// sender printing codes to codeOut otherwise. The URL, which holds the
// SMTP password, is never logged.
func codeSender(s settings, log *slog.Logger, codeOut io.Writer) (func(context.Context, hooks.SendCodeRequest) (string, error), error) {
	if s.mail.smtpURL == "" {
		if s.mail.from != "" {
			return nil, errors.New("-mail-from is set but -smtp-url is not: codes would be printed, not mailed")
		}
		log.Warn("codes are printed to stderr (no -smtp-url): for development only")
		return devSender(s.fixedCode, codeOut), nil
	}
	if s.mail.from == "" {
		return nil, errors.New("-smtp-url needs -mail-from, the sender address of the code mails")
	}
	cfg, err := mail.ParseURL(s.mail.smtpURL)
	if err != nil {
		return nil, fmt.Errorf("-smtp-url: %w", err)
	}
	cfg.From, cfg.AppName = s.mail.from, s.mail.appName
	sender, err := mail.New(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("codes are mailed", slog.String("smtp", fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)),
		slog.String("security", string(cfg.Security)), slog.Bool("auth", cfg.Username != ""), slog.String("from", cfg.From))
	if fixed := s.fixedCode; fixed != "" {
		return func(ctx context.Context, req hooks.SendCodeRequest) (string, error) {
			return fixed, sender.Send(ctx, req, fixed)
		}, nil
	}
	return sender.SendCode, nil
}
