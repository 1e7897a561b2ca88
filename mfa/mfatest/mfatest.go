// Package mfatest is the conformance suite every mfa.Store implementation
// must pass. Call Run from the implementation's tests.
package mfatest

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/user"
)

// Harness is one store under test and a way to make users it accepts (a
// PostgreSQL store needs their rows, which its tables reference).
type Harness struct {
	Store   mfa.Store
	NewUser func(t *testing.T) int64
	// DeleteUser deletes a user made by NewUser through the user store the
	// service would use with Store (user/memory wired to a memory Store by
	// CascadeTo; user/postgres for a PostgreSQL one).
	DeleteUser func(t *testing.T, id int64)
}

// Run runs the suite; newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Authenticators", testAuthenticators},
		{"AcceptStep", testAcceptStep},
		{"AcceptStepConcurrent", testAcceptStepConcurrent},
		{"RecoveryCodes", testRecoveryCodes},
		{"RecoveryCodeConcurrent", testRecoveryConcurrent},
		{"Settings", testSettings},
		{"TrustedDevices", testTrustedDevices},
		{"UserDeleted", testUserDeleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t)) })
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func auth(userID int64, name string, created time.Time) *mfa.Authenticator {
	return &mfa.Authenticator{UserID: userID, ID: mfa.NewID(), Name: name, Secret: []byte("sealed:" + name), CreatedAt: created}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testAuthenticators(t *testing.T, h Harness) {
	ctx := t.Context()
	u, other := h.NewUser(t), h.NewUser(t)
	a1, a2 := auth(u, "Phone", t0), auth(u, "Tablet", t0.Add(time.Second))
	must(t, h.Store.AddAuthenticator(ctx, a1))
	must(t, h.Store.AddAuthenticator(ctx, a2))
	if err := h.Store.AddAuthenticator(ctx, auth(u, "Phone", t0)); !errors.Is(err, mfa.ErrNameTaken) {
		t.Errorf("second authenticator named Phone: %v, want ErrNameTaken", err)
	}
	must(t, h.Store.AddAuthenticator(ctx, auth(other, "Phone", t0))) // names are per user

	got, err := h.Store.Authenticator(ctx, u, a1.ID)
	must(t, err)
	if got.Name != "Phone" || !bytes.Equal(got.Secret, a1.Secret) || !got.CreatedAt.Equal(t0) || got.Confirmed() || got.LastStep != 0 {
		t.Errorf("Authenticator = %+v, want what was added, unconfirmed", got)
	}
	if _, err := h.Store.Authenticator(ctx, other, a1.ID); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("another user's authenticator: %v, want ErrNotFound", err)
	}
	list, err := h.Store.Authenticators(ctx, u)
	must(t, err)
	if len(list) != 2 || list[0].ID != a1.ID || list[1].ID != a2.ID {
		t.Errorf("Authenticators = %+v, want Phone then Tablet", list)
	}
	must(t, h.Store.SetSecret(ctx, u, a2.ID, []byte("resealed")))
	if got, _ := h.Store.Authenticator(ctx, u, a2.ID); got == nil || string(got.Secret) != "resealed" || got.Name != "Tablet" {
		t.Errorf("after SetSecret: %+v", got)
	}
	if err := h.Store.SetSecret(ctx, other, a2.ID, []byte("x")); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("SetSecret of another user's: %v, want ErrNotFound", err)
	}
	must(t, h.Store.RemoveAuthenticator(ctx, u, a1.ID))
	if err := h.Store.RemoveAuthenticator(ctx, u, a1.ID); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if err := h.Store.RemoveAuthenticator(ctx, other, a2.ID); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("removing another user's: %v, want ErrNotFound", err)
	}
	if list, _ := h.Store.Authenticators(ctx, u); len(list) != 1 || list[0].ID != a2.ID {
		t.Errorf("after removal: %+v, want Tablet only", list)
	}
	must(t, h.Store.AddAuthenticator(ctx, auth(u, "Phone", t0))) // the name is free again
}

