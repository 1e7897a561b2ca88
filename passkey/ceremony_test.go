package passkey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	codememory "github.com/simpleuser/simpleuser/code/memory"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/softauthn"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/passkey"
	"github.com/simpleuser/simpleuser/passkey/memory"
)

const device = "ssaid-1"

// clock is a settable clock shared by the relying party and the memory
// code store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a relying party on memory stores and a software authenticator
// that the browser at origin would drive.
type fixture struct {
	rp    *passkey.RelyingParty
	store *memory.Store
	clock *clock
	vrp   softauthn.Page // what the "browser" asserts: its origin
}

func newFixture(t testing.TB, mod func(*passkey.Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	codes := codememory.New()
	codes.Now = clk.Now
	return newFixtureOn(t, codes, clk, mod)
}

func newFixtureOn(t testing.TB, codes code.Store, clk *clock, mod func(*passkey.Config)) *fixture {
	t.Helper()
	cfg := passkey.Config{
		RPID: "example.com", RPName: "Example",
		Origins: []string{"https://example.com", "https://app.example.com"},
		Now:     clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	store := memory.New()
	rp, err := passkey.New(cfg, store, codes)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{rp: rp, store: store, clock: clk,
		vrp: softauthn.Page{ID: "example.com", Name: "Example", Origin: "https://app.example.com"}}
}

func newAuthn(opts softauthn.Options) *softauthn.Authenticator { return softauthn.New(opts) }

func (f *fixture) register(t *testing.T, userID int64, a *softauthn.Authenticator, name string) *passkey.Credential {
	t.Helper()
	ch, err := f.rp.BeginRegistration(t.Context(), passkey.Account{UserID: userID, Name: "ann@example.com"}, device)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.rp.FinishRegistration(t.Context(), userID, device, ch.ID, a.Attest(t, f.vrp, ch.Options), name)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return c
}

func (f *fixture) signIn(t *testing.T, a *softauthn.Authenticator) (*passkey.Credential, error) {
	t.Helper()
	ch, err := f.rp.BeginSignIn(t.Context(), device)
	if err != nil {
		t.Fatal(err)
	}
	return f.rp.FinishSignIn(t.Context(), device, ch.ID, a.Assert(t, f.vrp, ch.Options))
}

// TestRegisterAndSignIn: a passkey registered for a user signs that user
// in without any user name, and the options ask for what the package
// promises (a discoverable credential, user verification, no attestation).
func TestRegisterAndSignIn(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := newAuthn(softauthn.Options{BackupEligible: true, BackupState: true})
	a.Cred.Counter = 3

	ch, err := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 42, Name: "ann@example.com", DisplayName: "Ann"}, device)
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PublicKey struct {
			RP   struct{ ID, Name string }
			User struct {
				ID          string
				Name        string
				DisplayName string
			}
			AuthenticatorSelection struct {
				ResidentKey        string
				RequireResidentKey bool
				UserVerification   string
			}
			Attestation string
			Timeout     int
		}
	}
	if err := json.Unmarshal(ch.Options, &opts); err != nil {
		t.Fatal(err)
	}
	pk := opts.PublicKey
	if pk.RP.ID != "example.com" || pk.RP.Name != "Example" || pk.User.Name != "ann@example.com" || pk.User.DisplayName != "Ann" {
		t.Errorf("rp/user entities: %+v %+v", pk.RP, pk.User)
	}
	if s := pk.AuthenticatorSelection; s.ResidentKey != "required" || !s.RequireResidentKey || s.UserVerification != "required" {
		t.Errorf("authenticatorSelection = %+v, want residentKey required, userVerification required", s)
	}
	if pk.Attestation != "none" || pk.Timeout != int(passkey.DefaultChallengeTTL/time.Millisecond) {
		t.Errorf("attestation %q timeout %d", pk.Attestation, pk.Timeout)
	}
	if uid, err := base64.RawURLEncoding.DecodeString(pk.User.ID); err != nil || len(uid) != passkey.UserHandleLen {
		t.Errorf("user.id %q: want the base64url of a %d-byte random handle (%v)", pk.User.ID, passkey.UserHandleLen, err)
	}
	if len(ch.ID) != 43 || !ch.ExpiresAt.Equal(f.clock.Now().Add(passkey.DefaultChallengeTTL)) {
		t.Errorf("challenge id %q expires %v", ch.ID, ch.ExpiresAt)
	}

	c, err := f.rp.FinishRegistration(ctx, 42, device, ch.ID, a.Attest(t, f.vrp, ch.Options), "  Laptop  ")
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	handle, _ := f.store.UserHandle(ctx, 42)
	if c.UserID != 42 || c.Name != "Laptop" || !bytes.Equal(c.ID, a.Cred.ID) || !bytes.Equal(c.UserHandle, handle) ||
		!bytes.Equal(c.AAGUID, a.Aaguid[:]) || c.SignCount != 3 || !c.UserVerified || !c.BackupEligible || !c.BackupState {
		t.Errorf("registered credential = %+v", c)
	}
	if len(handle) != passkey.UserHandleLen || !bytes.Equal(a.Options.UserHandle, handle) {
		t.Errorf("the authenticator got user handle %x, the store has %x", a.Options.UserHandle, handle)
	}
	if !c.CreatedAt.Equal(f.clock.Now()) {
		t.Errorf("CreatedAt %v", c.CreatedAt)
	}

	f.clock.Add(time.Minute)
	a.Cred.Counter = 4
	a.Options.BackupState = false
	got, err := f.signIn(t, a)
	if err != nil {
		t.Fatalf("FinishSignIn: %v", err)
	}
	if got.UserID != 42 || !bytes.Equal(got.ID, c.ID) {
		t.Errorf("signed in as %d with %x, want 42 with %x", got.UserID, got.ID, c.ID)
	}
	stored, _ := f.store.Get(ctx, c.ID)
	if stored.SignCount != 4 || stored.BackupState || !stored.LastUsedAt.Equal(f.clock.Now()) {
		t.Errorf("after sign-in the record has count %d, BS %v, last used %v", stored.SignCount, stored.BackupState, stored.LastUsedAt)
	}
}

