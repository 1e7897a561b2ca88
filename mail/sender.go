package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/net/idna"
	"golang.org/x/text/language"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
)

// Sender delivers one-time codes by SMTP. It is safe for concurrent use;
// each delivery opens its own connection (no pool: a code is one message,
// and a connection held open between sends would need keep-alive).
type Sender struct {
	cfg     Config
	tls     *tls.Config
	opts    []gomail.Option
	locales []*locale // English first: the matcher's default
	matcher language.Matcher
}

// New validates cfg (errors name the field), parses every template and
// tries it on sample data, and returns a Sender. It does not connect.
func New(cfg Config) (*Sender, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg}
	en := DefaultMessages()
	for p, m := range cfg.Messages {
		en[p] = m
	}
	for p := range cfg.Messages {
		if !validPurpose(p) {
			return nil, fmt.Errorf("mail: Config.Messages[%q]: not a code purpose (Login, ResetPassword, ChangeEmail, Unregister)", p)
		}
	}
	l, err := compileLocale(language.English, "Messages", en)
	if err != nil {
		return nil, err
	}
	s.locales = append(s.locales, l)
	tags := []language.Tag{language.English}
	for name, ms := range cfg.Translations {
		field := fmt.Sprintf("Translations[%q]", name)
		tag, err := language.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("mail: Config.%s: not a BCP 47 language tag: %v", field, err)
		}
		if tag == language.English {
			return nil, fmt.Errorf("mail: Config.%s: English is built in; change it with Config.Messages", field)
		}
		l, err := compileLocale(tag, field, ms)
		if err != nil {
			return nil, err
		}
		s.locales = append(s.locales, l)
		tags = append(tags, tag)
	}
	s.matcher = language.NewMatcher(tags)

	s.tls = &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	s.opts = []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithoutNoop()}
	if cfg.HELO != "" {
		s.opts = append(s.opts, gomail.WithHELO(cfg.HELO))
	}
	switch cfg.Security {
	case StartTLS:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(s.tls))
	default: // ImplicitTLS: the dialer does the handshake; NoTLS: none
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		s.opts = append(s.opts, gomail.WithSMTPAuth(gomail.SMTPAuthType(cfg.AuthMechanism)),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return s, nil
}

// SendCode is a hooks.Hooks.SendCode hook: it generates a code of
// Config.CodeLength digits (code.Generate), mails it to req.Email in the
// language chosen from req.AcceptLanguage, and returns it. An error means
// nothing was delivered (the service answers 502 SEND_FAILED and gives the
// send cooldowns back); it names the stage that failed (dial, TLS, AUTH,
// the server's refusal) and never holds the code or the password.
func (s *Sender) SendCode(ctx context.Context, req hooks.SendCodeRequest) (string, error) {
	c, err := code.Generate(s.cfg.CodeLength)
	if err != nil {
		return "", err
	}
	if err := s.Send(ctx, req, c); err != nil {
		return "", err
	}
	return c, nil
}

// Send mails codeValue, a code the caller chose, as SendCode would.
func (s *Sender) Send(ctx context.Context, req hooks.SendCodeRequest, codeValue string) error {
	r, err := s.Render(req, codeValue)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail: From: %w", err)
	}
	if err := msg.To(asciiDomain(req.Email)); err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(r.Subject)
	msg.SetGenHeader("Content-Language", r.Language) // RFC 3282
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	if r.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	}
	return s.deliver(ctx, msg, req.Purpose)
}

// Render returns the message Send would mail for req and codeValue: the
// language chosen from req.AcceptLanguage, the subject and the bodies.
// Errors: an unknown purpose, a template failing on this data.
func (s *Sender) Render(req hooks.SendCodeRequest, codeValue string) (Rendered, error) {
	l := s.locale(req.AcceptLanguage)
	m, ok := l.messages[req.Purpose]
	if !ok && slices.Contains(optionalPurposes, req.Purpose) {
		l = s.locales[0] // a translation without it: English
		m, ok = l.messages[req.Purpose]
	}
	if !ok {
		return Rendered{}, fmt.Errorf("mail: unknown code purpose %q", req.Purpose)
	}
	d := Data{
		AppName:  s.cfg.AppName,
		Code:     codeValue,
		Minutes:  int((req.TTL + time.Minute - 1) / time.Minute),
		Purpose:  req.Purpose,
		Email:    req.Email,
		Language: l.tag.String(),
	}
	if req.TTL <= 0 {
		d.Minutes = 0
	}
	r, err := m.render(d)
	if err != nil {
		return r, fmt.Errorf("mail: %s[%q]: %w", l.tag, req.Purpose, err)
	}
	return r, nil
}