func testAcceptStep(t *testing.T, h Harness) {
	ctx := t.Context()
	u := h.NewUser(t)
	a := auth(u, "Phone", t0)
	must(t, h.Store.AddAuthenticator(ctx, a))
	accept := func(step int64, at time.Time, want bool) {
		t.Helper()
		ok, err := h.Store.AcceptStep(ctx, u, a.ID, step, at)
		if err != nil || ok != want {
			t.Errorf("AcceptStep(%d) = %v, %v; want %v", step, ok, err, want)
		}
	}
	accept(1000, t0.Add(time.Minute), true)
	got, err := h.Store.Authenticator(ctx, u, a.ID)
	must(t, err)
	if !got.ConfirmedAt.Equal(t0.Add(time.Minute)) || got.LastStep != 1000 || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after the first accept: %+v, want confirmed and step 1000", got)
	}
	accept(1000, t0.Add(2*time.Minute), false) // a replay within the window
	accept(999, t0.Add(2*time.Minute), false)  // an older code
	accept(1001, t0.Add(3*time.Minute), true)
	got, _ = h.Store.Authenticator(ctx, u, a.ID)
	if !got.ConfirmedAt.Equal(t0.Add(time.Minute)) || got.LastStep != 1001 || !got.LastUsedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("after a later accept: %+v, want first confirmation kept, step 1001", got)
	}
	if ok, err := h.Store.AcceptStep(ctx, u, "nosuchauthentica", 5000, t0); ok || err != nil {
		t.Errorf("AcceptStep of an unknown id = %v, %v; want false, nil", ok, err)
	}
	if ok, err := h.Store.AcceptStep(ctx, h.NewUser(t), a.ID, 5000, t0); ok || err != nil {
		t.Errorf("AcceptStep of another user's = %v, %v; want false, nil", ok, err)
	}
}

// Of concurrent verifiers presenting one code (one step), exactly one wins.
func testAcceptStepConcurrent(t *testing.T, h Harness) {
	ctx := t.Context()
	u := h.NewUser(t)
	a := auth(u, "Phone", t0)
	must(t, h.Store.AddAuthenticator(ctx, a))
	for round := int64(1); round <= 3; round++ {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				ok, err := h.Store.AcceptStep(ctx, u, a.ID, 2000+round, t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d of 16 concurrent AcceptStep calls with one step won, want exactly 1", round, n)
		}
	}
}

func digests(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%s-%02d-digest-padding-to-32-bytes", prefix, i)
	}
	return out
}

func testRecoveryCodes(t *testing.T, h Harness) {
	ctx := t.Context()
	u, other := h.NewUser(t), h.NewUser(t)
	left := func(want int) {
		t.Helper()
		if n, err := h.Store.RecoveryCodesLeft(ctx, u); err != nil || n != want {
			t.Errorf("RecoveryCodesLeft = %d, %v; want %d", n, err, want)
		}
	}
	use := func(userID int64, cands [][]byte, want bool) {
		t.Helper()
		if ok, err := h.Store.UseRecoveryCode(ctx, userID, cands); err != nil || ok != want {
			t.Errorf("UseRecoveryCode = %v, %v; want %v", ok, err, want)
		}
	}
	left(0)
	old := digests("old", 10)
	must(t, h.Store.ReplaceRecoveryCodes(ctx, u, old, t0))
	left(10)
	use(other, old[:1], false) // codes are per user
	use(u, [][]byte{[]byte("not a digest of any code"), old[3]}, true)
	use(u, old[3:4], false) // single use
	left(9)
	use(u, nil, false)
	fresh := digests("new", 10)
	must(t, h.Store.ReplaceRecoveryCodes(ctx, u, fresh, t0.Add(time.Hour)))
	left(10)
	use(u, old[0:1], false) // the old set is void
	use(u, fresh[9:], true)
	left(9)
}

