package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/hooks"
)

// Security is how the connection to the SMTP server is protected.
type Security string

const (
	// StartTLS (the default) connects in clear and upgrades with STARTTLS
	// before anything else is said (RFC 3207); a server that does not offer
	// it, or whose certificate does not verify, is an error. Default port
	// 587 (message submission, RFC 6409).
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (submissions, RFC 8314
	// §3.3). Default port 465.
	ImplicitTLS Security = "tls"
	// NoTLS sends everything in clear: for a development server on the
	// same machine (Mailpit, MailHog) only. With credentials it is refused
	// unless the host is a loopback address or localhost. Default port 25.
	NoTLS Security = "none"
)

// Defaults of Config's zero values.
const (
	DefaultTimeout       = 10 * time.Second // Config.Timeout: one whole delivery
	DefaultAuthMechanism = "PLAIN"          // Config.AuthMechanism (RFC 4616)
	DefaultPortStartTLS  = 587              // Config.Port with StartTLS (submission, RFC 6409)
	DefaultPortTLS       = 465              // Config.Port with ImplicitTLS (submissions, RFC 8314)
	DefaultPortNoTLS     = 25               // Config.Port with NoTLS
)

// Config configures a Sender. Zero values mean the documented defaults;
// New refuses an invalid Config with an error naming the field.
type Config struct {
	// Host is the SMTP server's host name or IP address. Required. With
	// TLS, the server's certificate must be valid for it.
	Host string
	// Port is the server's TCP port. Default: 587 for StartTLS, 465 for
	// ImplicitTLS, 25 for NoTLS.
	Port int
	// Security is StartTLS (default, ""), ImplicitTLS or NoTLS.
	Security Security
	// Username and Password, when Username is set, authenticate with SMTP
	// AUTH (RFC 4954) after TLS is up. Never logged.
	Username, Password string
	// AuthMechanism is the SASL mechanism of SMTP AUTH: "PLAIN" (default,
	// RFC 4616), "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" (RFC
	// 7677) or "XOAUTH2" (Password holding the OAuth 2.0 access token).
	AuthMechanism string
	// RootCAs are the certificate authorities trusted for the server's
	// certificate. Default (nil): the system's roots.
	RootCAs *x509.CertPool
	// HELO is the name sent in EHLO. Default: the machine's host name.
	HELO string
	// Timeout bounds one delivery, from the dial to the end of the QUIT
	// exchange (TCP, TLS handshake, AUTH, the message): a server that stops
	// answering gives an error after at most this long. A shorter deadline
	// of the request's context wins. Default 10 s.
	Timeout time.Duration

	// From is the sender, an RFC 5322 address with an optional display
	// name: "Example <no-reply@example.com>". Required.
	From string
	// AppName names the app in every message (the templates' .AppName).
	// Required.
	AppName string
	// CodeLength is the number of digits of each code SendCode generates
	// (code.Generate). Default code.DefaultLength (6).
	CodeLength int

	// Messages replaces built-in English messages, by code purpose
	// (hooks.PurposeLogin...); a purpose it leaves out keeps the built-in
	// one (DefaultMessages).
	Messages Messages
	// Translations are the messages in other languages, by BCP 47 tag
	// ("de", "pt-BR"), each giving all four purposes (and, optionally,
	// SecondFactor: without it that message is sent in English). The language of a
	// message is the best match of the request's Accept-Language among
	// English and these (golang.org/x/text/language's Matcher); English
	// when nothing matches. Use Messages, not a tag "en", to change English.
	Translations map[string]Messages
}

// ParseURL returns the server settings of an SMTP URL, for New (set From
// and AppName before):
//
//	smtp://user:pass@smtp.example.com:587    STARTTLS, required (default port 587)
//	smtps://user:pass@smtp.example.com       implicit TLS (default port 465)
//	smtp://127.0.0.1:1025?tls=none           no TLS: a local development server only
//
// User name and password are percent-decoded ("%40" for "@"). Query
// parameters: tls=starttls|none (smtp only), auth=<mechanism>
// (Config.AuthMechanism), timeout=<Go duration> (Config.Timeout). Errors
// never repeat the password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, password included.
		return Config{}, errors.New("mail: ParseURL: not a URL of the form smtp://user:pass@host:port")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Security = StartTLS
	case "smtps":
		c.Security = ImplicitTLS
	default:
		return Config{}, fmt.Errorf("mail: ParseURL: scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return Config{}, errors.New("mail: ParseURL: the URL must be scheme://[user[:password]@]host[:port][?parameters], without a path")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("mail: ParseURL: the URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("mail: ParseURL: port %q is not 1-65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("mail: ParseURL: query: %w", err)
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "tls":
			switch {
			case u.Scheme == "smtps":
				return Config{}, errors.New("mail: ParseURL: tls= is for smtp:// URLs; smtps:// is always implicit TLS")
			case v == string(StartTLS) || v == string(NoTLS):
				c.Security = Security(v)
			default:
				return Config{}, fmt.Errorf("mail: ParseURL: tls=%q, want starttls or none", v)
			}
		case "auth":
			c.AuthMechanism = strings.ToUpper(v)
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("mail: ParseURL: timeout=%q is not a positive duration such as 10s", v)
			}
			c.Timeout = d
		default:
			return Config{}, fmt.Errorf("mail: ParseURL: unknown parameter %q (tls, auth, timeout)", k)
		}
	}
	return c, nil
}

