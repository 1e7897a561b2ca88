package simpleuser_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/code"
	codememory "github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/risk"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
)

// The client goes away while a Redis script is in flight: redigo's
// DoContext answers ctx.Err() at once, but Redis has received the script
// and runs it; nobody reads its reply. cutRisk and cutCodes reproduce that
// on the real stores (Redis or memory) deterministically: the armed call
// runs on the store, then the request's context is cancelled, and the call
// answers as DoContext does: ctx.Err() when its ctx is done.
type cutRisk struct {
	risk.Store
	armed atomic.Pointer[context.CancelFunc]
}

func (r *cutRisk) Take(ctx context.Context, limits []risk.Limit, id string, now time.Time) (time.Duration, error) {
	w, err := r.Store.Take(context.WithoutCancel(ctx), limits, id, now)
	if c := r.armed.Swap(nil); c != nil {
		(*c)()
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return w, err
}

type cutCodes struct {
	code.Store
	armed atomic.Pointer[context.CancelFunc]
}

func (s *cutCodes) Consume(ctx context.Context, key string, rec []byte) (time.Duration, bool, error) {
	ttl, ok, err := s.Store.Consume(context.WithoutCancel(ctx), key, rec)
	if c := s.armed.Swap(nil); c != nil {
		(*c)()
	}
	if ctx.Err() != nil {
		return 0, false, ctx.Err()
	}
	return ttl, ok, err
}

// cutFixture is a fixture whose risk and code stores are wrapped.
func cutFixture(t *testing.T, newFixture fixtureMaker) (*fixture, *cutRisk, *cutCodes) {
	var cr *cutRisk
	var cc *cutCodes
	f := newFixture(t, func(c *simpleuser.Config) {
		if c.Risk == nil {
			c.Risk = riskmemory.New()
		}
		if c.Codes == nil {
			m := codememory.New()
			m.Now = c.Now
			c.Codes = m
		}
		cr, cc = &cutRisk{Store: c.Risk}, &cutCodes{Store: c.Codes}
		c.Risk, c.Codes = cr, cc
	})
	return f, cr, cc
}

// armed returns a context that the wrapped store cancels during its next
// call, as a client that disconnects then.
func armed(p *atomic.Pointer[context.CancelFunc]) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	p.Store(&cancel)
	return ctx
}

// Correct password logins whose clients left while the attempt was being
// recorded leave no attempt behind: the next correct login succeeds (it
// was 429 after five, for 15 minutes).
func TestLostTakeReplyLeavesNoAttempt(t *testing.T) { forBackends(t, testLostTakeReply) }

