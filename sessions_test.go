package simpleuser_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
	"github.com/simpleuser/simpleuser/session/sessiontest"
	"github.com/simpleuser/simpleuser/user"
	usermemory "github.com/simpleuser/simpleuser/user/memory"
)

const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safariIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// device is a client with its own user agent.
func device(ssaid, ua string) simpleuser.Client {
	c := client(ssaid)
	c.UserAgent = ua
	return c
}

// loginAs logs email in from c (code login) and returns c with the token.
func (f *fixture) loginAs(t *testing.T, c simpleuser.Client, email string) simpleuser.Client {
	t.Helper()
	f.clock.Advance(time.Minute) // past the send cooldown
	c.Token = f.login(t, c, email).Token
	return c
}

// uid is the user of c's session.
func (f *fixture) uid(t *testing.T, c simpleuser.Client) int64 {
	t.Helper()
	d, err := f.svc.Sessions().Get(context.Background(), c.Token)
	if err != nil {
		t.Fatal(err)
	}
	return d.UserID
}

func (f *fixture) alive(t *testing.T, what string, c simpleuser.Client, want bool) {
	t.Helper()
	_, err := f.svc.ResolveUser(context.Background(), c)
	if got := err == nil; got != want {
		t.Errorf("%s: session alive = %v (%v), want %v", what, got, err, want)
	}
}

func TestListAndEndSessions(t *testing.T) { forBackends(t, testListAndEndSessions) }

func testListAndEndSessions(t *testing.T, newFixture fixtureMaker) {
	var mu sync.Mutex
	var events []hooks.Event
	f := newFixture(t, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
			return nil
		}
	})
	ctx := context.Background()
	const email = "sessions@example.com"
	laptop := f.loginAs(t, device("laptop", firefoxLinux), email)
	phone := f.loginAs(t, device("phone", safariIPhone), email)
	curl := f.loginAs(t, device("script", "curl/8.5.0"), email)
	other := f.loginAs(t, device("other", firefoxLinux), "other@example.com")
	uid := f.uid(t, f.loginAs(t, client("x"), email)) // a fourth session, from another device
	otherID := f.uid(t, f.loginAs(t, client("y"), "other@example.com"))
	f.clock.Advance(2 * time.Minute)
	f.alive(t, "phone", phone, true) // used now: listed first
	seen := f.clock.Now()

	list, err := f.svc.ListSessions(ctx, uid, laptop.Token)
	if err != nil || len(list) != 4 {
		t.Fatalf("ListSessions = %+v, %v; want 4", list, err)
	}
	first := list[0]
	if first.Device != "Safari on iOS" || first.UserAgent != safariIPhone || first.IP != phone.IP.String() ||
		!first.LastSeenAt.Equal(seen) || first.Current || first.LastSeenAt.Before(first.CreatedAt) {
		t.Errorf("most recently used session = %+v, want the phone's, seen %v", first, seen)
	}
	byDevice := map[string]simpleuser.SessionInfo{}
	for _, s := range list {
		byDevice[s.Device] = s
		if s.ID == "" || s.ID == laptop.Token || len(s.ID) >= len(laptop.Token) {
			t.Errorf("id %q: want a short opaque handle", s.ID)
		}
	}
	if l := byDevice["Firefox on Linux"]; !l.Current || l.IP != laptop.IP.String() {
		t.Errorf("laptop session = %+v, want current", l)
	}
	if c := byDevice["curl"]; c.Current || !c.LastSeenAt.Equal(c.CreatedAt) {
		t.Errorf("curl session = %+v: never used since login, not current", c)
	}

	// Another user's id is not found, and ends nothing.
	otherList, err := f.svc.ListSessions(ctx, otherID, "")
	if err != nil || len(otherList) != 2 {
		t.Fatalf("other's sessions: %+v, %v", otherList, err)
	}
	wantCode(t, f.svc.EndSession(ctx, uid, otherList[0].ID), 404, simpleuser.CodeSessionNotFound)
	wantCode(t, f.svc.EndSession(ctx, uid, "not-an-id"), 404, simpleuser.CodeSessionNotFound)
	f.alive(t, "other user's", other, true)

	// End the phone's session by its id: only that one ends, once.
	mu.Lock()
	events = nil
	mu.Unlock()
	if err := f.svc.EndSession(ctx, uid, first.ID); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	wantCode(t, f.svc.EndSession(ctx, uid, first.ID), 404, simpleuser.CodeSessionNotFound)
	f.alive(t, "phone", phone, false)
	f.alive(t, "laptop", laptop, true)
	mu.Lock()
	if len(events) != 1 || events[0].Type != hooks.LoggedOut || events[0].UserID != uid || events[0].IP != phone.IP.String() {
		t.Errorf("events = %+v, want one LoggedOut of the phone's session", events)
	}
	mu.Unlock()

	// End all but the caller's.
	if n, err := f.svc.EndOtherSessions(ctx, uid, laptop.Token); err != nil || n != 2 {
		t.Fatalf("EndOtherSessions = %d, %v; want 2", n, err)
	}
	f.alive(t, "curl", curl, false)
	f.alive(t, "laptop", laptop, true)
	f.alive(t, "other user's", other, true)
	if list, err := f.svc.ListSessions(ctx, uid, laptop.Token); err != nil || len(list) != 1 || !list[0].Current {
		t.Errorf("after EndOtherSessions: %+v, %v; want the caller's alone", list, err)
	}
}

