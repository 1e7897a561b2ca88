package simpleuser_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// errInjected is the failure the fault-injecting wrappers below return: a
// backend that could not serve (503), as a lock timeout, a lost connection
// or a full pool gives.
func errInjected(name string) error {
	return backend.Unavailable(name, errors.New("injected failure"))
}

// failing counts down the calls to fail: Arm(n) makes the next n calls
// fail.
type failing struct{ n atomic.Int32 }

func (f *failing) Arm(n int32) { f.n.Store(n) }

func (f *failing) fail() bool {
	for {
		n := f.n.Load()
		if n <= 0 {
			return false
		}
		if f.n.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// faultyIndex is the configured session index (memory or Redis) with
// failures injected into Add (a session cannot be written) and PopAll
// (sessions cannot be revoked).
type faultyIndex struct {
	session.Index
	add, popAll failing
}

func (x *faultyIndex) Add(ctx context.Context, userID int64, key string, expiry time.Time, limit int) ([]string, error) {
	if x.add.fail() {
		return nil, errInjected("redis")
	}
	return x.Index.Add(ctx, userID, key, expiry, limit)
}

func (x *faultyIndex) PopAll(ctx context.Context, userID int64) ([]string, error) {
	if x.popAll.fail() {
		return nil, errInjected("redis")
	}
	return x.Index.PopAll(ctx, userID)
}

// faultyUsers is the configured user store with failures injected into Update.
type faultyUsers struct {
	user.Store
	update failing
}

func (u *faultyUsers) Update(ctx context.Context, usr *user.User) error {
	if u.update.fail() {
		return errInjected("postgres")
	}
	return u.Store.Update(ctx, usr)
}

// faults wraps the fixture's stores (after forBackends put them on memory
// or on PostgreSQL + Redis) with the injectors.
type faults struct {
	index  *faultyIndex
	users  *faultyUsers
	hook   failing // used by hooks the test installs
	refuse failing // OnLogin refuses
}

func withFaults(fl *faults, mod func(*simpleuser.Config)) func(*simpleuser.Config) {
	return func(c *simpleuser.Config) {
		if c.SessionStore == nil {
			c.SessionStore, c.SessionIndex = sessionmemory.New()
		}
		fl.index = &faultyIndex{Index: c.SessionIndex}
		c.SessionIndex = fl.index
		if c.Users == nil {
			m := usermemory.New()
			m.Now = c.Now
			c.Users = m
		}
		fl.users = &faultyUsers{Store: c.Users}
		c.Users = fl.users
		if mod != nil {
			mod(c)
		}
	}
}

// A one-time code survives every failure that is not its own (SPEC §5):
// each flow that takes a code either completes and spends it, or fails and
// leaves it usable; and once the account was committed, a failed answer is
// followed by a successful retry, not 403.
func TestCodeSurvivesFailuresNotItsOwn(t *testing.T) { forBackends(t, testCodeSurvivesFailures) }

func testCodeSurvivesFailures(t *testing.T, newFixture fixtureMaker) {
	ctx := context.Background()
	fl := &faults{}
	f := newFixture(t, withFaults(fl, func(c *simpleuser.Config) {
		c.Hooks.AfterCreate = func(context.Context, *user.User, hooks.Payload) error {
			if fl.hook.fail() {
				return errInjected("postgres") // the app's own table is locked
			}
			return nil
		}
		c.Hooks.OnLogin = func(context.Context, *user.User, hooks.LoginInfo) error {
			if fl.refuse.fail() {
				return hooks.Reject(403, "closed for maintenance")
			}
			return nil
		}
		c.Hooks.OnUnregister = func(context.Context, *user.User) error {
			if fl.hook.fail() {
				return errInjected("postgres")
			}
			return nil
		}
	}))
	send := func(t *testing.T, c simpleuser.Client, email, purpose string) string {
		t.Helper()
		f.clock.Advance(time.Minute) // past the cooldowns
		if err := f.svc.SendCode(ctx, c, email, purpose); err != nil {
			t.Fatalf("send %s to %s: %v", purpose, email, err)
		}
		return f.mail.code(email, purpose)
	}
	want := func(t *testing.T, what string, err error, st int) {
		t.Helper()
		if got := status(err); got != st {
			t.Fatalf("%s: %v (status %d), want %d", what, err, got, st)
		}
	}
	// spent asserts that the code acted: a second use is refused.
	spent := func(t *testing.T, what string, retry func() error) {
		t.Helper()
		want(t, what+": the code used again", retry(), 403)
	}

	t.Run("sign-up: the app's hook fails", func(t *testing.T) {
		c, email := client("su-hook"), "su-hook@example.com"
		code := send(t, c, email, hooks.PurposeLogin)
		login := func() error {
			_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
			return err
		}
		fl.hook.Arm(1)
		want(t, "first sign-up", login(), 503)
		if _, err := f.svc.GetUserByEmail(ctx, email); !errors.Is(err, user.ErrNotFound) {
			t.Fatalf("the rolled-back sign-up left an account: %v", err)
		}
		want(t, "retry", login(), 200)
		spent(t, "sign-up", login)
	})

	t.Run("sign-up: the session cannot be written after the commit", func(t *testing.T) {
		c, email := client("su-sess"), "su-sess@example.com"
		code := send(t, c, email, hooks.PurposeLogin)
		fl.index.add.Arm(1)
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "first sign-up", err, 503)
		u, err := f.svc.GetUserByEmail(ctx, email)
		if err != nil {
			t.Fatalf("the account was not committed: %v", err)
		}
		res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		if err != nil || res.UserID != u.ID || res.Token == "" {
			t.Fatalf("retry: %+v, %v; want a session for user %d", res, err, u.ID)
		}
		spent(t, "sign-up", func() error {
			_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
			return err
		})
	})

	t.Run("login: the session cannot be written", func(t *testing.T) {
		c, email := client("li-sess"), "li-sess@example.com"
		f.login(t, c, email)
		code := send(t, c, email, hooks.PurposeLogin)
		fl.index.add.Arm(1)
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "first login", err, 503)
		_, err = f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "retry", err, 200)
	})

	t.Run("login: the user store fails", func(t *testing.T) {
		c, email := client("li-db"), "li-db@example.com"
		f.login(t, c, email)
		code := send(t, c, email, hooks.PurposeLogin)
		fl.users.update.Arm(1)
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "first login", err, 503)
		_, err = f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "retry", err, 200)
	})

	t.Run("login: the app refuses, then accepts", func(t *testing.T) {
		// A refusal that is not about the code (OnLogin says no) leaves
		// the code usable too.
		c, email := client("li-refuse"), "li-refuse@example.com"
		f.login(t, c, email)
		code := send(t, c, email, hooks.PurposeLogin)
		fl.refuse.Arm(1)
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "refused login", err, 403)
		if errors.Is(err, simpleuser.ErrInvalidCode) {
			t.Fatalf("refused login: %v, want the app's refusal", err)
		}
		_, err = f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
		want(t, "retry", err, 200)
	})

	t.Run("reset-password: sessions cannot be revoked", func(t *testing.T) {
		c, email := client("rp"), "rp@example.com"
		f.login(t, c, email)
		code := send(t, c, email, hooks.PurposeResetPassword)
		fl.index.popAll.Arm(1)
		want(t, "first reset", f.svc.ResetPassword(ctx, email, code, "new-password-1"), 503)
		if _, err := f.svc.Login(ctx, client("rp-2"), simpleuser.LoginInput{Email: email, Password: "new-password-1"}); status(err) != 403 {
			t.Fatalf("the failed reset set the password: %v", err)
		}
		want(t, "retry", f.svc.ResetPassword(ctx, email, code, "new-password-1"), 200)
		if _, err := f.svc.Login(ctx, client("rp-3"), simpleuser.LoginInput{Email: email, Password: "new-password-1"}); err != nil {
			t.Fatalf("login with the reset password: %v", err)
		}
		spent(t, "reset-password", func() error { return f.svc.ResetPassword(ctx, email, code, "new-password-2") })
	})

	t.Run("change-email: the user store fails", func(t *testing.T) {
		c, email, next := client("ce"), "ce@example.com", "ce-new@example.com"
		res := f.login(t, c, email)
		u, err := f.svc.GetUser(ctx, res.UserID)
		if err != nil {
			t.Fatal(err)
		}
		code := send(t, c, next, hooks.PurposeChangeEmail)
		fl.users.update.Arm(1)
		want(t, "first change", f.svc.ChangeEmail(ctx, u, next, code), 503)
		want(t, "retry", f.svc.ChangeEmail(ctx, u, next, code), 200)
		if got, err := f.svc.GetUser(ctx, u.ID); err != nil || got.Email != next {
			t.Fatalf("after the change: %+v, %v", got, err)
		}
		spent(t, "change-email", func() error { return f.svc.ChangeEmail(ctx, u, next, code) })
	})

	t.Run("unregister-with-code: the app's hook fails", func(t *testing.T) {
		c, email := client("uw"), "uw@example.com"
		res := f.login(t, c, email)
		code := send(t, c, email, hooks.PurposeUnregister)
		fl.hook.Arm(1)
		want(t, "first unregister", f.svc.UnregisterWithCode(ctx, email, code), 503)
		if u, _ := f.svc.GetUser(ctx, res.UserID); u == nil || u.Unregistered() {
			t.Fatalf("the failed unregister changed the account: %+v", u)
		}
		want(t, "retry", f.svc.UnregisterWithCode(ctx, email, code), 200)
		if u, _ := f.svc.GetUser(ctx, res.UserID); u == nil || !u.Unregistered() {
			t.Fatalf("the account is not unregistered: %+v", u)
		}
	})
}

