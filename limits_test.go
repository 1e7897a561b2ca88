package simpleuser_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/password"
)

// natClient is device ssaid behind the shared address ip.
func natClient(ssaid, ip string) simpleuser.Client {
	return simpleuser.Client{SSAID: ssaid, IP: netip.MustParseAddr(ip), UserAgent: "test"}
}

// Fifty correct password logins whose clients give up while they wait for
// the hasher leave no attempt behind: the releases run detached from the
// request's cancellation, so the next correct login succeeds (before, on
// Redis, the cancelled releases failed and locked the account for 15
// minutes).
func TestCancelledLoginsReleaseTheirAttempts(t *testing.T) {
	forBackends(t, testCancelledLoginsRelease)
}

func testCancelledLoginsRelease(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) {
		c.HashConcurrency = 1
		c.HashMaxWait = time.Minute
		// Slow enough that the five attempts allowed in flight are still
		// hashing or queued when the clients give up.
		c.Argon2 = password.Params{Memory: 64 * 1024, Time: 3, Threads: 1}
	})
	bg := context.Background()
	email := "cancel@example.com"
	if _, err := f.svc.CreateUser(bg, simpleuser.NewUser{Email: email, Password: "correct-password"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	const n = 50
	errs := make([]error, n)
	var done atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Login(ctx, natClient(fmt.Sprint("cancel-", i), "192.0.2.10"),
				simpleuser.LoginInput{Email: email, Password: "correct-password"})
			done.Add(1)
		})
	}
	close(start)
	// Attempts in flight count: five (PasswordMaxAttempts) hold the
	// account's slots, one hashing and four queued for the hasher, while
	// the other 45 are refused at once. Then every client gives up.
	for deadline := time.Now().Add(30 * time.Second); done.Load() < n-5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	got := map[int]int{}
	for _, err := range errs {
		got[status(err)]++
		if status(err) == 503 {
			t.Logf("503: %v", err)
		}
	}
	// A login that finished before the clients gave up frees its slot for
	// another: the split of 200 and 429 may move by a few, but every answer
	// is one of these three (499, never a 503, for a client that left).
	if got[200]+got[429]+got[499] != n || got[429] < n-10 || got[499] < 4 {
		t.Fatalf("statuses %v, want about 45 × 429 and 5 in flight, at least 4 of them cancelled (499)", got)
	}
	if _, err := f.svc.Login(bg, natClient("after", "192.0.2.10"), simpleuser.LoginInput{Email: email, Password: "correct-password"}); err != nil {
		t.Fatalf("a correct login after %d cancelled ones: %v, want 200", got[499], err)
	}
}

// Behind one NAT address, people do not lock each other out: five wrong
// passwords for A block A (and the devices that tried), not B; the
// address is blocked only after PasswordAddressMaxAttempts (100) failures.
func TestSharedAddressIsNotCollateral(t *testing.T) { forBackends(t, testSharedAddress) }

func testSharedAddress(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const nat = "203.0.113.50"
	for _, e := range []string{"nat-a@example.com", "nat-b@example.com"} {
		if _, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: e, Password: "right-password"}); err != nil {
			t.Fatal(err)
		}
	}
	login := func(dev, email, pw string) error {
		_, err := f.svc.Login(ctx, natClient(dev, nat), simpleuser.LoginInput{Email: email, Password: pw})
		return err
	}
	for i := range 5 {
		if err := login(fmt.Sprint("a-dev-", i), "nat-a@example.com", "wrong-password"); status(err) != 403 {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if err := login("a-dev-9", "nat-a@example.com", "right-password"); status(err) != 429 {
		t.Fatalf("A after five failures: %v, want 429", err)
	}
	if err := login("b-dev", "nat-b@example.com", "right-password"); err != nil {
		t.Fatalf("B behind the same address: %v, want 200", err)
	}
	// A device that failed five times (once on each of five accounts) is
	// blocked on every account; unknown accounts cost it nothing.
	for i := range 5 {
		if err := login("one-device", fmt.Sprint("nobody-", i, "@example.com"), "x"); status(err) != 404 {
			t.Fatalf("unknown account: %v, want 404", err)
		}
	}
	for i := range 5 {
		e := fmt.Sprint("dev-target-", i, "@example.com")
		if _, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: e, Password: "right-password"}); err != nil {
			t.Fatal(err)
		}
		if err := login("one-device", e, "wrong-password"); status(err) != 403 {
			t.Fatalf("device failure %d: %v", i, err)
		}
	}
	if err := login("one-device", "nat-b@example.com", "right-password"); status(err) != 429 {
		t.Fatalf("the device after five failures: %v, want 429", err)
	}
	if err := login("b-dev-2", "nat-b@example.com", "right-password"); err != nil {
		t.Fatalf("B from another device: %v, want 200", err)
	}

	// The address: 100 failures (A's 5, the device's 5, 90 more on fresh
	// accounts from fresh devices) block it, for everyone behind it.
	for i := range 90 {
		e := fmt.Sprint("spray-", i, "@example.com")
		if _, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: e, Password: "right-password"}); err != nil {
			t.Fatal(err)
		}
		if err := login(fmt.Sprint("spray-dev-", i), e, "wrong-password"); status(err) != 403 {
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	err := login("c-dev", "nat-b@example.com", "right-password")
	if e := simpleuser.AsError(err); e == nil || e.Status != 429 || e.Code != simpleuser.CodePasswordBlocked || e.Wait <= 0 || e.Wait > 15*time.Minute {
		t.Fatalf("the address after 100 failures: %v, want 429 with a wait", err)
	}
	if _, err := f.svc.Login(ctx, natClient("elsewhere", "198.51.100.60"), simpleuser.LoginInput{Email: "nat-b@example.com", Password: "right-password"}); err != nil {
		t.Fatalf("B from another address: %v", err)
	}
}