// Change password ends every other session and keeps the caller's; reset
// password and the administrator's SetPassword end them all.
func TestPasswordChangesAndSessions(t *testing.T) { forBackends(t, testPasswordChangesAndSessions) }

func testPasswordChangesAndSessions(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const email = "pw-sessions@example.com"
	var devs []simpleuser.Client
	for _, name := range []string{"a", "b", "c"} {
		devs = append(devs, f.loginAs(t, client("pw-"+name), email))
	}
	bystander := f.loginAs(t, client("pw-other"), "bystander@example.com")
	u, err := f.svc.ResolveUser(ctx, devs[1])
	if err != nil {
		t.Fatal(err)
	}

	if err := f.svc.ChangePassword(ctx, devs[1], u, "first-password", ""); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	f.alive(t, "the caller's", devs[1], true)
	f.alive(t, "another device's", devs[0], false)
	f.alive(t, "another device's", devs[2], false)
	f.alive(t, "another user's", bystander, true)

	// Without the caller's token (a Go caller), every session ends.
	devs[0] = f.loginAs(t, client("pw-a"), email)
	noToken := devs[1]
	noToken.Token = ""
	u, _ = f.svc.ResolveUser(ctx, devs[1])
	if err := f.svc.ChangePassword(ctx, noToken, u, "second-password", "first-password"); err != nil {
		t.Fatalf("ChangePassword without a token: %v", err)
	}
	f.alive(t, "a", devs[0], false)
	f.alive(t, "b", devs[1], false)

	// Reset ends all.
	devs[0], devs[1] = f.loginAs(t, client("pw-a"), email), f.loginAs(t, client("pw-b"), email)
	f.clock.Advance(time.Minute)
	if err := f.svc.SendCode(ctx, devs[0], email, hooks.PurposeResetPassword); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ResetPassword(ctx, email, f.mail.code(email, hooks.PurposeResetPassword), "third-password"); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	f.alive(t, "a after reset", devs[0], false)
	f.alive(t, "b after reset", devs[1], false)

	// The administrator's SetPassword ends all.
	devs[0], devs[1] = f.loginAs(t, client("pw-a"), email), f.loginAs(t, client("pw-b"), email)
	if err := f.svc.SetPassword(ctx, u.ID, "fourth-password"); err != nil {
		t.Fatal(err)
	}
	f.alive(t, "a after SetPassword", devs[0], false)
	f.alive(t, "b after SetPassword", devs[1], false)
	f.alive(t, "another user's", bystander, true)
}

// A login beyond Config.MaxSessionsPerUser ends the user's oldest session.
func TestSessionCap(t *testing.T) { forBackends(t, testSessionCap) }

func testSessionCap(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) { c.MaxSessionsPerUser = 3 })
	const email = "cap@example.com"
	var devs []simpleuser.Client
	for i := range 5 {
		devs = append(devs, f.loginAs(t, client("cap-"+string(rune('a'+i))), email))
	}
	for i, d := range devs {
		f.alive(t, "session "+string(rune('a'+i)), d, i >= 2)
	}
	u, err := f.svc.ResolveUser(context.Background(), devs[4])
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.ListSessions(context.Background(), u.ID, devs[4].Token)
	if err != nil || len(list) != 3 || !list[0].Current {
		t.Errorf("ListSessions = %+v, %v; want the 3 newest, the caller's first", list, err)
	}
}