// TestReplayRefused: an assertion works once. The same response with the
// same challenge id is refused (the challenge is spent), and so is the
// same response sent with a fresh challenge id (it signs another
// challenge).
func TestReplayRefused(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthn(softauthn.Options{})
	f.register(t, 7, a, "k")
	ctx := t.Context()

	ch, _ := f.rp.BeginSignIn(ctx, device)
	resp := a.Assert(t, f.vrp, ch.Options)
	if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, resp); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("replay with the same challenge id = %v, want ErrChallenge", err)
	}
	fresh, _ := f.rp.BeginSignIn(ctx, device)
	if _, err := f.rp.FinishSignIn(ctx, device, fresh.ID, resp); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("replay with a fresh challenge id = %v, want ErrRefused", err)
	}
	// The refusal spent the fresh challenge too.
	if _, err := f.rp.FinishSignIn(ctx, device, fresh.ID, a.Assert(t, f.vrp, fresh.Options)); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("a challenge that a refused response named = %v, want ErrChallenge", err)
	}

	// A registration response works once too.
	b := newAuthn(softauthn.Options{})
	rch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 7, Name: "x"}, device)
	att := b.Attest(t, f.vrp, rch.Options)
	if _, err := f.rp.FinishRegistration(ctx, 7, device, rch.ID, att, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rp.FinishRegistration(ctx, 7, device, rch.ID, att, ""); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("replayed registration = %v, want ErrChallenge", err)
	}
}

// TestConcurrentFinish: of concurrent finishes with one challenge id and
// response, exactly one signs in.
func TestConcurrentFinish(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthn(softauthn.Options{})
	f.register(t, 7, a, "k")
	ch, _ := f.rp.BeginSignIn(t.Context(), device)
	resp := a.Assert(t, f.vrp, ch.Options)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.rp.FinishSignIn(context.Background(), device, ch.ID, resp) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, passkey.ErrChallenge) {
			t.Errorf("concurrent finish: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent finishes signed in, want 1", ok)
	}
}