// Each limit is its own Config field; a negative value turns it off.
func TestAddressLimitsCanBeTurnedOff(t *testing.T) { forBackends(t, testAddressLimitsOff) }

func testAddressLimitsOff(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) {
		c.PasswordAddressMaxAttempts = -1
		c.SendAddressLimit = -1
		c.AnonymousAddressLimit = -1
	})
	ctx := context.Background()
	const nat = "203.0.113.77"
	for i := range 25 {
		if err := f.svc.SendCode(ctx, natClient(fmt.Sprint("d", i), nat), fmt.Sprint("off-", i, "@example.com"), hooks.PurposeLogin); err != nil {
			t.Fatalf("send %d with the address budget off: %v", i, err)
		}
	}
	// 120 wrong passwords from one address, each on its own account and
	// device: with the address's limit on, the 101st would be refused.
	for i := range 120 {
		e := fmt.Sprint("off-", i, "@example.com")
		if _, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: e, Password: "right-password"}); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Login(ctx, natClient(fmt.Sprint("pw-", i), nat), simpleuser.LoginInput{Email: e, Password: "wrong-password"})
		if status(err) != 403 {
			t.Fatalf("failure %d with the address's limit off: %v, want 403", i, err)
		}
	}
	if _, err := f.svc.Login(ctx, natClient("pw-last", nat), simpleuser.LoginInput{Email: "off-0@example.com", Password: "right-password"}); err != nil {
		t.Fatalf("after 120 failures from one address with its limit off: %v", err)
	}
	// 2,000 anonymous users from one address, with its budget off.
	for i := range 2000 {
		if _, err := f.svc.ResolveUser(ctx, natClient(fmt.Sprint("anon-", i), nat)); err != nil {
			t.Fatalf("anonymous user %d with the budget off: %v", i, err)
		}
	}
}

// Creating anonymous users is budgeted per client address: past the
// budget a fresh ssaid gets 429 TOO_MANY_ANONYMOUS_USERS with a wait;
// existing anonymous users, and other addresses, are unaffected.
func TestAnonymousUsersBudgetedPerAddress(t *testing.T) { forBackends(t, testAnonymousBudget) }

func testAnonymousBudget(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) { c.AnonymousAddressLimit = 20 })
	ctx := context.Background()
	const ip = "198.51.100.200"
	var first *simpleuser.Client
	for i := range 20 {
		c := natClient(fmt.Sprint("rot-", i), ip)
		if _, err := f.svc.ResolveUser(ctx, c); err != nil {
			t.Fatalf("anonymous user %d: %v", i, err)
		}
		if first == nil {
			first = &c
		}
		f.clock.Advance(time.Minute)
	}
	_, err := f.svc.ResolveUser(ctx, natClient("rot-over", ip))
	if e := simpleuser.AsError(err); e == nil || e.Status != 429 || e.Code != simpleuser.CodeAnonymousBudget || e.Wait != 40*time.Minute {
		t.Fatalf("the 21st new device: %v, want 429 TOO_MANY_ANONYMOUS_USERS waiting 40m", err)
	}
	if _, err := f.svc.ResolveUser(ctx, *first); err != nil {
		t.Fatalf("an existing anonymous user past the budget: %v", err)
	}
	if _, err := f.svc.ResolveUser(ctx, natClient("rot-v6", "2001:db8::1")); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// A device past the budget can still sign up (a code login upgrades
	// its would-be anonymous user): registration is not anonymous creation.
	over := natClient("rot-over", ip)
	if err := f.svc.SendCode(ctx, over, "rot@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, over, simpleuser.LoginInput{Email: "rot@example.com", Code: f.mail.code("rot@example.com", hooks.PurposeLogin)}); err != nil {
		t.Fatalf("sign-up past the anonymous budget: %v", err)
	}
	f.clock.Advance(40 * time.Minute)
	if _, err := f.svc.ResolveUser(ctx, natClient("rot-later", ip)); err != nil {
		t.Fatalf("after the oldest creation aged out: %v", err)
	}
}

