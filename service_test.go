package simpleuser_test

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testclock"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/phone"
	"github.com/simpleuser/simpleuser/user"
)

// sender is a SendCode hook that hands out predictable codes and remembers them.
type sender struct {
	mu    sync.Mutex
	n     int
	codes map[string]string // email|purpose -> last code
	fail  atomic.Bool
}

func (s *sender) send(_ context.Context, r hooks.SendCodeRequest) (string, error) {
	if s.fail.Load() {
		return "", errors.New("smtp down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	c := "C0DE" + strings.Repeat("7", s.n%5+1) + string(rune('a'+s.n%26))
	if s.codes == nil {
		s.codes = map[string]string{}
	}
	s.codes[user.EmailKey(r.Email)+"|"+r.Purpose] = c
	return c, nil
}

func (s *sender) code(email, purpose string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[user.EmailKey(email)+"|"+purpose]
}

type fixture struct {
	svc   *simpleuser.Service
	clock *testclock.Clock
	mail  *sender
	logs  *bytes.Buffer
}

var fastArgon = password.Params{Memory: 64, Time: 1, Threads: 1}

func newFixture(t *testing.T, mod func(*simpleuser.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: testclock.New(time.Time{}), mail: &sender{}, logs: &bytes.Buffer{}}
	var mu sync.Mutex
	cfg := simpleuser.Config{
		Hooks:  hooks.Hooks{SendCode: f.mail.send},
		Now:    f.clock.Now,
		Argon2: fastArgon,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := simpleuser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// client returns a Client whose address is derived from ssaid, so distinct
// devices do not share an IP cooldown.
func client(ssaid string) simpleuser.Client {
	h := fnv.New32a()
	h.Write([]byte(ssaid))
	v := h.Sum32()
	ip := netip.AddrFrom4([4]byte{10, byte(v >> 16), byte(v >> 8), byte(v)})
	return simpleuser.Client{SSAID: ssaid, IP: ip, UserAgent: "test"}
}

func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return simpleuser.AsError(err).Status
}

func (f *fixture) login(t *testing.T, c simpleuser.Client, email string) *simpleuser.LoginResult {
	t.Helper()
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, c, email, hooks.PurposeLogin); err != nil {
		t.Fatalf("send: %v", err)
	}
	res, err := f.svc.Login(ctx, c, simpleuser.LoginInput{Email: email, Code: f.mail.code(email, hooks.PurposeLogin)})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return res
}

func TestConfigValidationNamesTheField(t *testing.T) {
	send := func(context.Context, hooks.SendCodeRequest) (string, error) { return "1", nil }
	cases := []struct {
		name  string
		cfg   simpleuser.Config
		field string
	}{
		{"no sender", simpleuser.Config{}, "Config.Hooks.SendCode"},
		{"min over max", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, PasswordMinLength: 50, PasswordMaxLength: 10}, "Config.PasswordMinLength"},
		{"negative lifetime", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, SessionLifetime: -time.Second}, "Config.SessionLifetime"},
		{"negative ttl", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, CodeTTL: -time.Second}, "Config.CodeTTL"},
		{"half session backend", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, SessionIndex: nil, SessionStore: nopStore{}}, "Config.SessionIndex"},
		{"negative hash concurrency", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, HashConcurrency: -1}, "Config.HashConcurrency"},
		{"unknown phone region", simpleuser.Config{Hooks: hooks.Hooks{SendCode: send}, Phone: phone.Config{DefaultRegion: "XX"}}, "Config.Phone.DefaultRegion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := simpleuser.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want one naming %s", err, tc.field)
			}
		})
	}
}

type nopStore struct{}

func (nopStore) Find(string) ([]byte, bool, error)      { return nil, false, nil }
func (nopStore) Commit(string, []byte, time.Time) error { return nil }
func (nopStore) Delete(string) error                    { return nil }