// TestWrongOriginRefused: a response made on a page of another origin (a
// phishing site relaying the challenge) is refused, at registration and at
// sign-in; so is one for another relying party id.
func TestWrongOriginRefused(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	evil := softauthn.Page{ID: "example.com", Name: "Example", Origin: "https://example.com.evil.test"}

	a := newAuthn(softauthn.Options{})
	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 1, Name: "x"}, device)
	if _, err := f.rp.FinishRegistration(ctx, 1, device, ch.ID, a.Attest(t, evil, ch.Options), ""); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("registration from another origin = %v, want ErrRefused", err)
	}
	if l, _ := f.store.List(ctx, 1); len(l) != 0 {
		t.Errorf("a refused registration stored %d passkeys", len(l))
	}

	f.register(t, 1, a, "k")
	for name, vrp := range map[string]softauthn.Page{
		"origin":   evil,
		"http":     {ID: "example.com", Origin: "http://example.com"},
		"rp id":    {ID: "evil.test", Origin: "https://example.com"},
		"sub-site": {ID: "example.com", Origin: "https://other.example.com"},
	} {
		ch, _ := f.rp.BeginSignIn(ctx, device)
		if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, a.Assert(t, vrp, ch.Options)); !errors.Is(err, passkey.ErrRefused) {
			t.Errorf("sign-in from another %s = %v, want ErrRefused", name, err)
		}
	}
	if c, _ := f.store.Get(ctx, a.Cred.ID); !c.LastUsedAt.IsZero() {
		t.Error("a refused sign-in recorded a use")
	}
}

// TestCounterRegressionRefused: an authenticator whose counter goes back
// (or stands still) is refused as a possible clone, and the record keeps
// the highest counter.
func TestCounterRegressionRefused(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthn(softauthn.Options{})
	a.Cred.Counter = 1
	f.register(t, 9, a, "k")
	a.Cred.Counter = 10
	if _, err := f.signIn(t, a); err != nil {
		t.Fatal(err)
	}
	clone := a.Clone()
	clone.Cred.Counter = 7
	if got, err := f.signIn(t, clone); !errors.Is(err, passkey.ErrCounter) || got == nil || got.UserID != 9 {
		t.Errorf("sign-in with a lower counter = %+v, %v; want ErrCounter with the credential of user 9", got, err)
	}
	clone.Cred.Counter = 10
	if _, err := f.signIn(t, clone); !errors.Is(err, passkey.ErrCounter) {
		t.Errorf("sign-in with the same counter = %v, want ErrCounter", err)
	}
	if c, _ := f.store.Get(t.Context(), a.Cred.ID); c.SignCount != 10 {
		t.Errorf("stored counter %d, want 10", c.SignCount)
	}
	a.Cred.Counter = 11
	if _, err := f.signIn(t, a); err != nil {
		t.Errorf("the genuine authenticator, counter 11: %v", err)
	}
}

// TestExpiredChallengeRefused: a finish after the challenge's TTL is
// refused; just before it, it works.
func TestExpiredChallengeRefused(t *testing.T) {
	f := newFixture(t, func(c *passkey.Config) { c.ChallengeTTL = time.Minute })
	a := newAuthn(softauthn.Options{})
	ctx := t.Context()

	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 3, Name: "x"}, device)
	f.clock.Add(time.Minute)
	if _, err := f.rp.FinishRegistration(ctx, 3, device, ch.ID, a.Attest(t, f.vrp, ch.Options), ""); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("registration after the TTL = %v, want ErrChallenge", err)
	}
	ch, _ = f.rp.BeginRegistration(ctx, passkey.Account{UserID: 3, Name: "x"}, device)
	f.clock.Add(time.Minute - time.Millisecond)
	if _, err := f.rp.FinishRegistration(ctx, 3, device, ch.ID, a.Attest(t, f.vrp, ch.Options), ""); err != nil {
		t.Errorf("registration within the TTL: %v", err)
	}

	sch, _ := f.rp.BeginSignIn(ctx, device)
	f.clock.Add(61 * time.Second)
	if _, err := f.rp.FinishSignIn(ctx, device, sch.ID, a.Assert(t, f.vrp, sch.Options)); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("sign-in after the TTL = %v, want ErrChallenge", err)
	}
}