// A full hasher (503 BUSY) leaves the sign-up's code usable: the password
// is hashed before the code is spent.
func TestCodeSurvivesBusyHasher(t *testing.T) { forBackends(t, testCodeSurvivesBusyHasher) }

func testCodeSurvivesBusyHasher(t *testing.T, newFixture fixtureMaker) {
	ctx := context.Background()
	f := newFixture(t, func(c *simpleuser.Config) {
		c.HashConcurrency = 1
		c.HashMaxWait = time.Millisecond
		c.Argon2 = password.Params{Memory: 32 * 1024, Time: 3, Threads: 1} // slow enough to hold the one slot
	})
	// Keep the hasher's one slot taken, back to back, until the test has
	// seen a sign-up refused.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = f.svc.Hasher().Hash(ctx, "holder-password")
		}
	})
	// A sign-up can slip into the gap between two of the holder's hashes;
	// then it succeeds, and the test tries again with another address.
	var c simpleuser.Client
	var email, code string
	var refused error
	for i := 0; i < 50 && refused == nil; i++ {
		c, email = client(fmt.Sprint("busy-", i)), fmt.Sprint("busy-", i, "@example.com")
		if err := f.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		code = f.mail.code(email, hooks.PurposeLogin)
		for f.svc.Hasher().InFlight() == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code, SetPassword: "signup-password"})
		if e := simpleuser.AsError(err); e != nil {
			if e.Status != 503 || e.Code != simpleuser.CodeBusy {
				t.Fatalf("sign-up with the hasher full: %v, want 503 BUSY", err)
			}
			refused = err
		}
	}
	close(stop)
	wg.Wait()
	if refused == nil {
		t.Fatal("50 sign-ups all found the hasher's one slot free")
	}
	if _, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code, SetPassword: "signup-password"}); err != nil {
		t.Fatalf("retry with the same code: %v", err)
	}
	if _, err := f.svc.Login(ctx, client("busy-other"), simpleuser.LoginInput{Email: email, Password: "signup-password"}); err != nil {
		t.Fatalf("the password set by the retried sign-up: %v", err)
	}
}

