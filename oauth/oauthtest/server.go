// Package oauthtest runs fake OAuth 2.0 / OpenID Connect providers on
// httptest servers, one per built-in provider of package oauth, each
// speaking that provider's wire format: its authorization parameters, its
// token request (form body, client authentication the way the provider
// wants it, PKCE S256 verification) and its token and error answers, its
// user-info endpoints and, for the OIDC providers, RS256 ID tokens, a JWKS
// endpoint and a discovery document.
//
// There is no browser: Server.Authorize plays the consent step, checking
// the authorization URL a Flow made and returning the code and state the
// provider would have redirected back with.
package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser/oauth"
)

// Kind names a fake provider; the values are the oauth provider names.
type Kind string

// The fake providers.
const (
	Google   Kind = "google"
	GitHub   Kind = "github"
	Facebook Kind = "facebook"
	X        Kind = "x"
	TikTok   Kind = "tiktok"
	LinkedIn Kind = "linkedin"
	// OIDC is a generic OpenID Connect issuer (client_secret_basic,
	// PKCE required), used with oauth.NewOIDC.
	OIDC Kind = "oidc"
)

// Kinds lists every fake provider.
var Kinds = []Kind{Google, GitHub, Facebook, X, TikTok, LinkedIn, OIDC}

// User is the account that signs in at a fake provider.
type User struct {
	// Subject is the provider's user id (GitHub: decimal digits).
	Subject string
	// Email is the account's address ("" for none).
	Email string
	// EmailVerified is whether the provider has verified Email. The
	// Facebook fake, like Graph, hides an unverified email.
	EmailVerified bool
	// Name is the display name.
	Name string
	// AvatarURL is the picture URL.
	AvatarURL string
	// GitHubEmails, when non-nil, is what GitHub's /user/emails returns;
	// by default a single primary entry made of Email and EmailVerified.
	GitHubEmails []GitHubEmail
}

// GitHubEmail is one entry of GitHub's /user/emails.
type GitHubEmail struct {
	Email      string  `json:"email"`      // the address
	Primary    bool    `json:"primary"`    // the account's primary address
	Verified   bool    `json:"verified"`   // GitHub has verified it
	Visibility *string `json:"visibility"` // "public", "private" or null
}

// grant is one authorization: what the consent step saw, and the user.
type grant struct {
	redirectURI string
	scope       string
	challenge   string
	nonce       string
	user        User
	used        bool
}

// Server is one fake provider. Its methods are safe for concurrent use.
type Server struct {
	// Kind is the provider this server imitates.
	Kind Kind
	// URL is the server's base URL.
	URL string
	// ClientID and ClientSecret are the only credentials it accepts.
	ClientID, ClientSecret string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu             sync.Mutex
	user           User
	grants         map[string]*grant // by code
	tokens         map[string]*grant // by access token
	tokenStatus    int
	userInfoStatus int
	idNonce        *string
	idClaims       map[string]any
	noIDEmail      bool
}

// NewServer starts a fake provider of the given kind, closed when the test
// ends. Its user is a default one; change it with SetUser.
func NewServer(t testing.TB, kind Kind) *Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Kind:         kind,
		ClientID:     string(kind) + "-client-id",
		ClientSecret: string(kind) + "-client-secret",
		key:          key,
		kid:          "test-key-1",
		grants:       map[string]*grant{},
		tokens:       map[string]*grant{},
		user: User{
			Subject:       "Sub-" + string(kind) + "-AbC123",
			Email:         "Someone@Example.com",
			EmailVerified: true,
			Name:          "Some One",
			AvatarURL:     "https://img.example/" + string(kind) + ".png",
		},
	}
	switch kind {
	case GitHub:
		s.user.Subject = "583231"
	case X, TikTok:
		s.user.Email, s.user.EmailVerified = "", false
	case Google, Facebook, LinkedIn, OIDC:
	default:
		t.Fatalf("oauthtest: unknown kind %q", kind)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down; later calls to it fail to connect.
func (s *Server) Close() { s.srv.Close() }

// SetUser sets the account that signs in at the next Authorize.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = u
}