// TestChallengeBinding: a challenge finishes only on the device, for the
// user and as the ceremony it was begun for; a mismatch leaves it usable.
func TestChallengeBinding(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := newAuthn(softauthn.Options{})
	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 5, Name: "x"}, device)
	att := a.Attest(t, f.vrp, ch.Options)
	if _, err := f.rp.FinishRegistration(ctx, 5, "another-device", ch.ID, att, ""); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("finish on another device = %v, want ErrChallenge", err)
	}
	if _, err := f.rp.FinishRegistration(ctx, 6, device, ch.ID, att, ""); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("finish for another user = %v, want ErrChallenge", err)
	}
	if _, err := f.rp.FinishRegistration(ctx, 5, device, "", att, ""); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("finish without a challenge id = %v, want ErrChallenge", err)
	}
	if _, err := f.rp.FinishRegistration(ctx, 5, device, ch.ID, att, ""); err != nil {
		t.Errorf("finish as begun, after the refused ones: %v", err)
	}

	sch, _ := f.rp.BeginSignIn(ctx, device)
	resp := a.Assert(t, f.vrp, sch.Options)
	if _, err := f.rp.FinishLogin(ctx, 5, device, sch.ID, resp); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("a sign-in challenge finished as a known-user login = %v, want ErrChallenge", err)
	}
	if _, err := f.rp.FinishSignIn(ctx, device, sch.ID, resp); err != nil {
		t.Errorf("the sign-in challenge as begun: %v", err)
	}
}

// TestInvalidResponse: a body that is no credential response is refused
// without spending the challenge.
func TestInvalidResponse(t *testing.T) {
	f := newFixture(t, nil)
	a := newAuthn(softauthn.Options{})
	f.register(t, 2, a, "k")
	ctx := t.Context()
	ch, _ := f.rp.BeginSignIn(ctx, device)
	for _, bad := range []string{"", "{}", "null", `{"id":"x","type":"public-key"}`, "\x00"} {
		if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, []byte(bad)); !errors.Is(err, passkey.ErrInvalidResponse) {
			t.Errorf("FinishSignIn(%q) = %v, want ErrInvalidResponse", bad, err)
		}
	}
	if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, a.Assert(t, f.vrp, ch.Options)); err != nil {
		t.Errorf("the challenge after malformed responses: %v", err)
	}
	rch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 2, Name: "x"}, device)
	if _, err := f.rp.FinishRegistration(ctx, 2, device, rch.ID, []byte("{}"), ""); !errors.Is(err, passkey.ErrInvalidResponse) {
		t.Errorf("FinishRegistration({}) = %v, want ErrInvalidResponse", err)
	}
	if _, err := f.rp.FinishRegistration(ctx, 2, device, rch.ID, []byte("{}"), strings.Repeat("n", passkey.MaxNameLen+1)); !errors.Is(err, passkey.ErrInvalidName) {
		t.Errorf("an over-long name = %v, want ErrInvalidName", err)
	}
}

// TestUnknownCredential: a passkey removed from the account no longer
// signs in; neither does one whose user handle is not its owner's.
func TestUnknownCredential(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := newAuthn(softauthn.Options{})
	c := f.register(t, 4, a, "k")
	b := newAuthn(softauthn.Options{})
	f.register(t, 8, b, "other's")

	forged := a.Clone()
	forged.Options.UserHandle = b.Options.UserHandle // claims to be user 8's
	if _, err := f.signIn(t, forged); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("a credential with another user's handle = %v, want ErrUnknownCredential", err)
	}
	if err := f.store.Remove(ctx, 4, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.signIn(t, a); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("a removed passkey = %v, want ErrUnknownCredential", err)
	}
}

