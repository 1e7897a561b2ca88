package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// newHangingServer answers nothing until hang is closed.
func newHangingServer(t *testing.T, hang chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// login runs a whole flow for one provider p against fake f.
func login(t *testing.T, f *oauthtest.Server, p oauth.Provider) (*oauth.Profile, error) {
	t.Helper()
	flow, err := oauth.NewFlow(newStore(), []oauth.Provider{p}, oauth.FlowOptions{AllowedRedirects: map[string][]string{p.Name(): {callbackURL(p.Name())}}})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := flow.Start(context.Background(), p.Name(), device, callbackURL(p.Name()))
	if err != nil {
		t.Fatal(err)
	}
	c, state, err := f.Authorize(authURL)
	if err != nil {
		t.Fatal(err)
	}
	prof, _, err := flow.Callback(context.Background(), p.Name(), device, state, c, "")
	return prof, err
}

func TestGitHubEmails(t *testing.T) {
	tests := []struct {
		name     string
		user     oauthtest.User
		scopes   []string
		email    string
		verified bool
	}{
		{"only an unverified email", oauthtest.User{Subject: "42", Email: "me@example.com",
			GitHubEmails: []oauthtest.GitHubEmail{{Email: "me@example.com", Primary: true, Verified: false}}},
			nil, "me@example.com", false},
		{"primary unverified, other verified", oauthtest.User{Subject: "42",
			GitHubEmails: []oauthtest.GitHubEmail{{Email: "other@example.com", Verified: true}, {Email: "me@example.com", Primary: true}}},
			nil, "me@example.com", false},
		{"primary verified", oauthtest.User{Subject: "42",
			GitHubEmails: []oauthtest.GitHubEmail{{Email: "old@example.com"}, {Email: "Me@Example.com", Primary: true, Verified: true}}},
			nil, "Me@Example.com", true},
		{"no emails", oauthtest.User{Subject: "42", GitHubEmails: []oauthtest.GitHubEmail{}}, nil, "", false},
		{"no user:email scope: public email, unverified", oauthtest.User{Subject: "42", Email: "me@example.com", EmailVerified: true},
			[]string{"read:user"}, "me@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := oauthtest.NewServer(t, oauthtest.GitHub)
			f.SetUser(tt.user)
			cfg := f.Config()
			cfg.Scopes = tt.scopes
			p, err := oauth.NewGitHub(cfg)
			if err != nil {
				t.Fatal(err)
			}
			prof, err := login(t, f, p)
			if err != nil {
				t.Fatal(err)
			}
			if prof.Subject != "42" || prof.Email != tt.email || prof.EmailVerified != tt.verified {
				t.Errorf("profile = %+v, want email %q verified %v", *prof, tt.email, tt.verified)
			}
		})
	}
}

func TestFacebookEmailPolicy(t *testing.T) {
	t.Run("unconfirmed email is not returned by Graph", func(t *testing.T) {
		f := oauthtest.NewServer(t, oauthtest.Facebook)
		f.SetUser(oauthtest.User{Subject: "10158", Email: "me@example.com", EmailVerified: false})
		prof, err := login(t, f, f.Provider(t))
		if err != nil {
			t.Fatal(err)
		}
		if prof.Email != "" || prof.EmailVerified {
			t.Errorf("profile = %+v", *prof)
		}
	})
	t.Run("UntrustedEmail", func(t *testing.T) {
		f := oauthtest.NewServer(t, oauthtest.Facebook)
		cfg := f.Config()
		cfg.UntrustedEmail = true
		p, err := oauth.NewFacebook(cfg)
		if err != nil {
			t.Fatal(err)
		}
		prof, err := login(t, f, p)
		if err != nil {
			t.Fatal(err)
		}
		if prof.Email != "Someone@Example.com" || prof.EmailVerified {
			t.Errorf("profile = %+v", *prof)
		}
	})
}

func TestOIDCEmailVerifiedFalse(t *testing.T) {
	for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.LinkedIn, oauthtest.OIDC} {
		t.Run(string(k), func(t *testing.T) {
			f := oauthtest.NewServer(t, k)
			f.SetUser(oauthtest.User{Subject: "CaseSensitiveSub", Email: "me@example.com", EmailVerified: false})
			prof, err := login(t, f, f.Provider(t))
			if err != nil {
				t.Fatal(err)
			}
			if prof.Subject != "CaseSensitiveSub" || prof.Email != "me@example.com" || prof.EmailVerified {
				t.Errorf("profile = %+v", *prof)
			}
		})
	}
}