// locale returns the best match of an Accept-Language value among the
// configured languages (golang.org/x/text/language's Matcher: BCP 47 tags
// with CLDR's language distances, so "de-CH" and "gsw" read German, "pt-BR"
// Portuguese), English when no language matches with High confidence or
// better: a match only in a related script ("zh-CN" for "zh-Hant",
// confidence Low) would be harder to read than English.
func (s *Sender) locale(acceptLanguage string) *locale {
	if len(s.locales) == 1 || acceptLanguage == "" {
		return s.locales[0]
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return s.locales[0]
	}
	_, i, conf := s.matcher.Match(tags...)
	if conf < language.High {
		return s.locales[0]
	}
	return s.locales[i]
}

// deliver dials, says the message and quits, all within Config.Timeout
// (or the context's earlier deadline).
func (s *Sender) deliver(ctx context.Context, msg *gomail.Msg, purpose string) error {
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	d := &delivery{ctx: ctx, deadline: deadline, tls: s.tlsFor()}
	defer d.close() // go-mail leaves a connection open when EHLO, STARTTLS or AUTH fails
	opts := append(s.opts[:len(s.opts):len(s.opts)],
		gomail.WithTimeout(max(time.Until(deadline), time.Millisecond)),
		gomail.WithDialContextFunc(d.dial))
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		return fmt.Errorf("mail: sending the %s code through %s: %w", purpose, net.JoinHostPort(s.cfg.Host, fmt.Sprint(s.cfg.Port)), err)
	}
	return nil
}

// tlsFor returns the TLS configuration of an ImplicitTLS dial, nil otherwise.
func (s *Sender) tlsFor() *tls.Config {
	if s.cfg.Security == ImplicitTLS {
		return s.tls
	}
	return nil
}

// delivery is the connection state of one delivery.
type delivery struct {
	ctx      context.Context // ends at the deadline or when the caller cancels
	deadline time.Time
	tls      *tls.Config // non-nil: implicit TLS
	mu       sync.Mutex
	conns    []net.Conn
}

// dial is go-mail's dial function for one delivery: a TCP connection whose
// every read and write ends by the deadline (go-mail extends its own
// deadlines between commands; this one caps them), cut at once when the
// context ends, and with implicit TLS wrapped in TLS (the handshake also
// bounded). STARTTLS later wraps the same capped connection.
func (d *delivery) dial(dctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	raw, err := nd.DialContext(dctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, raw)
	d.mu.Unlock()
	conn := &cappedConn{Conn: raw, d: d}
	_ = conn.SetDeadline(d.deadline)
	context.AfterFunc(d.ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	if d.tls == nil {
		return conn, nil
	}
	tc := tls.Client(conn, d.tls)
	if err := tc.HandshakeContext(dctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

// close closes every connection of the delivery (after a QUIT, a no-op).
func (d *delivery) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
}

// cappedConn is a connection whose deadlines never pass its delivery's,
// and lie in the past once the delivery's context ended.
type cappedConn struct {
	net.Conn
	d *delivery
}

func (c *cappedConn) cap(t time.Time) time.Time {
	if c.d.ctx.Err() != nil {
		return time.Unix(1, 0)
	}
	if t.IsZero() || t.After(c.d.deadline) {
		return c.d.deadline
	}
	return t
}

func (c *cappedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.cap(t)) }
func (c *cappedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.cap(t)) }
func (c *cappedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.cap(t)) }

// asciiDomain returns email with its domain in ASCII (IDNA A-labels, RFC
// 5891), as SMTP without the SMTPUTF8 extension needs it; the address
// unchanged when the domain is ASCII already or does not convert.
func asciiDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	domain := email[at+1:]
	for i := 0; i < len(domain); i++ {
		if domain[i] >= 0x80 {
			if a, err := idna.Lookup.ToASCII(domain); err == nil {
				return email[:at+1] + a
			}
			break
		}
	}
	return email
}