// TestUserVerification: without user verification a passkey neither
// registers nor signs in alone, but serves as a second factor.
func TestUserVerification(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	noUV := newAuthn(softauthn.Options{UserNotVerified: true})
	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 1, Name: "x"}, device)
	if _, err := f.rp.FinishRegistration(ctx, 1, device, ch.ID, noUV.Attest(t, f.vrp, ch.Options), ""); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("registration without UV = %v, want ErrRefused", err)
	}
	a := newAuthn(softauthn.Options{})
	f.register(t, 1, a, "k")
	a.Options.UserNotVerified = true
	if _, err := f.signIn(t, a); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("usernameless sign-in without UV = %v, want ErrRefused", err)
	}
	lch, err := f.rp.BeginLogin(ctx, 1, device)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rp.FinishLogin(ctx, 1, device, lch.ID, a.Assert(t, f.vrp, lch.Options)); err != nil {
		t.Errorf("second-factor login without UV (preferred): %v", err)
	}
}

// TestLoginKnownUser: the second-factor ceremony lists the user's
// passkeys and accepts only one of them.
func TestLoginKnownUser(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if _, err := f.rp.BeginLogin(ctx, 11, device); !errors.Is(err, passkey.ErrNoPasskey) {
		t.Errorf("BeginLogin for a user without passkeys = %v, want ErrNoPasskey", err)
	}
	a := newAuthn(softauthn.Options{})
	c := f.register(t, 11, a, "mine")
	b := newAuthn(softauthn.Options{})
	f.register(t, 12, b, "someone else's")

	ch, err := f.rp.BeginLogin(ctx, 11, device)
	if err != nil {
		t.Fatal(err)
	}
	if allow := softauthn.AllowCredentials(t, ch.Options); len(allow) != 1 || allow[0] != passkey.EncodeID(c.ID) {
		t.Errorf("allowCredentials = %v, want the user's one passkey", allow)
	}
	if _, err := f.rp.FinishLogin(ctx, 11, device, ch.ID, b.Assert(t, f.vrp, ch.Options)); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("another user's passkey = %v, want ErrUnknownCredential", err)
	}
	ch, _ = f.rp.BeginLogin(ctx, 11, device)
	got, err := f.rp.FinishLogin(ctx, 11, device, ch.ID, a.Assert(t, f.vrp, ch.Options))
	if err != nil || got.UserID != 11 || !bytes.Equal(got.ID, c.ID) {
		t.Errorf("FinishLogin = %+v, %v", got, err)
	}
}

// TestDuplicateAndLimit: registered passkeys are excluded from a new
// registration; registering one anyway is ErrExists; MaxPerUser holds.
func TestDuplicateAndLimit(t *testing.T) {
	f := newFixture(t, func(c *passkey.Config) { c.MaxPerUser = 2 })
	ctx := t.Context()
	a := newAuthn(softauthn.Options{})
	c := f.register(t, 1, a, "k")
	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 1, Name: "x"}, device)
	if excl := softauthn.ExcludeCredentials(t, ch.Options); len(excl) != 1 || excl[0] != passkey.EncodeID(c.ID) {
		t.Errorf("excludeCredentials = %v, want the registered one", excl)
	}
	if _, err := f.rp.FinishRegistration(ctx, 1, device, ch.ID, a.Attest(t, f.vrp, ch.Options), ""); !errors.Is(err, passkey.ErrExists) {
		t.Errorf("registering a registered credential = %v, want ErrExists", err)
	}
	f.register(t, 1, newAuthn(softauthn.Options{}), "second")
	if _, err := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 1, Name: "x"}, device); !errors.Is(err, passkey.ErrTooMany) {
		t.Errorf("a third passkey with MaxPerUser 2 = %v, want ErrTooMany", err)
	}
}