func TestConfigDefaults(t *testing.T) {
	f := newFixture(t, nil)
	c := f.svc.Config()
	if c.CodeTTL != 10*time.Minute || c.SendCooldown != time.Minute || c.VerifyMaxAttempts != 5 ||
		c.VerifyWindow != 15*time.Minute || c.PasswordMaxAttempts != 5 || c.PasswordWindow != 15*time.Minute ||
		c.SessionLifetime != 30*24*time.Hour || c.UnregisterGrace != 30*24*time.Hour ||
		c.PasswordMinLength != 8 || c.PasswordMaxLength != 1024 {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestNegativeCooldownDisablesTheRule(t *testing.T) {
	forBackends(t, testNegativeCooldownDisablesTheRule)
}

func testNegativeCooldownDisablesTheRule(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, func(c *simpleuser.Config) { c.SendCooldown = -1 })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := f.svc.SendCode(ctx, client("dev-1"), "a@example.com", hooks.PurposeLogin); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	f2 := newFixture(t, nil)
	_ = f2.svc.SendCode(ctx, client("dev-1"), "a@example.com", hooks.PurposeLogin)
	if got := status(f2.svc.SendCode(ctx, client("dev-1"), "a@example.com", hooks.PurposeLogin)); got != 429 {
		t.Fatalf("default cooldown: status %d, want 429", got)
	}
}

func TestAnonymousUpgradeKeepsID(t *testing.T) { forBackends(t, testAnonymousUpgradeKeepsID) }

func testAnonymousUpgradeKeepsID(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := client("device-42")
	anon, err := f.svc.ResolveUser(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	res := f.login(t, c, "  New.User@Example.com ")
	if res.UserID != anon.ID || !res.Created {
		t.Fatalf("login user %d created=%v, want upgrade of anonymous %d", res.UserID, res.Created, anon.ID)
	}
	u, err := f.svc.Users().Get(ctx, res.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "New.User@Example.com" || u.SSAID != "" || u.RegisterTime.IsZero() {
		t.Fatalf("upgraded user = %+v", u)
	}
	// The ssaid is free again: the next anonymous request gets a new user.
	anon2, err := f.svc.ResolveUser(ctx, c)
	if err != nil || anon2.ID == anon.ID {
		t.Fatalf("second anonymous user %v (err %v), want a new id", anon2, err)
	}
	// Case-insensitive: the same address in another case logs into the same account.
	f.clock.Advance(time.Minute) // the email cooldown is case-insensitive too
	res2 := f.login(t, client("other-device"), "new.user@EXAMPLE.com")
	if res2.UserID != res.UserID || res2.Created {
		t.Fatalf("case variant login gave user %d created=%v", res2.UserID, res2.Created)
	}
}

func TestCodeIsSingleUseUnderConcurrency(t *testing.T) {
	forBackends(t, testCodeIsSingleUseUnderConcurrency)
}

func testCodeIsSingleUseUnderConcurrency(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, client("d"), "race@example.com", hooks.PurposeLogin); err != nil {
		t.Fatal(err)
	}
	code := f.mail.code("race@example.com", hooks.PurposeLogin)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := f.svc.Login(ctx, client("d"+string(rune('a'+i))), simpleuser.LoginInput{Email: "race@example.com", Code: code})
			if err == nil {
				ok.Add(1)
			} else if s := status(err); s != 403 && s != 429 {
				t.Errorf("status %d: %v", s, err)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d logins succeeded with one code, want exactly 1", ok.Load())
	}
}

func TestFailedSendStoresNoCode(t *testing.T) { forBackends(t, testFailedSendStoresNoCode) }

func testFailedSendStoresNoCode(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.mail.fail.Store(true)
	err := f.svc.SendCode(ctx, client("d"), "x@example.com", hooks.PurposeLogin)
	if status(err) != http.StatusBadGateway {
		t.Fatalf("failed send: %v, want 502", err)
	}
	// Whatever code the sender would have produced, none is stored: every guess is refused.
	for _, guess := range []string{"C0DE7b", "C0DE77b", ""} {
		_, err := f.svc.Login(ctx, client("d"), simpleuser.LoginInput{Email: "x@example.com", Code: guess + "x"})
		if status(err) != http.StatusForbidden {
			t.Fatalf("login after failed send: %v, want 403", err)
		}
	}
}

func TestPasswordAttemptsBlockAcrossDimensions(t *testing.T) {
	forBackends(t, testPasswordAttemptsBlockAcrossDimensions)
}

func testPasswordAttemptsBlockAcrossDimensions(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := client("pw-dev")
	res := f.login(t, c, "pw@example.com")
	u, _ := f.svc.Users().Get(ctx, res.UserID)
	if err := f.svc.ChangePassword(ctx, c, u, "correct horse", ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		_, err := f.svc.Login(ctx, client(string(rune('a'+i))), simpleuser.LoginInput{Email: "pw@example.com", Password: "wrong-password"})
		if status(err) != 403 {
			t.Fatalf("attempt %d: %v, want 403", i, err)
		}
	}
	// The account is now blocked, even for the right password from a fresh device.
	_, err := f.svc.Login(ctx, simpleuser.Client{SSAID: "fresh", IP: netip.MustParseAddr("198.51.100.1")}, simpleuser.LoginInput{Email: "pw@example.com", Password: "correct horse"})
	e := simpleuser.AsError(err)
	if e == nil || e.Status != 429 || e.Wait <= 0 || e.Wait > 15*time.Minute {
		t.Fatalf("blocked login: %+v, want 429 with a wait", e)
	}
	f.clock.Advance(15*time.Minute + time.Millisecond)
	if _, err := f.svc.Login(ctx, client("fresh"), simpleuser.LoginInput{Email: "pw@example.com", Password: "correct horse"}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) { forBackends(t, testSecretsNeverLogged) }

func testSecretsNeverLogged(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := logging.WithRequestID(context.Background(), "rid-secrets") // every line carries it
	c := client("log-dev")
	res := f.login(t, c, "log@example.com")
	u, _ := f.svc.Users().Get(ctx, res.UserID)
	const pw = "very-secret-password"
	if err := f.svc.ChangePassword(ctx, c, u, pw, ""); err != nil {
		t.Fatal(err)
	}
	_, _ = f.svc.Login(ctx, client("x"), simpleuser.LoginInput{Email: "log@example.com", Password: pw + "-wrong"})
	f.mail.fail.Store(true)
	_ = f.svc.SendCode(ctx, client("y"), "log@example.com", hooks.PurposeResetPassword)
	u, _ = f.svc.Users().Get(ctx, res.UserID)
	logs := f.logs.String()
	if logs == "" {
		t.Fatal("expected some log output (the failed send)")
	}
	for _, secret := range []string{pw, res.Token, u.PasswordHash, f.mail.code("log@example.com", hooks.PurposeLogin)} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Fatalf("a secret reached the logs: %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.HasSuffix(line, " request_id=rid-secrets") {
			t.Fatalf("a line without its request id: %s", line)
		}
	}
}

func TestUnregisterGraceAndPurge(t *testing.T) { forBackends(t, testUnregisterGraceAndPurge) }

func testUnregisterGraceAndPurge(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := client("ug")
	res := f.login(t, c, "gone@example.com")
	u, _ := f.svc.Users().Get(ctx, res.UserID)
	if err := f.svc.Unregister(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Sessions().Get(ctx, res.Token); err == nil {
		t.Fatal("session survived unregister")
	}
	f.clock.Advance(29 * 24 * time.Hour)
	f.clock.Advance(time.Minute) // cooldown
	back := f.login(t, client("ug2"), "gone@example.com")
	if back.UserID != res.UserID || back.Created {
		t.Fatalf("login within grace: user %d created=%v, want recovery of %d", back.UserID, back.Created, res.UserID)
	}
	u, _ = f.svc.Users().Get(ctx, res.UserID)
	if u.Unregistered() {
		t.Fatal("recovery did not clear the unregister time")
	}
	if err := f.svc.Unregister(ctx, u); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * 24 * time.Hour)
	if ok, _ := f.svc.UserExists(ctx, "gone@example.com"); ok {
		t.Fatal("user-exists true after the grace period")
	}
	fresh := f.login(t, client("ug3"), "gone@example.com")
	if fresh.UserID == res.UserID || !fresh.Created {
		t.Fatalf("login after grace: user %d created=%v, want a new account", fresh.UserID, fresh.Created)
	}
	if _, err := f.svc.Users().Get(ctx, res.UserID); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("expired account not purged: %v", err)
	}
}

func TestAnonymousUnregisterTouchesNoOneElse(t *testing.T) {
	forBackends(t, testAnonymousUnregisterTouchesNoOneElse)
}

func testAnonymousUnregisterTouchesNoOneElse(t *testing.T, newFixture fixtureMaker) {
	f := newFixture(t, nil)
	ctx := context.Background()
	other := f.login(t, client("someone"), "someone@example.com")
	anon, err := f.svc.ResolveUser(ctx, client("lonely"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Unregister(ctx, anon); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Sessions().Get(ctx, other.Token); err != nil {
		t.Fatalf("another user's session died: %v", err)
	}
	if _, err := f.svc.Users().Get(ctx, anon.ID); !errors.Is(err, user.ErrNotFound) {
		t.Fatalf("anonymous user still there: %v", err)
	}
}

func TestIPBucket(t *testing.T) {
	cases := map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"::ffff:203.0.113.9":   "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	}
	for in, want := range cases {
		if got := simpleuser.IPBucket(netip.MustParseAddr(in)); got != want {
			t.Errorf("IPBucket(%s) = %s, want %s", in, got, want)
		}
	}
	if simpleuser.IPBucket(netip.Addr{}) != "" {
		t.Error("invalid address must have no bucket")
	}
}

func TestValidSSAID(t *testing.T) {
	for s, want := range map[string]bool{
		"":                             false,
		"0b6e2c1e-8a4b-4f7e-9c51-2f3a": true,
		strings.Repeat("a", 128):       true,
		strings.Repeat("a", 129):       false,
		"has space":                    false,
		"tab\t":                        false,
		"ünïcode":                      false,
		"semi:colon{tag}":              true,
	} {
		if got := simpleuser.ValidSSAID(s); got != want {
			t.Errorf("ValidSSAID(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidSSAID(f *testing.F) {
	for _, s := range []string{"", "abc", strings.Repeat("x", 129), "a b", "\x00", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := simpleuser.ValidSSAID(s)
		if ok && (len(s) == 0 || len(s) > 128) {
			t.Fatalf("accepted length %d", len(s))
		}
		for i := 0; ok && i < len(s); i++ {
			if s[i] <= ' ' || s[i] > '~' {
				t.Fatalf("accepted byte %#x", s[i])
			}
		}
	})
}

func FuzzIPBucket(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		b := simpleuser.IPBucket(ip)
		if ip.Unmap().Is4() && b != ip.Unmap().String() {
			t.Fatalf("IPv4 %s bucket %s", ip, b)
		}
		if !ip.Unmap().Is4() {
			p, err := netip.ParsePrefix(b)
			if err != nil || p.Bits() != 64 || !p.Contains(ip.WithZone("")) {
				t.Fatalf("IPv6 %s bucket %q", ip, b)
			}
		}
	})
}