// countingUsers counts the writes a user store is asked for.
type countingUsers struct {
	user.Store
	writes atomic.Int64
}

func (c *countingUsers) TouchActive(ctx context.Context, id int64, ip string, at time.Time) error {
	c.writes.Add(1)
	return c.Store.TouchActive(ctx, id, ip, at)
}

func (c *countingUsers) Update(ctx context.Context, u *user.User) error {
	c.writes.Add(1)
	return c.Store.Update(ctx, u)
}

// A request writes at most once a minute: the user's last-active time
// (per user) and the session's lastSeenAt (per session) are each written
// at most once per Config.ActiveTouchInterval, and no other write happens
// when resolving the current user or session.
func TestRequestsWriteAtMostOnceAMinute(t *testing.T) {
	forBackends(t, testRequestsWriteAtMostOnceAMinute)
}

func testRequestsWriteAtMostOnceAMinute(t *testing.T, newFixture fixtureMaker) {
	var sessions *sessiontest.Counter
	var users *countingUsers
	var clock func() time.Time
	f := newFixture(t, func(c *simpleuser.Config) {
		if c.SessionStore == nil {
			c.SessionStore, c.SessionIndex = sessionmemory.New()
		}
		if c.Users == nil {
			m := usermemory.New()
			m.Now = c.Now
			c.Users = m
		}
		sessions = &sessiontest.Counter{Store: c.SessionStore}
		users = &countingUsers{Store: c.Users}
		c.SessionStore, c.Users = sessions, users
		clock = c.Now
	})
	ctx := context.Background()
	dev := f.loginAs(t, client("busy"), "busy@example.com")
	uid := f.uid(t, f.loginAs(t, client("idle"), "busy@example.com"))
	loggedIn := clock()
	sessions.Writes.Store(0)
	users.writes.Store(0)

	// Ten minutes of two requests a second, alternating between what
	// GET /me (CurrentUser) and /app/whoami (CurrentSession) resolve.
	const perMinute = 120
	for minute := 1; minute <= 10; minute++ {
		for i := range perMinute {
			f.clock.Advance(time.Minute / perMinute)
			rctx := f.svc.WithClient(ctx, dev)
			var err error
			if i%2 == 0 {
				_, err = simpleuser.CurrentUser(rctx)
			} else {
				_, err = simpleuser.CurrentSession(rctx)
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
		}
		// The session's touch falls due on each minute's last request (a
		// minute after the login), the user's on each minute's first.
		if got := sessions.Writes.Load(); got != int64(minute) {
			t.Fatalf("after %d min of requests: %d session writes, want %d", minute, got, minute)
		}
		if got := users.writes.Load(); got != int64(minute) {
			t.Fatalf("after %d min of requests: %d user writes, want %d", minute, got, minute)
		}
	}
	list, err := f.svc.ListSessions(ctx, uid, dev.Token)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListSessions = %+v, %v", list, err)
	}
	if now := f.clock.Now(); !list[0].Current || now.Sub(list[0].LastSeenAt) >= time.Minute || list[0].LastSeenAt.After(now) {
		t.Errorf("the busy session was last seen %v, want within a minute of %v", list[0].LastSeenAt, now)
	}
	if !list[1].LastSeenAt.Equal(loggedIn) {
		t.Errorf("the idle session was last seen %v, want at its login %v", list[1].LastSeenAt, loggedIn)
	}

	// With last-active writes off, requests write nothing.
	sessions.Writes.Store(0)
	users.writes.Store(0)
	g := newFixture(t, func(c *simpleuser.Config) {
		c.ActiveTouchInterval = -1
		if c.SessionStore == nil {
			c.SessionStore, c.SessionIndex = sessionmemory.New()
		}
		sessions = &sessiontest.Counter{Store: c.SessionStore}
		c.SessionStore = sessions
	})
	dev = g.loginAs(t, client("quiet"), "quiet@example.com")
	sessions.Writes.Store(0)
	for range 10 {
		g.clock.Advance(time.Minute)
		if _, err := simpleuser.CurrentUser(g.svc.WithClient(ctx, dev)); err != nil {
			t.Fatal(err)
		}
	}
	if got := sessions.Writes.Load(); got != 0 {
		t.Errorf("%d session writes with ActiveTouchInterval negative, want 0", got)
	}
}