// authMechanisms are the accepted values of Config.AuthMechanism.
var authMechanisms = map[string]bool{
	"PLAIN": true, "LOGIN": true, "CRAM-MD5": true, "SCRAM-SHA-1": true, "SCRAM-SHA-256": true, "XOAUTH2": true,
}

// check fills c's defaults and returns the first invalid field, named.
func (c *Config) check() error {
	bad := func(field, msg string, args ...any) error {
		return fmt.Errorf("mail: Config.%s %s", field, fmt.Sprintf(msg, args...))
	}
	if c.Host == "" {
		return bad("Host", "is required")
	}
	if c.Security == "" {
		c.Security = StartTLS
	}
	port := map[Security]int{StartTLS: DefaultPortStartTLS, ImplicitTLS: DefaultPortTLS, NoTLS: DefaultPortNoTLS}
	def, ok := port[c.Security]
	if !ok {
		return bad("Security", "is %q, want %q, %q or %q", c.Security, StartTLS, ImplicitTLS, NoTLS)
	}
	if c.Port == 0 {
		c.Port = def
	}
	if c.Port < 1 || c.Port > 65535 {
		return bad("Port", "is %d, want 1-65535", c.Port)
	}
	if c.AuthMechanism == "" {
		c.AuthMechanism = DefaultAuthMechanism
	}
	if !authMechanisms[c.AuthMechanism] {
		return bad("AuthMechanism", "is %q, want PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 or XOAUTH2", c.AuthMechanism)
	}
	if c.Username == "" && c.Password != "" {
		return bad("Username", "is required with a Password")
	}
	if c.Username != "" && c.Security == NoTLS && !isLoopback(c.Host) &&
		(c.AuthMechanism == "PLAIN" || c.AuthMechanism == "LOGIN" || c.AuthMechanism == "XOAUTH2") {
		return bad("Security", "is none: %s would send the password in clear to %s; use starttls or tls (only a loopback host may go without)", c.AuthMechanism, c.Host)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 {
		return bad("Timeout", "must not be negative")
	}
	if c.From == "" {
		return bad("From", "is required (e.g. \"Example <no-reply@example.com>\")")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return bad("From", "is not an RFC 5322 address: %v", err)
	}
	if strings.TrimSpace(c.AppName) == "" {
		return bad("AppName", "is required")
	}
	if c.CodeLength == 0 {
		c.CodeLength = code.DefaultLength
	}
	if c.CodeLength < 1 || c.CodeLength > code.MaxLength {
		return bad("CodeLength", "is %d, want 1-%d", c.CodeLength, code.MaxLength)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// purposes are the code purposes every language gives, in the order
// messages are checked.
var purposes = []string{hooks.PurposeLogin, hooks.PurposeResetPassword, hooks.PurposeChangeEmail, hooks.PurposeUnregister}

// optionalPurposes may be left out of a translation: its messages then
// fall back to English (hooks.PurposeSecondFactor came after translations
// were written against the four above).
var optionalPurposes = []string{hooks.PurposeSecondFactor}