func TestOIDCEmailFromUserInfo(t *testing.T) {
	f := oauthtest.NewServer(t, oauthtest.OIDC)
	f.OmitIDTokenEmail()
	prof, err := login(t, f, f.Provider(t))
	if err != nil {
		t.Fatal(err)
	}
	if prof.Email != "Someone@Example.com" || !prof.EmailVerified {
		t.Errorf("profile = %+v", *prof)
	}
}

func TestIDTokenChecks(t *testing.T) {
	tests := []struct {
		claim string
		value any
	}{
		{"aud", "another-client"},
		{"iss", "https://accounts.google.com"},
		{"exp", time.Now().Add(-time.Minute).Unix()},
		{"sub", nil},
	}
	for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.LinkedIn, oauthtest.OIDC} {
		for _, tt := range tests {
			t.Run(string(k)+"/"+tt.claim, func(t *testing.T) {
				f := oauthtest.NewServer(t, k)
				f.SetIDTokenClaim(tt.claim, tt.value)
				_, err := login(t, f, f.Provider(t))
				wantErr(t, err, oauth.ErrBadToken, http.StatusForbidden)
			})
		}
	}
}

func TestIDTokenSignedByUnknownKey(t *testing.T) {
	// A verifier whose JWKS is another server's keys rejects the token.
	f := oauthtest.NewServer(t, oauthtest.Google)
	other := oauthtest.NewServer(t, oauthtest.Google)
	cfg := f.Config()
	cfg.JWKSURL = other.Config().JWKSURL
	p, err := oauth.NewGoogle(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = login(t, f, p)
	wantErr(t, err, oauth.ErrBadToken, http.StatusForbidden)
}

func TestNewOIDCDiscovery(t *testing.T) {
	f := oauthtest.NewServer(t, oauthtest.OIDC)
	ctx := context.Background()
	if _, err := oauth.NewOIDC(ctx, "oidc", f.Issuer()+"/", f.Config()); err == nil {
		t.Error("issuer with trailing slash accepted although discovery says otherwise")
	}
	if _, err := oauth.NewOIDC(ctx, "Bad Name", f.Issuer(), f.Config()); err == nil {
		t.Error("invalid name accepted")
	}
	if _, err := oauth.NewOIDC(ctx, "oidc", f.Issuer(), oauth.Config{ClientID: "id"}); err == nil {
		t.Error("missing secret accepted")
	}
	p, err := oauth.NewOIDC(ctx, "corp-sso", f.Issuer(), f.Config())
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "corp-sso" || !strings.HasPrefix(p.AuthCodeURL("s", "n", "c", "https://a.example/cb"), f.URL+"/authorize?") {
		t.Errorf("provider %q, URL %s", p.Name(), p.AuthCodeURL("s", "n", "c", "https://a.example/cb"))
	}
	f.Close()
	_, err = oauth.NewOIDC(ctx, "oidc", f.Issuer(), f.Config())
	wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusServiceUnavailable)
}

func TestConstructorsRequireCredentials(t *testing.T) {
	ctors := map[string]func(oauth.Config) (oauth.Provider, error){
		"google": oauth.NewGoogle, "github": oauth.NewGitHub, "facebook": oauth.NewFacebook,
		"x": oauth.NewX, "tiktok": oauth.NewTikTok, "linkedin": oauth.NewLinkedIn,
	}
	for name, ctor := range ctors {
		if _, err := ctor(oauth.Config{ClientID: "id"}); err == nil || !strings.Contains(err.Error(), "ClientSecret") {
			t.Errorf("%s without secret: %v", name, err)
		}
		if _, err := ctor(oauth.Config{ClientSecret: "s"}); err == nil || !strings.Contains(err.Error(), "ClientID") {
			t.Errorf("%s without id: %v", name, err)
		}
		p, err := ctor(oauth.Config{ClientID: "id", ClientSecret: "s"})
		if err != nil || p.Name() != name {
			t.Errorf("%s: %v, name %q", name, err, p.Name())
		}
	}
}

func newStore() *memory.Store { return memory.New() }