// The default budget is 1,000 anonymous users per address per hour.
func TestAnonymousBudgetDefault(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for i := range 1000 {
		if _, err := f.svc.ResolveUser(ctx, natClient(fmt.Sprint("d-", i), "192.0.2.99")); err != nil {
			t.Fatalf("anonymous user %d: %v", i, err)
		}
	}
	if _, err := f.svc.ResolveUser(ctx, natClient("d-1000", "192.0.2.99")); status(err) != 429 {
		t.Fatalf("the 1001st: %v, want 429", err)
	}
}

// Every path that takes a password refuses one over PasswordMaxLength with
// 400, before any hashing or queueing (the hasher's slot count does not
// move), and without spending a code.
func TestOverlongPasswordsNeverReachTheHasher(t *testing.T) {
	forBackends(t, testOverlongPasswords)
}

func testOverlongPasswords(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	long := strings.Repeat("p", simpleuser.DefaultPasswordMaxLength+1)
	c := client("long")
	res := f.login(t, c, "long@example.com")
	if err := f.svc.SetPassword(ctx, res.UserID, "a-fine-password"); err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.GetUser(ctx, res.UserID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.SendCode(ctx, c, "long@example.com", hooks.PurposeResetPassword); err != nil {
		t.Fatal(err)
	}
	resetCode := f.mail.code("long@example.com", hooks.PurposeResetPassword)
	if err := f.svc.SendCode(ctx, client("long-new"), "long-new@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	signupCode := f.mail.code("long-new@example.com", hooks.PurposeLogin)

	before := f.svc.Hasher().Slots()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"login password", func() error {
			_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: "long@example.com", Password: long})
			return err
		}()},
		{"sign-up setPassword", func() error {
			_, err := f.svc.Login(ctx, client("long-new"), simpleuser.LoginInput{Email: "long-new@example.com", Code: signupCode, SetPassword: long})
			return err
		}()},
		{"reset newPassword", f.svc.ResetPassword(ctx, "long@example.com", resetCode, long)},
		{"change newPassword", f.svc.ChangePassword(ctx, c, u, long, "a-fine-password")},
		{"change currentPassword", f.svc.ChangePassword(ctx, c, u, "another-password", long)},
		{"admin SetPassword", f.svc.SetPassword(ctx, u.ID, long)},
		{"CreateUser", func() error {
			_, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "long-admin@example.com", Password: long})
			return err
		}()},
	} {
		if e := simpleuser.AsError(tc.err); e == nil || e.Status != 400 || e.Code != simpleuser.CodeInvalidInput {
			t.Errorf("%s: %v, want 400 INVALID_INPUT", tc.name, tc.err)
		}
	}
	if got := f.svc.Hasher().Slots(); got != before {
		t.Fatalf("over-long passwords took %d hasher slots, want 0", got-before)
	}
	// The codes were not spent.
	if err := f.svc.ResetPassword(ctx, "long@example.com", resetCode, "a-new-password"); err != nil {
		t.Fatalf("reset with the code after the 400: %v", err)
	}
	if _, err := f.svc.Login(ctx, client("long-new"), simpleuser.LoginInput{Email: "long-new@example.com", Code: signupCode}); err != nil {
		t.Fatalf("sign-up with the code after the 400: %v", err)
	}
	// And the limit is the configured one.
	if _, err := simpleuser.New(simpleuser.Config{
		Hooks:        hooks.Hooks{SendCode: f.mail.send},
		InitialUsers: []simpleuser.InitialUser{{Email: "seed@example.com", Password: long}},
	}); err == nil || !strings.Contains(err.Error(), "InitialUsers[0].Password") {
		t.Fatalf("an over-long initial password: %v, want a config error naming the field", err)
	}
}
