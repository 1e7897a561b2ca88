package simpleuser_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
	"golang.org/x/crypto/bcrypt"
)

// recorder logs hook calls and events in order.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) events() []string {
	var out []string
	for _, c := range r.list() {
		if strings.HasPrefix(c, "event:") {
			out = append(out, strings.TrimPrefix(c, "event:"))
		}
	}
	return out
}

func recordingHooks(r *recorder, h *hooks.Hooks) {
	h.BeforeCreate = func(_ context.Context, u *user.User, p hooks.Payload) error {
		r.add("BeforeCreate")
		u.Metadata["nickname"] = p.String("nickname")
		return nil
	}
	h.AfterCreate = func(_ context.Context, u *user.User, p hooks.Payload) error {
		r.add("AfterCreate")
		if u.ID == 0 {
			return errors.New("AfterCreate without an id")
		}
		if p.String("referralCode") == "bad" {
			return hooks.Reject(http.StatusBadRequest, "unknown referral code")
		}
		return nil
	}
	h.OnLogin = func(context.Context, *user.User, hooks.LoginInfo) error { r.add("OnLogin"); return nil }
	h.OnMigrateUser = func(_ context.Context, anon, acc *user.User) error {
		r.add("OnMigrateUser")
		if anon.Registered() || !acc.Registered() || anon.ID == acc.ID {
			return errors.New("OnMigrateUser got the wrong users")
		}
		return nil
	}
	h.GetSessionUserData = func(_ context.Context, u *user.User) (map[string]any, error) {
		r.add("GetSessionUserData")
		return map[string]any{"nickname": u.Metadata["nickname"]}, nil
	}
	h.OnEvent = func(_ context.Context, e hooks.Event) error { r.add("event:" + e.Type); return nil }
}

func TestHookOrderAtRegistration(t *testing.T) { forBackends(t, testHookOrderAtRegistration) }

func testHookOrderAtRegistration(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	f := newFixture(t, func(c *simpleuser.Config) { recordingHooks(rec, &c.Hooks) })
	ctx := context.Background()
	c := client("hook-dev")
	if err := f.svc.SendCode(ctx, c, "h@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: "h@example.com", Code: f.mail.code("h@example.com", hooks.PurposeLogin),
		Extra: hooks.Payload{"nickname": []byte(`"neo"`)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"BeforeCreate", "AfterCreate", "OnLogin", "event:UserRegistered", "event:LoggedIn", "GetSessionUserData"}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	u, _ := f.svc.GetUser(ctx, res.UserID)
	if u.Metadata["nickname"] != "neo" {
		t.Fatalf("BeforeCreate's metadata not stored: %v", u.Metadata)
	}
	d, err := f.svc.Sessions().Get(ctx, res.Token)
	if err != nil || string(d.UserData) != `{"nickname":"neo"}` {
		t.Fatalf("session user data %s (err %v)", d.UserData, err)
	}
	// The app renames the user; one call refreshes every session.
	if _, err := f.svc.UpdateMetadata(ctx, u.ID, func(m map[string]any) error { m["nickname"] = "trinity"; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.RefreshSessionUserData(ctx, u.ID); n != 1 || err != nil {
		t.Fatalf("refreshed %d sessions (err %v)", n, err)
	}
	d, _ = f.svc.Sessions().Get(ctx, res.Token)
	if string(d.UserData) != `{"nickname":"trinity"}` {
		t.Fatalf("after refresh: %s", d.UserData)
	}
}

func TestAfterCreateErrorRollsBackRegistration(t *testing.T) {
	forBackends(t, testAfterCreateErrorRollsBackRegistration)
}

func testAfterCreateErrorRollsBackRegistration(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	f := newFixture(t, func(c *simpleuser.Config) { recordingHooks(rec, &c.Hooks) })
	ctx := context.Background()
	c := client("rollback-dev")
	anon, _ := f.svc.ResolveUser(ctx, c)
	_ = f.svc.SendCode(ctx, c, "rb@example.com", hooks.PurposeLogin)
	_, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: "rb@example.com", Code: f.mail.code("rb@example.com", hooks.PurposeLogin),
		Extra: hooks.Payload{"referralCode": []byte(`"bad"`)}})
	if e := simpleuser.AsError(err); e == nil || e.Status != 400 || e.Message != "unknown referral code" {
		t.Fatalf("login error %v, want the hook's 400", err)
	}
	if _, err := f.svc.GetUserByEmail(ctx, "rb@example.com"); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("user exists after AfterCreate failed: %v", err)
	}
	still, err := f.svc.Users().Get(ctx, anon.ID)
	if err != nil || still.Registered() || still.SSAID != "rollback-dev" {
		t.Fatalf("anonymous user changed: %+v (err %v)", still, err)
	}
	for _, e := range rec.events() {
		if e == hooks.UserRegistered || e == hooks.LoggedIn {
			t.Fatalf("event %s emitted for a rolled-back registration", e)
		}
	}
}

