package simpleuser_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

// A provider sign-in into an account with MFA on is challenged, unless the
// app exempted that provider; the email code completes it.
func TestProviderSignInChallenged(t *testing.T) {
	forBackends(t, func(t *testing.T, newFixture fixtureMaker) {
		o := newOAuthFixture(t, newFixture, func(c *simpleuser.Config) { c.MFA.SkipForProviders = []string{string(oauthtest.Facebook)} })
		ctx := context.Background()
		for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.Facebook} {
			dev := client("dev-" + string(k))
			o.as(k, "sub-"+string(k), string(k)+"@example.com", true)
			first := o.mustSignIn(t, dev, k)
			if first.MFARequired {
				t.Fatalf("%s: first sign-in challenged", k)
			}
			if _, err := o.svc.MFA().SetEmailFactor(ctx, o.user(t, first.UserID), true); err != nil {
				t.Fatal(err)
			}
			again := o.mustSignIn(t, dev, k)
			if k == oauthtest.Facebook {
				if again.MFARequired {
					t.Fatalf("a sign-in with an exempted provider was challenged")
				}
				continue
			}
			if !again.MFARequired || len(again.Factors) != 2 || again.Factors[1] != mfa.FactorEmail {
				t.Fatalf("%s sign-in into an MFA account: %+v", k, again)
			}
			ch := dev
			ch.Token = again.Token
			if _, err := o.svc.ResolveUser(ctx, ch); simpleuser.AsError(err).Code != mfa.CodeMFARequired {
				t.Fatalf("the challenge session resolved a user: %v", err)
			}
			if err := o.svc.MFA().SendCode(o.svc.WithClient(ctx, ch), ch.Token, nil); err != nil { // the send limits need the client
				t.Fatal(err)
			}
			code := o.mail.code(string(k)+"@example.com", hooks.PurposeSecondFactor)
			full, err := o.svc.MFA().Complete(ctx, ch.Token, nil, mfa.FactorEmail, code, false, "")
			if err != nil || full.Token == again.Token {
				t.Fatalf("CompleteChallenge: %+v, %v", full, err)
			}
			ch.Token = full.Token
			if u, err := o.svc.ResolveUser(ctx, ch); err != nil || u.ID != first.UserID {
				t.Fatalf("the completed session: %v, %v", u, err)
			}
		}
	})
}

// Of concurrent completions of one challenge session (each with a valid
// recovery code of its own), exactly one issues a session.
func TestChallengeCompletesOnce(t *testing.T) {
	forBackends(t, func(t *testing.T, newFixture fixtureMaker) {
		f := newFixture(t, nil)
		ctx := context.Background()
		dev := client("dev")
		res := f.login(t, dev, "once@example.com")
		codes, err := f.svc.MFA().SetEmailFactor(ctx, res.User, true)
		if err != nil || len(codes) != 10 {
			t.Fatal(codes, err)
		}
		if err := f.svc.ChangePassword(ctx, dev, res.User, "a good password", ""); err != nil {
			t.Fatal(err)
		}
		ch, err := f.svc.Login(ctx, dev, simpleuser.LoginInput{Email: "once@example.com", Password: "a good password"})
		if err != nil || !ch.MFARequired {
			t.Fatalf("login: %+v, %v", ch, err)
		}
		c := dev
		c.Token = ch.Token
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if _, err := f.svc.MFA().Complete(ctx, c.Token, nil, mfa.FactorRecovery, codes[i], false, ""); err == nil {
					wins.Add(1)
				} else if s := status(err); s != 401 && s != 403 && s != 429 {
					t.Errorf("completion %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d of 8 concurrent completions of one challenge issued a session, want 1", n)
		}
	})
}