func testLostTakeReply(t *testing.T, newFixture fixtureMaker) {
	f, cr, _ := cutFixture(t, newFixture)
	bg := context.Background()
	email := "lost-take@example.com"
	if _, err := f.svc.CreateUser(bg, simpleuser.NewUser{Email: email, Password: "correct-password"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		ctx := armed(&cr.armed)
		_, _ = f.svc.Login(ctx, natClient(fmt.Sprint("gone-", i), fmt.Sprint("192.0.2.", 30+i)),
			simpleuser.LoginInput{Email: email, Password: "correct-password"})
		if cr.armed.Load() != nil {
			t.Fatal("the login took no attempt")
		}
	}
	if _, err := f.svc.Login(bg, natClient("back", "192.0.2.99"), simpleuser.LoginInput{Email: email, Password: "correct-password"}); err != nil {
		t.Fatalf("a correct login after five whose clients left: %v, want 200", err)
	}

	// The same for code logins: a verify attempt recorded for a client
	// that left must not count as a wrong code.
	for i := range 5 {
		f.clock.Advance(2 * time.Minute)
		c := natClient(fmt.Sprint("code-gone-", i), "192.0.2.40")
		if err := f.svc.SendCode(bg, c, email, hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		ctx := armed(&cr.armed)
		_, _ = f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: f.mail.code(email, hooks.PurposeLogin)})
		if cr.armed.Load() != nil {
			t.Fatal("the code login took no attempt")
		}
	}
	f.clock.Advance(2 * time.Minute)
	c := natClient("code-back", "192.0.2.41")
	if err := f.svc.SendCode(bg, c, email, hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(bg, c, simpleuser.LoginInput{Email: email, Code: f.mail.code(email, hooks.PurposeLogin)}); err != nil {
		t.Fatalf("a right code after five code logins whose clients left: %v, want 200", err)
	}
}

// A code whose consumption was cut by the client leaving is not lost: either
// that login went through, or the retry with the same code succeeds (it was
// 403: the code was deleted and never given back).
func TestLostConsumeReplyKeepsCode(t *testing.T) { forBackends(t, testLostConsumeReply) }

func testLostConsumeReply(t *testing.T, newFixture fixtureMaker) {
	f, _, cc := cutFixture(t, newFixture)
	bg := context.Background()
	for _, existing := range []bool{true, false} {
		email := fmt.Sprintf("lost-consume-%v@example.com", existing)
		if existing {
			if _, err := f.svc.CreateUser(bg, simpleuser.NewUser{Email: email}); err != nil {
				t.Fatal(err)
			}
		}
		c := natClient(fmt.Sprint("consume-", existing), "192.0.2.50")
		f.clock.Advance(2 * time.Minute)
		if err := f.svc.SendCode(bg, c, email, hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		in := simpleuser.LoginInput{Email: email, Code: f.mail.code(email, hooks.PurposeLogin)}
		_, first := f.svc.Login(armed(&cc.armed), c, in)
		if cc.armed.Load() != nil {
			t.Fatal("the login consumed nothing")
		}
		if first == nil {
			continue // it went through: the code is spent, rightly
		}
		if _, err := f.svc.Login(bg, c, in); err != nil {
			t.Errorf("existing account %v: the retry with the code after %v: %v, want 200", existing, first, err)
		}
	}
}

// cutIndex does the same to the session index's PopAll.
type cutIndex struct {
	session.Index
	armed atomic.Pointer[context.CancelFunc]
}

func (x *cutIndex) PopAll(ctx context.Context, userID int64) ([]string, error) {
	keys, err := x.Index.PopAll(context.WithoutCancel(ctx), userID)
	if c := x.armed.Swap(nil); c != nil {
		(*c)()
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return keys, err
}

// A revocation cut by the client leaving, after the index was popped and
// before the sessions were deleted, must not leave live sessions that no
// later revocation can find. The holder of a stolen token calls
// unregister and disconnects at that moment; the owner then resets the
// password, which must end the thief's session (it survived: unindexed,
// valid for its whole lifetime).
func TestLostPopAllReplyLeavesNoSession(t *testing.T) { forBackends(t, testLostPopAllReply) }

func testLostPopAllReply(t *testing.T, newFixture fixtureMaker) {
	var cx *cutIndex
	f := newFixture(t, func(c *simpleuser.Config) {
		if c.SessionStore == nil {
			c.SessionStore, c.SessionIndex = sessionmemory.New()
		}
		cx = &cutIndex{Index: c.SessionIndex}
		c.SessionIndex = cx
	})
	bg := context.Background()
	email := "stolen@example.com"
	u, err := f.svc.CreateUser(bg, simpleuser.NewUser{Email: email, Password: "owner-password"})
	if err != nil {
		t.Fatal(err)
	}
	thief := natClient("thief", "198.51.100.7")
	res, err := f.svc.Login(bg, thief, simpleuser.LoginInput{Email: email, Password: "owner-password"})
	if err != nil {
		t.Fatal(err)
	}
	thief.Token = res.Token
	_ = f.svc.Unregister(armed(&cx.armed), u)
	if cx.armed.Load() != nil {
		t.Fatal("unregister revoked nothing")
	}
	owner := natClient("owner", "192.0.2.77")
	f.clock.Advance(2 * time.Minute)
	if err := f.svc.SendCode(bg, owner, email, hooks.PurposeResetPassword); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ResetPassword(bg, email, f.mail.code(email, hooks.PurposeResetPassword), "new-owner-password"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.ResolveUser(bg, thief); err == nil {
		t.Errorf("the thief's session after the owner reset the password: user %d, want 401", got.ID)
	}
}