func TestOnMigrateUserAndLoginRejection(t *testing.T) {
	forBackends(t, testOnMigrateUserAndLoginRejection)
}

func testOnMigrateUserAndLoginRejection(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	var reject bool
	f := newFixture(t, func(c *simpleuser.Config) {
		recordingHooks(rec, &c.Hooks)
		c.Hooks.OnLogin = func(context.Context, *user.User, hooks.LoginInfo) error {
			if reject {
				return hooks.Reject(http.StatusForbidden, "portal closed")
			}
			return nil
		}
	})
	ctx := context.Background()
	acc := f.login(t, client("first-device"), "m@example.com")
	accUser, _ := f.svc.GetUser(ctx, acc.UserID)
	if err := f.svc.SetPassword(ctx, acc.UserID, "password-1"); err != nil {
		t.Fatal(err)
	}
	// A logged-out device with an anonymous user (a cart, say) logs in.
	dev := client("second-device")
	if _, err := f.svc.ResolveUser(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, dev, simpleuser.LoginInput{Email: "m@example.com", Password: "password-1"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rec.list(), "OnMigrateUser") {
		t.Fatalf("OnMigrateUser not called: %v", rec.list())
	}
	reject = true
	_, err := f.svc.Login(ctx, dev, simpleuser.LoginInput{Email: "m@example.com", Password: "password-1"})
	if e := simpleuser.AsError(err); e.Status != 403 || e.Message != "portal closed" {
		t.Fatalf("OnLogin rejection: %v", err)
	}
	after, _ := f.svc.GetUser(ctx, acc.UserID)
	if after.Version <= accUser.Version {
		t.Fatal("version did not move on the successful login")
	}
	u2, _ := f.svc.GetUser(ctx, acc.UserID)
	if !u2.LoginTime.Equal(after.LoginTime) {
		t.Fatal("a rejected login changed the login time: the transaction did not roll back")
	}
}

func TestGoAPITransactionRollsBackAndDefersEvents(t *testing.T) {
	forBackends(t, testGoAPITransactionRollsBackAndDefersEvents)
}

func testGoAPITransactionRollsBackAndDefersEvents(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	f := newFixture(t, func(c *simpleuser.Config) { recordingHooks(rec, &c.Hooks) })
	ctx := context.Background()
	boom := errors.New("tenant binding failed")
	err := f.svc.WithTx(ctx, func(ctx context.Context) error {
		u, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "tx@example.com", Password: "password-1"})
		if err != nil {
			return err
		}
		if _, err := f.svc.UpdateMetadata(ctx, u.ID, func(m map[string]any) error { m["role"] = "admin"; return nil }); err != nil {
			return err
		}
		if len(rec.events()) != 0 {
			t.Error("event delivered before commit")
		}
		return boom // the app's last step fails
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx = %v", err)
	}
	if _, err := f.svc.GetUserByEmail(ctx, "tx@example.com"); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("user survived the rollback: %v", err)
	}
	if len(rec.events()) != 0 {
		t.Fatalf("events for a rolled-back change: %v", rec.events())
	}
	err = f.svc.WithTx(ctx, func(ctx context.Context) error {
		_, err := f.svc.CreateUser(ctx, simpleuser.NewUser{Email: "tx@example.com"})
		return err
	})
	if err != nil || !slices.Equal(rec.events(), []string{hooks.UserCreated}) {
		t.Fatalf("commit: err %v events %v", err, rec.events())
	}
}

func TestDeleteAndDisable(t *testing.T) { forBackends(t, testDeleteAndDisable) }