// FailToken makes the token endpoint answer status (with a provider-style
// error body) to every request; 0 restores normal answers.
func (s *Server) FailToken(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenStatus = status
}

// FailUserInfo makes the user-info endpoints (and JWKS) answer status; 0
// restores normal answers.
func (s *Server) FailUserInfo(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userInfoStatus = status
}

// SetIDTokenNonce makes ID tokens carry nonce instead of the one sent at
// authorization (OIDC kinds only).
func (s *Server) SetIDTokenNonce(nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idNonce = &nonce
}

// SetIDTokenClaim makes ID tokens carry value for claim name (for example
// "aud", "iss" or "exp"), overriding the normal value; a nil value removes
// the claim (OIDC kinds only).
func (s *Server) SetIDTokenClaim(name string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idClaims == nil {
		s.idClaims = map[string]any{}
	}
	s.idClaims[name] = value
}

// OmitIDTokenEmail leaves email and email_verified out of ID tokens, so the
// client must read them from the userinfo endpoint (OIDC kinds only).
func (s *Server) OmitIDTokenEmail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noIDEmail = true
}

// Issuer is the issuer of the server's ID tokens (OIDC kinds).
func (s *Server) Issuer() string {
	if s.Kind == LinkedIn {
		return s.URL + "/oauth"
	}
	return s.URL
}

// paths of each kind, modelled on the real providers.
type paths struct {
	authorize, token, userinfo, jwks string
}

func (s *Server) paths() paths {
	switch s.Kind {
	case Google:
		return paths{"/o/oauth2/v2/auth", "/token", "/v1/userinfo", "/oauth2/v3/certs"}
	case GitHub:
		return paths{"/login/oauth/authorize", "/login/oauth/access_token", "/user", ""}
	case Facebook:
		return paths{"/v21.0/dialog/oauth", "/v21.0/oauth/access_token", "/v21.0/me", ""}
	case X:
		return paths{"/i/oauth2/authorize", "/2/oauth2/token", "/2/users/me", ""}
	case TikTok:
		return paths{"/v2/auth/authorize/", "/v2/oauth/token/", "/v2/user/info/", ""}
	case LinkedIn:
		return paths{"/oauth/v2/authorization", "/oauth/v2/accessToken", "/v2/userinfo", "/oauth/openid/jwks"}
	default:
		return paths{"/authorize", "/token", "/userinfo", "/jwks"}
	}
}

// Config returns an oauth.Config with the server's credentials and
// endpoints.
func (s *Server) Config() oauth.Config {
	p := s.paths()
	c := oauth.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		AuthURL:      s.URL + p.authorize,
		TokenURL:     s.URL + p.token,
		UserInfoURL:  s.URL + p.userinfo,
	}
	if p.jwks != "" {
		c.Issuer, c.JWKSURL = s.Issuer(), s.URL+p.jwks
	}
	if s.Kind == OIDC {
		// Endpoints come from discovery.
		c.AuthURL, c.TokenURL, c.UserInfoURL, c.Issuer, c.JWKSURL = "", "", "", "", ""
	}
	return c
}