// One code acts at most once under concurrency, also when the losers meet
// the winner's account (a sign-up racing a sign-up): exactly one session,
// every other attempt 403 INVALID_CODE or, past the five attempts in flight
// the window allows, 429 (never a 409 or a 5xx), one account.
func TestConcurrentSignUpsWithOneCode(t *testing.T) { forBackends(t, testConcurrentSignUps) }

func testConcurrentSignUps(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	email := "one-code@example.com"
	if err := f.svc.SendCode(ctx, client("sender"), email, hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	code := f.mail.code(email, hooks.PurposeLogin)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Login(ctx, client(fmt.Sprint("racer-", i)), simpleuser.LoginInput{Email: email, Code: code})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch status(err) {
		case 200:
			ok++
		case 403:
			if !errors.Is(err, simpleuser.ErrInvalidCode) {
				t.Errorf("racer %d: %v, want INVALID_CODE", i, err)
			}
		case 429:
			if e := simpleuser.AsError(err); e.Code != simpleuser.CodeCodeBlocked {
				t.Errorf("racer %d: %v, want TOO_MANY_CODE_ATTEMPTS", i, err)
			}
		default:
			t.Errorf("racer %d: %v, want 200 or 403 INVALID_CODE", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ups succeeded with one code, want exactly 1", ok)
	}
	if _, err := f.svc.GetUserByEmail(ctx, email); err != nil {
		t.Fatalf("the winner's account: %v", err)
	}
}

// A code sign-up that meets a row lock held past lock_timeout (real
// PostgreSQL) answers 503 and leaves the code usable; once the lock is gone
// the same code signs up, upgrading the same anonymous user.
func TestSignUpMeetsLockedRow(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t) // a fresh schema
	locker, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(locker.Close)
	if err := postgres.Migrate(ctx, locker); err != nil {
		t.Fatal(err)
	}
	kit, err := postgres.Open(ctx, url+"&lock_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kit.Close)
	f := newFixture(t, func(c *simpleuser.Config) {
		useRealBackends(t, c) // Redis
		users := postgres.New(kit)
		users.Now = c.Now
		c.Users = users
	})
	c, email := client("locked"), "locked@example.com"
	anon, err := f.svc.ResolveUser(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	code := f.mail.code(email, hooks.PurposeLogin)

	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM simpleuser_users WHERE id = $1 FOR UPDATE`, anon.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
	if e := simpleuser.AsError(err); e == nil || e.Status != 503 || e.Code != simpleuser.CodeUnavailable {
		t.Fatalf("sign-up on a locked row: %v, want 503 BACKEND_UNAVAILABLE", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: code})
	if err != nil || res.UserID != anon.ID {
		t.Fatalf("retry: %+v, %v; want the anonymous user %d upgraded", res, err, anon.ID)
	}
}