func testDeleteAndDisable(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	var veto bool
	f := newFixture(t, func(c *simpleuser.Config) {
		recordingHooks(rec, &c.Hooks)
		c.Hooks.BeforeDelete = func(context.Context, *user.User) error {
			if veto {
				return errors.New("has open invoices")
			}
			return nil
		}
	})
	ctx := context.Background()
	res := f.login(t, client("dd"), "dd@example.com")
	if err := f.svc.SetDisabled(ctx, res.UserID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Sessions().Get(ctx, res.Token); err == nil {
		t.Fatal("disabling left a session alive")
	}
	f.clock.Advance(61e9)
	if err := f.svc.SendCode(ctx, client("dd2"), "dd@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Login(ctx, client("dd2"), simpleuser.LoginInput{Email: "dd@example.com", Code: f.mail.code("dd@example.com", hooks.PurposeLogin)})
	if e := simpleuser.AsError(err); e.Status != 403 || e.Code != simpleuser.CodeAccountDisabled {
		t.Fatalf("disabled login: %v", err)
	}
	if err := f.svc.SetDisabled(ctx, res.UserID, false); err != nil {
		t.Fatal(err)
	}
	veto = true
	if err := f.svc.DeleteUser(ctx, res.UserID); err == nil {
		t.Fatal("BeforeDelete veto ignored")
	}
	if _, err := f.svc.GetUser(ctx, res.UserID); err != nil {
		t.Fatalf("vetoed deletion removed the user: %v", err)
	}
	veto = false
	if err := f.svc.DeleteUser(ctx, res.UserID); err != nil {
		t.Fatal(err)
	}
	ev := rec.events()
	for _, want := range []string{hooks.UserDisabled, hooks.UserEnabled, hooks.LoginFailed, hooks.UserDeleted} {
		if !slices.Contains(ev, want) {
			t.Fatalf("missing event %s in %v", want, ev)
		}
	}
}

func TestFailingSubscriberDoesNotFailTheRequest(t *testing.T) {
	forBackends(t, testFailingSubscriberDoesNotFailTheRequest)
}

func testFailingSubscriberDoesNotFailTheRequest(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error {
			if e.Type == hooks.LoggedIn {
				panic("subscriber bug")
			}
			return errors.New("subscriber down")
		}
	})
	res := f.login(t, client("sub"), "sub@example.com")
	if res.Token == "" {
		t.Fatal("no token")
	}
	if !strings.Contains(f.logs.String(), "event subscriber") {
		t.Fatal("subscriber failure not logged")
	}
}

func TestInitialUsersIdempotentAndLegacyBcrypt(t *testing.T) {
	forBackends(t, testInitialUsersIdempotentAndLegacyBcrypt)
}

func testInitialUsersIdempotentAndLegacyBcrypt(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	cfg := f.svc.Config()
	cfg.InitialUsers = []simpleuser.InitialUser{{Email: "admin@example.com", Password: "admin-password", Metadata: map[string]any{"role": "admin"}}}
	for i := 0; i < 2; i++ {
		if _, err := simpleuser.New(cfg); err != nil {
			t.Fatal(err)
		}
	}
	u, err := f.svc.GetUserByEmail(ctx, "ADMIN@example.com")
	if err != nil || u.Metadata["role"] != "admin" || u.Version != 1 {
		t.Fatalf("initial user %+v err %v (a second start must not rewrite it)", u, err)
	}
	if _, err := f.svc.Login(ctx, client("adm"), simpleuser.LoginInput{Email: "admin@example.com", Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	// A migrated user with a bcrypt hash logs in and is upgraded to argon2id.
	b, _ := bcrypt.GenerateFromPassword([]byte("legacy-password"), bcrypt.MinCost)
	legacy := &user.User{Email: "legacy@example.com", PasswordHash: string(b), Metadata: map[string]any{}}
	if err := f.svc.Users().Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, client("leg"), simpleuser.LoginInput{Email: "legacy@example.com", Password: "legacy-password"}); err != nil {
		t.Fatal(err)
	}
	after, _ := f.svc.GetUser(ctx, legacy.ID)
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %.10s", after.PasswordHash)
	}
}

func TestPurgeUnregisteredEmitsUserDeleted(t *testing.T) {
	forBackends(t, testPurgeUnregisteredEmitsUserDeleted)
}

func testPurgeUnregisteredEmitsUserDeleted(t *testing.T, newFixture fixtureMaker) {
	rec := &recorder{}
	f := newFixture(t, func(c *simpleuser.Config) {
		c.Hooks.OnEvent = func(_ context.Context, e hooks.Event) error { rec.add("event:" + e.Type); return nil }
	})
	ctx := context.Background()
	a := f.login(t, client("pa"), "pa@example.com")
	b := f.login(t, client("pb"), "pb@example.com")
	ua, _ := f.svc.GetUser(ctx, a.UserID)
	if err := f.svc.Unregister(ctx, ua); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.PurgeUnregistered(ctx, 0); n != 0 || err != nil {
		t.Fatalf("purged %d within the grace period (err %v)", n, err)
	}
	f.clock.Advance(30*24*time.Hour + time.Second)
	if n, err := f.svc.PurgeUnregistered(ctx, 0); n != 1 || err != nil {
		t.Fatalf("purged %d after the grace period (err %v), want 1", n, err)
	}
	if _, err := f.svc.GetUser(ctx, a.UserID); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("expired account still there: %v", err)
	}
	if _, err := f.svc.GetUser(ctx, b.UserID); err != nil {
		t.Fatalf("a live account was purged: %v", err)
	}
	if !slices.Contains(rec.events(), hooks.UserDeleted) {
		t.Fatalf("no UserDeleted event: %v", rec.events())
	}
}