// Authorize plays the user's consent at the authorization URL a client
// made: it checks the URL as the provider would (endpoint, client id,
// response type, redirect URI, scope and, where given, the PKCE challenge
// method), records the challenge and nonce, and returns the code and state
// the provider would redirect back with.
func (s *Server) Authorize(authURL string) (code, state string, err error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", "", err
	}
	if u.Scheme+"://"+u.Host != s.URL || u.Path != s.paths().authorize {
		return "", "", fmt.Errorf("oauthtest: %s: authorization URL %s is not this provider's", s.Kind, authURL)
	}
	q := u.Query()
	clientParam := "client_id"
	if s.Kind == TikTok {
		clientParam = "client_key"
	}
	switch {
	case q.Get(clientParam) != s.ClientID:
		return "", "", fmt.Errorf("oauthtest: %s: %s = %q", s.Kind, clientParam, q.Get(clientParam))
	case q.Get("response_type") != "code":
		return "", "", fmt.Errorf("oauthtest: %s: response_type = %q", s.Kind, q.Get("response_type"))
	case q.Get("redirect_uri") == "":
		return "", "", fmt.Errorf("oauthtest: %s: no redirect_uri", s.Kind)
	case q.Get("state") == "":
		return "", "", fmt.Errorf("oauthtest: %s: no state", s.Kind)
	case q.Get("scope") == "":
		return "", "", fmt.Errorf("oauthtest: %s: no scope", s.Kind)
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		return "", "", fmt.Errorf("oauthtest: %s: code_challenge_method = %q", s.Kind, q.Get("code_challenge_method"))
	case q.Get("code_challenge") == "" && (s.Kind == X || s.Kind == TikTok || s.Kind == OIDC):
		return "", "", fmt.Errorf("oauthtest: %s: PKCE required", s.Kind)
	}
	if s.Kind == TikTok && strings.Contains(q.Get("scope"), " ") {
		return "", "", fmt.Errorf("oauthtest: tiktok: scopes must be comma-separated, got %q", q.Get("scope"))
	}
	code = randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &grant{
		redirectURI: q.Get("redirect_uri"),
		scope:       q.Get("scope"),
		challenge:   q.Get("code_challenge"),
		user:        s.user,
	}
	if s.Kind != LinkedIn { // LinkedIn ignores the nonce
		g.nonce = q.Get("nonce")
	}
	s.grants[code] = g
	return code, q.Get("state"), nil
}

// StateOf returns the state parameter of an authorization URL.
func StateOf(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("state")
}

// redeem takes the grant for code, checking redirect URI and PKCE, and
// returns a new access token for it. The code is spent whatever the
// outcome, as real providers do.
func (s *Server) redeem(code, redirectURI, verifier string) (string, grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grants[code]
	if g == nil || g.used {
		return "", grant{}, errors.New("unknown or used code")
	}
	g.used = true
	if redirectURI != g.redirectURI && !(s.Kind == GitHub && redirectURI == "") {
		return "", grant{}, errors.New("redirect_uri mismatch")
	}
	if g.challenge != "" || verifier != "" {
		sum := sha256.Sum256([]byte(verifier))
		if verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			return "", grant{}, errPKCE
		}
	}
	tok := randomToken()
	s.tokens[tok] = g
	return tok, *g, nil
}

var errPKCE = errors.New("code verifier does not match the challenge")

// grantFor returns the grant an access token was issued for.
func (s *Server) grantFor(r *http.Request) (grant, bool) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.Kind == Facebook && r.URL.Query().Get("access_token") != "" {
		tok = r.URL.Query().Get("access_token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.tokens[tok]
	if g == nil {
		return grant{}, false
	}
	return *g, true
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Provider returns the oauth provider for this server, configured with
// Config (for OIDC: discovered from Issuer, named "oidc").
func (s *Server) Provider(t testing.TB) oauth.Provider {
	t.Helper()
	var (
		p   oauth.Provider
		err error
	)
	switch s.Kind {
	case Google:
		p, err = oauth.NewGoogle(s.Config())
	case GitHub:
		p, err = oauth.NewGitHub(s.Config())
	case Facebook:
		p, err = oauth.NewFacebook(s.Config())
	case X:
		p, err = oauth.NewX(s.Config())
	case TikTok:
		p, err = oauth.NewTikTok(s.Config())
	case LinkedIn:
		p, err = oauth.NewLinkedIn(s.Config())
	case OIDC:
		p, err = oauth.NewOIDC(context.Background(), "oidc", s.Issuer(), s.Config())
	}
	if err != nil {
		t.Fatalf("oauthtest: %s provider: %v", s.Kind, err)
	}
	return p
}
