package simpleuser_test

import (
	"context"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
	"github.com/simpleuser/simpleuser/user"
)

// oauthFixture is a fixture whose service signs in with fake providers.
type oauthFixture struct {
	*fixture
	fakes map[oauthtest.Kind]*oauthtest.Server
}

// callbackOf is the redirect URI a test flow of provider uses.
func callbackOf(provider string) string { return "https://app.example/auth/callback/" + provider }

// newOAuthFixture starts a fake of every provider kind and configures the
// service with them; mod adjusts the config further.
func newOAuthFixture(t *testing.T, newFixture fixtureMaker, mod func(*simpleuser.Config)) *oauthFixture {
	t.Helper()
	o := &oauthFixture{fakes: map[oauthtest.Kind]*oauthtest.Server{}}
	o.fixture = newFixture(t, func(c *simpleuser.Config) {
		c.OAuth.AllowedRedirects = map[string][]string{}
		for _, k := range oauthtest.Kinds {
			srv := oauthtest.NewServer(t, k)
			o.fakes[k] = srv
			c.OAuth.Providers = append(c.OAuth.Providers, srv.Provider(t))
			c.OAuth.AllowedRedirects[string(k)] = []string{callbackOf(string(k))}
		}
		if mod != nil {
			mod(c)
		}
	})
	return o
}

// flow starts a flow with kind from c's device and plays the consent of
// the fake's current user; it returns the callback's state and code.
func (o *oauthFixture) flow(t *testing.T, c simpleuser.Client, k oauthtest.Kind) (state, code string) {
	t.Helper()
	url, err := o.svc.OAuthStart(context.Background(), c, string(k), callbackOf(string(k)))
	if err != nil {
		t.Fatalf("OAuthStart(%s): %v", k, err)
	}
	code, state, err = o.fakes[k].Authorize(url)
	if err != nil {
		t.Fatalf("consent at %s: %v", k, err)
	}
	return state, code
}

// signIn runs a whole sign-in with kind from c's device.
func (o *oauthFixture) signIn(t *testing.T, c simpleuser.Client, k oauthtest.Kind) (*simpleuser.LoginResult, error) {
	t.Helper()
	state, code := o.flow(t, c, k)
	return o.svc.OAuthSignIn(context.Background(), c, string(k), state, code, "")
}

// mustSignIn is signIn that must succeed.
func (o *oauthFixture) mustSignIn(t *testing.T, c simpleuser.Client, k oauthtest.Kind) *simpleuser.LoginResult {
	t.Helper()
	res, err := o.signIn(t, c, k)
	if err != nil {
		t.Fatalf("sign-in with %s: %v", k, err)
	}
	return res
}

// link runs a whole link of kind to u from c's device.
func (o *oauthFixture) link(t *testing.T, c simpleuser.Client, u *user.User, k oauthtest.Kind) (*user.Identity, error) {
	t.Helper()
	state, code := o.flow(t, c, k)
	return o.svc.OAuthLink(context.Background(), c, u, string(k), state, code, "")
}

// as sets the account the fake provider k signs in.
func (o *oauthFixture) as(k oauthtest.Kind, subject, email string, verified bool) {
	o.fakes[k].SetUser(oauthtest.User{Subject: subject, Email: email, EmailVerified: verified, Name: "Name " + subject})
}

// user reads a user.
func (o *oauthFixture) user(t *testing.T, id int64) *user.User {
	t.Helper()
	u, err := o.svc.GetUser(context.Background(), id)
	if err != nil {
		t.Fatalf("GetUser(%d): %v", id, err)
	}
	return u
}

// identities lists "provider/subject" of the user's identities.
func (o *oauthFixture) identities(t *testing.T, id int64) []string {
	t.Helper()
	ids, err := o.svc.Identities(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, i := range ids {
		out = append(out, i.Provider+"/"+i.Subject)
	}
	return out
}

// wantCode asserts err's status and machine code.
func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	e := simpleuser.AsError(err)
	if e == nil || e.Status != status || e.Code != code {
		t.Fatalf("err = %v, want %d %s", err, status, code)
	}
}

// sessionAlive reports whether the token still names a session.
func (o *oauthFixture) sessionAlive(t *testing.T, token string) bool {
	t.Helper()
	_, err := o.svc.Sessions().Get(context.Background(), token)
	return err == nil
}
