// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) in
// the test process, on 127.0.0.1, for the tests of the mail package and of
// the exampleapp: it records the messages it accepts, and can require
// SMTP AUTH with fixed credentials, offer STARTTLS (RFC 3207) or speak
// implicit TLS (RFC 8314) with a certificate generated at start, refuse
// every message, or accept connections and never answer (a hung server).
package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options shapes a Server. The zero value is a plain server without
// authentication that accepts every message.
type Options struct {
	// Username and Password, when Username is set, are the only
	// credentials AUTH PLAIN accepts; MAIL before a successful AUTH is
	// refused (530). Other credentials get 535.
	Username, Password string
	// StartTLS offers STARTTLS with the generated certificate.
	StartTLS bool
	// ImplicitTLS makes the server speak TLS from the first byte (smtps).
	ImplicitTLS bool
	// Hang accepts connections and never writes a byte, not even the
	// greeting: a server that hung, or a firewall that swallows packets
	// after the handshake.
	Hang bool
	// Refuse answers every MAIL FROM with 554 (a server refusing mail).
	Refuse bool
}

// Message is one message the server accepted.
type Message struct {
	From string   // the envelope sender (MAIL FROM)
	To   []string // the envelope recipients (RCPT TO)
	Data []byte   // the message as received (RFC 5322 headers and body)
	// Authenticated is the username the session authenticated with ("" without AUTH).
	Authenticated string
	// TLS reports that the message came over TLS (STARTTLS or implicit).
	TLS bool
}

// Server is a running SMTP server, stopped by the test's cleanup.
type Server struct {
	Host string // "127.0.0.1"
	Port int
	// RootCAs trusts the server's certificate (valid for 127.0.0.1, ::1
	// and localhost); nil without TLS.
	RootCAs *x509.CertPool

	opts     Options
	srv      *smtp.Server
	ln       net.Listener
	mu       sync.Mutex
	msgs     []Message
	arrived  chan struct{}
	hung     []net.Conn
	closed   bool
	accepted int
}

// Start runs a server with opts until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, arrived: make(chan struct{}, 1024)}
	var tlsConf *tls.Config
	if opts.StartTLS || opts.ImplicitTLS {
		cert, pool, err := Certificate()
		if err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.RootCAs = pool
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConf)
	}
	s.ln = ln
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	if opts.Hang {
		go s.hang()
		t.Cleanup(s.Close)
		return s
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.StartTLS {
		srv.TLSConfig = tlsConf
	}
	// Without TLS the test credentials may cross the loopback in clear.
	srv.AllowInsecureAuth = !opts.StartTLS && !opts.ImplicitTLS
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(s.Close)
	return s
}

// Addr is "host:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// URL is the server's address in the mail package's URL form, with
// username and password when given: smtps:// for implicit TLS, smtp:// for
// STARTTLS, and smtp://...?tls=none for a plain server.
func (s *Server) URL(username, password string) string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	switch {
	case s.opts.ImplicitTLS:
		u.Scheme = "smtps"
	case !s.opts.StartTLS:
		u.RawQuery = "tls=none"
	}
	if username != "" {
		u.User = url.UserPassword(username, password)
	}
	return u.String()
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Connections is how many connections a hanging server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Wait returns the n-th message accepted (1-based), waiting up to timeout
// for it; it fails the test when none came.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs[n-1]
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("smtptest: message %d did not arrive within %v (%d received)", n, timeout, len(s.Messages()))
		}
	}
}

// Close stops the server and drops its connections; the test's cleanup
// calls it too (a second call does nothing).
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	hung := s.hung
	s.hung = nil
	s.mu.Unlock()
	for _, c := range hung {
		_ = c.Close()
	}
	_ = s.ln.Close() // Serve may not have registered it with the server yet
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// hang accepts connections and keeps them open, silent, until close.
func (s *Server) hang() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.accepted++
		if s.closed {
			_ = c.Close()
		} else {
			s.hung = append(s.hung, c)
		}
		s.mu.Unlock()
	}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS}, nil
}

// session is one SMTP session (go-smtp's Session and AuthSession).
type session struct {
	srv  *Server
	tls  bool
	user string
	msg  Message
}

func (x *session) AuthMechanisms() []string {
	if x.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != x.srv.opts.Username || password != x.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.opts.Username != "" && x.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if x.srv.opts.Refuse {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Refused by smtptest"}
	}
	x.msg = Message{From: from, Authenticated: x.user, TLS: x.tls}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.msg.To = append(x.msg.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	if x.msg.From == "" || len(x.msg.To) == 0 {
		return errors.New("smtptest: DATA without MAIL and RCPT")
	}
	x.msg.Data = b.Bytes()
	x.srv.mu.Lock()
	x.srv.msgs = append(x.srv.msgs, x.msg)
	x.srv.mu.Unlock()
	select {
	case x.srv.arrived <- struct{}{}:
	default:
	}
	x.msg = Message{}
	return nil
}

func (x *session) Reset()        { x.msg = Message{} }
func (x *session) Logout() error { return nil }

// String describes the server, for test logs.
func (s *Server) String() string {
	return fmt.Sprintf("smtptest %s %+v", s.Addr(), s.opts)
}