func testRecoveryConcurrent(t *testing.T, h Harness) {
	ctx := t.Context()
	u := h.NewUser(t)
	codes := digests("c", 10)
	must(t, h.Store.ReplaceRecoveryCodes(ctx, u, codes, t0))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			ok, err := h.Store.UseRecoveryCode(ctx, u, codes[5:6])
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d of 16 concurrent uses of one recovery code won, want exactly 1", n)
	}
	// Concurrent regenerations leave exactly one set.
	for i := range 8 {
		wg.Go(func() {
			if err := h.Store.ReplaceRecoveryCodes(ctx, u, digests(fmt.Sprint("set", i), 10), t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, err := h.Store.RecoveryCodesLeft(ctx, u); err != nil || n != 10 {
		t.Errorf("after 8 concurrent regenerations: %d codes (%v), want 10", n, err)
	}
}

func testSettings(t *testing.T, h Harness) {
	ctx := t.Context()
	u := h.NewUser(t)
	st, err := h.Store.Settings(ctx, u)
	must(t, err)
	if st.UserID != u || st.Enabled || st.EmailFactor {
		t.Errorf("Settings of a new user = %+v, want MFA off", st)
	}
	on, off := true, false
	st, err = h.Store.UpdateSettings(ctx, u, mfa.SettingsPatch{Enabled: &on}, t0)
	must(t, err)
	if !st.Enabled || st.EmailFactor || !st.UpdatedAt.Equal(t0) {
		t.Errorf("after enabling: %+v", st)
	}
	st, err = h.Store.UpdateSettings(ctx, u, mfa.SettingsPatch{EmailFactor: &on}, t0.Add(time.Second))
	must(t, err)
	if !st.Enabled || !st.EmailFactor {
		t.Errorf("a patch of EmailFactor changed Enabled: %+v", st)
	}
	_, err = h.Store.UpdateSettings(ctx, u, mfa.SettingsPatch{Enabled: &off}, t0.Add(2*time.Second))
	must(t, err)
	st, err = h.Store.Settings(ctx, u)
	must(t, err)
	if st.Enabled || !st.EmailFactor || !st.UpdatedAt.Equal(t0.Add(2*time.Second)) {
		t.Errorf("read back: %+v, want off, email factor kept", st)
	}
	// Replacing recovery codes must not disturb the settings.
	must(t, h.Store.ReplaceRecoveryCodes(ctx, u, digests("s", 2), t0.Add(time.Hour)))
	if st2, _ := h.Store.Settings(ctx, u); st2.Enabled != st.Enabled || st2.EmailFactor != st.EmailFactor {
		t.Errorf("settings after replacing recovery codes: %+v, want %+v", st2, st)
	}
}

func testTrustedDevices(t *testing.T, h Harness) {
	ctx := t.Context()
	u, other := h.NewUser(t), h.NewUser(t)
	d1 := &mfa.TrustedDevice{UserID: u, ID: mfa.NewID(), Label: "Firefox on Linux", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	d2 := &mfa.TrustedDevice{UserID: u, ID: mfa.NewID(), Label: "", CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}
	must(t, h.Store.AddTrustedDevice(ctx, d1))
	must(t, h.Store.AddTrustedDevice(ctx, d2))
	must(t, h.Store.AddTrustedDevice(ctx, &mfa.TrustedDevice{UserID: other, ID: mfa.NewID(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))

	got, err := h.Store.TrustedDevice(ctx, u, d1.ID, t0.Add(time.Minute))
	must(t, err)
	if got.Label != d1.Label || !got.ExpiresAt.Equal(d1.ExpiresAt) || !got.CreatedAt.Equal(t0) {
		t.Errorf("TrustedDevice = %+v, want %+v", got, d1)
	}
	if _, err := h.Store.TrustedDevice(ctx, other, d1.ID, t0); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("another user's device: %v, want ErrNotFound", err)
	}
	if _, err := h.Store.TrustedDevice(ctx, u, d2.ID, t0.Add(time.Hour)); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("an expired device: %v, want ErrNotFound", err)
	}
	list, err := h.Store.TrustedDevices(ctx, u, t0.Add(time.Minute))
	must(t, err)
	if len(list) != 2 || list[0].ID != d1.ID || list[1].ID != d2.ID {
		t.Errorf("TrustedDevices = %+v, want both, oldest first", list)
	}
	if list, _ := h.Store.TrustedDevices(ctx, u, t0.Add(2*time.Hour)); len(list) != 1 || list[0].ID != d1.ID {
		t.Errorf("TrustedDevices after d2 expired = %+v, want d1 only", list)
	}
	if n, err := h.Store.RemoveTrustedDevices(ctx, u, d1.ID, "nosuchdevice0000"); err != nil || n != 1 {
		t.Errorf("RemoveTrustedDevices(d1) = %d, %v; want 1", n, err)
	}
	if _, err := h.Store.TrustedDevice(ctx, u, d1.ID, t0); !errors.Is(err, mfa.ErrNotFound) {
		t.Errorf("a removed device: %v, want ErrNotFound", err)
	}
	must(t, h.Store.AddTrustedDevice(ctx, &mfa.TrustedDevice{UserID: u, ID: mfa.NewID(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	if n, err := h.Store.RemoveTrustedDevices(ctx, u); err != nil || n < 1 {
		t.Errorf("RemoveTrustedDevices(all) = %d, %v", n, err)
	}
	if list, _ := h.Store.TrustedDevices(ctx, u, t0); len(list) != 0 {
		t.Errorf("after removing all: %+v", list)
	}
	if list, _ := h.Store.TrustedDevices(ctx, other, t0); len(list) != 1 {
		t.Errorf("another user's devices were touched: %+v", list)
	}
}

// RunFlows checks the factor flows where concurrency matters, on svcs:
// Services on the store under test (their Deps.WithTx the user store's),
// more than one to play several instances. Of two concurrent removals of
// a user's last two authenticators one is refused (LAST_FACTOR), so MFA
// never stays on without a factor. newUser makes a user; now is the
// services' clock.
func RunFlows(t *testing.T, svcs []*mfa.Service, newUser func(t *testing.T) *user.User, now func() time.Time) {
	svc := svcs[0]
	t.Run("ConcurrentRemoval", func(t *testing.T) {
		ctx := t.Context()
		for round := range 4 {
			u := newUser(t)
			var ids []string
			for i := range 2 {
				a, enr, err := svc.EnrolTOTP(ctx, u, fmt.Sprint("A", i))
				must(t, err)
				secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enr.Secret)
				must(t, err)
				code, _ := mfa.TOTPCode(secret, mfa.TOTPStep(now()))
				_, err = svc.ConfirmTOTP(ctx, u, a.ID, code)
				must(t, err)
				ids = append(ids, a.ID)
			}
			var removed, refused atomic.Int32
			var wg sync.WaitGroup
			for i, id := range ids {
				wg.Go(func() {
					err := svcs[i%len(svcs)].RemoveTOTP(ctx, u, id)
					switch {
					case err == nil:
						removed.Add(1)
					case errors.Is(err, mfa.ErrLastFactor):
						refused.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if removed.Load() != 1 || refused.Load() != 1 {
				t.Fatalf("round %d: %d removed, %d refused; want 1 and 1", round, removed.Load(), refused.Load())
			}
		}
	})
}

// testUserDeleted: deleting a user deletes their authenticators, recovery
// codes, settings and trusted devices (PostgreSQL: ON DELETE CASCADE;
// memory: the user store's cascade), and no other user's.
func testUserDeleted(t *testing.T, h Harness) {
	if h.DeleteUser == nil {
		t.Fatal("the harness must delete users (Harness.DeleteUser)")
	}
	ctx := t.Context()
	u, other := h.NewUser(t), h.NewUser(t)
	on := true
	for _, id := range []int64{u, other} {
		must(t, h.Store.AddAuthenticator(ctx, auth(id, "Phone", t0)))
		must(t, h.Store.ReplaceRecoveryCodes(ctx, id, digests("d", 3), t0))
		_, err := h.Store.UpdateSettings(ctx, id, mfa.SettingsPatch{Enabled: &on}, t0)
		must(t, err)
		must(t, h.Store.AddTrustedDevice(ctx, &mfa.TrustedDevice{UserID: id, ID: mfa.NewID(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	h.DeleteUser(t, u)
	now := t0.Add(time.Minute)
	if list, err := h.Store.Authenticators(ctx, u); err != nil || len(list) != 0 {
		t.Errorf("authenticators of a deleted user: %v, %v", list, err)
	}
	if n, err := h.Store.RecoveryCodesLeft(ctx, u); err != nil || n != 0 {
		t.Errorf("recovery codes of a deleted user: %d, %v", n, err)
	}
	if st, err := h.Store.Settings(ctx, u); err != nil || st.Enabled {
		t.Errorf("settings of a deleted user: %+v, %v", st, err)
	}
	if list, err := h.Store.TrustedDevices(ctx, u, now); err != nil || len(list) != 0 {
		t.Errorf("trusted devices of a deleted user: %v, %v", list, err)
	}
	list, _ := h.Store.Authenticators(ctx, other)
	n, _ := h.Store.RecoveryCodesLeft(ctx, other)
	st, _ := h.Store.Settings(ctx, other)
	devs, _ := h.Store.TrustedDevices(ctx, other, now)
	if len(list) != 1 || n != 3 || !st.Enabled || len(devs) != 1 {
		t.Errorf("the other user's rows: %d authenticators, %d codes, %+v, %d devices", len(list), n, st, len(devs))
	}
}