// TestConfigCheck: New names the field at fault.
func TestConfigCheck(t *testing.T) {
	good := passkey.Config{RPID: "example.com", RPName: "Example", Origins: []string{"https://example.com"}}
	for name, tc := range map[string]struct {
		mod  func(*passkey.Config)
		want string
	}{
		"no rp id":          {func(c *passkey.Config) { c.RPID = "" }, "RPID"},
		"rp id with scheme": {func(c *passkey.Config) { c.RPID = "https://example.com" }, "RPID"},
		"no name":           {func(c *passkey.Config) { c.RPName = " " }, "RPName"},
		"no origins":        {func(c *passkey.Config) { c.Origins = nil }, "Origins"},
		"other domain":      {func(c *passkey.Config) { c.Origins = []string{"https://example.org"} }, "Origins"},
		"suffix trick":      {func(c *passkey.Config) { c.Origins = []string{"https://notexample.com"} }, "Origins"},
		"http":              {func(c *passkey.Config) { c.Origins = []string{"http://example.com"} }, "Origins"},
		"path":              {func(c *passkey.Config) { c.Origins = []string{"https://example.com/app"} }, "Origins"},
		"negative ttl":      {func(c *passkey.Config) { c.ChallengeTTL = -1 }, "ChallengeTTL"},
	} {
		cfg := good
		cfg.Origins = append([]string{}, good.Origins...)
		tc.mod(&cfg)
		_, err := passkey.New(cfg, memory.New(), codememory.New())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error naming %s", name, err, tc.want)
		}
	}
	if _, err := passkey.New(good, memory.New(), codememory.New()); err != nil {
		t.Errorf("good config: %v", err)
	}
	local := passkey.Config{RPID: "localhost", RPName: "Dev", Origins: []string{"http://localhost:8080"}}
	if _, err := passkey.New(local, memory.New(), codememory.New()); err != nil {
		t.Errorf("http://localhost for development: %v", err)
	}
}

// TestRedisChallenges: the ceremonies on challenges kept in Redis; the
// store holds only a hash of each challenge id, and a challenge works
// once.
func TestRedisChallenges(t *testing.T) {
	pool, prefix := testenv.Redis(t)
	clk := &clock{t: time.Now()}
	f := newFixtureOn(t, coderedis.New(pool, prefix), clk, nil)
	ctx := t.Context()
	a := newAuthn(softauthn.Options{})
	f.register(t, 21, a, "k")

	ch, err := f.rp.BeginSignIn(ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := testenv.RedisKeys(pool, prefix)
	if err != nil || len(keys) != 1 || strings.Contains(keys[0], ch.ID) {
		t.Errorf("Redis keys %v (%v): want one, without the challenge id", keys, err)
	}
	resp := a.Assert(t, f.vrp, ch.Options)
	if got, err := f.rp.FinishSignIn(ctx, device, ch.ID, resp); err != nil || got.UserID != 21 {
		t.Fatalf("FinishSignIn = %+v, %v", got, err)
	}
	if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, resp); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("replay = %v, want ErrChallenge", err)
	}
	if keys, _ := testenv.RedisKeys(pool, prefix); len(keys) != 0 {
		t.Errorf("keys left after the ceremony: %v", keys)
	}
}

// BenchmarkSignIn measures one usernameless sign-in on the memory stores:
// BeginSignIn plus FinishSignIn (parse, challenge consumed, signature
// verified, counter recorded); the software authenticator's signing is
// not timed.
func BenchmarkSignIn(b *testing.B) {
	f := newFixture(b, nil)
	a := newAuthn(softauthn.Options{})
	ctx := context.Background()
	ch, _ := f.rp.BeginRegistration(ctx, passkey.Account{UserID: 1, Name: "x"}, device)
	if _, err := f.rp.FinishRegistration(ctx, 1, device, ch.ID, a.Attest(b, f.vrp, ch.Options), ""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ch, err := f.rp.BeginSignIn(ctx, device)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		a.Cred.Counter++
		resp := a.Assert(b, f.vrp, ch.Options)
		b.StartTimer()
		if _, err := f.rp.FinishSignIn(ctx, device, ch.ID, resp); err != nil {
			b.Fatal(err)
		}
	}
}
