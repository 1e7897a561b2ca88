package mfa_test

import (
	"context"
	"encoding/base32"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/testclock"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/mfa/memory"
	"github.com/simpleuser/simpleuser/mfa/mfatest"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
	"github.com/simpleuser/simpleuser/user"
)

func newService(t *testing.T, store mfa.Store, clock *testclock.Clock, secret string, older ...string) *mfa.Service {
	t.Helper()
	var old [][]byte
	for _, o := range older {
		old = append(old, []byte(o))
	}
	st, idx := sessionmemory.New()
	svc, err := mfa.New(mfa.Config{Store: store, OldSecrets: old}, mfa.Deps{
		Secret: []byte(secret), Risk: riskmemory.New(), Now: clock.Now,
		Sessions: &session.Manager{Store: st, Index: idx, Now: clock.Now},
		WithTx:   func(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) },
		Emit:     func(context.Context, hooks.Event) {},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		User:     func(_ context.Context, d *session.Data) (*user.User, error) { return &user.User{ID: d.UserID}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// Rotating the app's secret: with the old one in OldSecrets a TOTP
// authenticator still signs in, and its secret is sealed again under the
// new key at that use, so the old secret can then be dropped. A service
// holding neither key fails loudly (an error that is not INVALID_FACTOR).
func TestRotateSecret(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	store := memory.New()
	u := &user.User{ID: 7, Email: "ann@example.com"}

	before := newService(t, store, clock, "secret-2025")
	a, enr, err := before.EnrolTOTP(ctx, u, "Phone")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enr.Secret)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		clock.Advance(mfa.TOTPPeriod * time.Second)
		c, _ := mfa.TOTPCode(secret, mfa.TOTPStep(clock.Now()))
		return c
	}
	codes, err := before.ConfirmTOTP(ctx, u, a.ID, code())
	if err != nil || len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("ConfirmTOTP: %v, %v", codes, err)
	}

	rotated := newService(t, store, clock, "secret-2026", "secret-2025")
	if _, err := rotated.Verify(ctx, u, []string{mfa.FactorTOTP}, mfa.FactorTOTP, code()); err != nil {
		t.Fatalf("TOTP after rotation: %v", err)
	}
	if _, err := rotated.Verify(ctx, u, []string{mfa.FactorRecovery}, mfa.FactorRecovery, codes[0]); err != nil {
		t.Fatalf("recovery code after rotation: %v", err)
	}
	stored, _ := store.Authenticator(ctx, u.ID, a.ID)
	if rotated.Keyring().NeedsReseal(stored.Secret) {
		t.Fatal("the secret was not sealed again under the new key")
	}

	dropped := newService(t, store, clock, "secret-2026")
	if _, err := dropped.Verify(ctx, u, []string{mfa.FactorTOTP}, mfa.FactorTOTP, code()); err != nil {
		t.Fatalf("TOTP with the old secret dropped: %v", err)
	}
	unknown := newService(t, store, clock, "another secret")
	_, err = unknown.Verify(ctx, u, []string{mfa.FactorTOTP}, mfa.FactorTOTP, code())
	if err == nil || errors.Is(err, mfa.ErrInvalidFactor) || !errors.Is(err, mfa.ErrUnknownKey) {
		t.Fatalf("TOTP under an unknown key: %v, want ErrUnknownKey", err)
	}
}

// A code is refused outside ±1 step, and a matched step is spent.
func TestVerifyWindowAndReplay(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 5, 1, 12, 0, 15, 0, time.UTC))
	store := memory.New()
	svc := newService(t, store, clock, "s")
	u := &user.User{ID: 9, Email: "bob@example.com"}
	a, enr, _ := svc.EnrolTOTP(ctx, u, "")
	if a.Name != "Authenticator" {
		t.Errorf("default name %q", a.Name)
	}
	secret, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enr.Secret)
	at := func(d int64) string { c, _ := mfa.TOTPCode(secret, mfa.TOTPStep(clock.Now())+d); return c }
	if _, err := svc.ConfirmTOTP(ctx, u, a.ID, at(0)); err != nil {
		t.Fatal(err)
	}
	allowed := []string{mfa.FactorTOTP}
	for _, tc := range []struct {
		delta int64
		ok    bool
	}{{-2, false}, {-1, false} /* older than the confirmed step */, {2, false}, {1, true}, {1, false} /* replay */} {
		_, err := svc.Verify(ctx, u, allowed, mfa.FactorTOTP, at(tc.delta))
		if (err == nil) != tc.ok {
			t.Errorf("code of step %+d: %v, want ok=%v", tc.delta, err, tc.ok)
		}
	}
	if _, err := svc.Verify(ctx, u, []string{mfa.FactorRecovery}, mfa.FactorTOTP, at(0)); !errors.Is(err, mfa.ErrFactorUnavailable) {
		t.Errorf("a factor not allowed: %v", err)
	}
	if _, _, err := svc.EnrolTOTP(ctx, u, "bad\x00name"); err == nil {
		t.Error("a name with a NUL was accepted")
	}
}

func TestFlowsMemory(t *testing.T) {
	clock := testclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	svc := newService(t, memory.New(), clock, "s")
	var next int64
	mfatest.RunFlows(t, []*mfa.Service{svc}, func(*testing.T) *user.User { next++; return &user.User{ID: next, Email: "f@example.com"} }, clock.Now)
}

// A factor verified elsewhere (a passkey) completes a challenge and
// re-authenticates through CompleteVerified and ReauthVerified; Reset
// turns MFA off without a factor.
func TestVerifiedElsewhereAndReset(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Now()) // the memory session store expires bodies by the wall clock
	st, idx := sessionmemory.New()
	sessions := &session.Manager{Store: st, Index: idx, Now: clock.Now}
	store := memory.New()
	svc, err := mfa.New(mfa.Config{Store: store}, mfa.Deps{
		Secret: []byte("s"), Risk: riskmemory.New(), Now: clock.Now, Sessions: sessions,
		WithTx: func(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) },
		Emit:   func(context.Context, hooks.Event) {},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		User:   func(_ context.Context, d *session.Data) (*user.User, error) { return &user.User{ID: d.UserID}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	u := &user.User{ID: 5, Email: "p@example.com"}
	if _, err := svc.SetEmailFactor(ctx, u, true); err != nil {
		t.Fatal(err)
	}
	full, _ := sessions.Create(ctx, session.Data{UserID: 5, AMR: []string{"pwd"}})
	if _, err := svc.CompleteVerified(ctx, full, nil, mfa.AMRHardware, false, ""); !errors.Is(err, mfa.ErrNotInChallenge) {
		t.Fatalf("CompleteVerified of a full session: %v", err)
	}
	ch, _ := sessions.Create(ctx, session.Data{UserID: 5, Stage: session.StageMFA, AMR: []string{"pwd"}})
	if _, err := svc.ReauthVerified(ctx, ch, nil, mfa.AMRHardware); !errors.Is(err, &mfa.Error{Status: 403, Code: mfa.CodeMFARequired}) {
		t.Fatalf("ReauthVerified of a challenge session: %v", err)
	}
	done, err := svc.CompleteVerified(ctx, ch, nil, mfa.AMRHardware, true, "Firefox on Linux")
	if err != nil || done.DeviceToken == "" {
		t.Fatalf("CompleteVerified: %+v, %v", done, err)
	}
	d, err := sessions.Get(ctx, done.Token)
	if err != nil || d.Stage != "" || !slices.Equal(d.AMR, []string{"pwd", "hwk", "mfa"}) {
		t.Fatalf("completed session: %+v, %v", d, err)
	}
	if _, err := sessions.Get(ctx, ch); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the challenge session lives on: %v", err)
	}
	clock.Advance(time.Hour)
	if _, err := svc.ReauthVerified(ctx, done.Token, nil, mfa.AMRSoftware); err != nil {
		t.Fatal(err)
	}
	if d, _ := sessions.Get(ctx, done.Token); !d.AuthAt.Equal(clock.Now().UTC().Truncate(time.Millisecond)) || !slices.Contains(d.AMR, "swk") {
		t.Fatalf("after ReauthVerified: %+v", d)
	}
	if err := svc.Reset(ctx, u); err != nil {
		t.Fatal(err)
	}
	if s, err := svc.State(ctx, 5); err != nil || s.Enabled || len(s.Factors) != 0 {
		t.Fatalf("after Reset: %+v, %v", s, err)
	}
	if s, _ := svc.Status(ctx, 5); len(s.TrustedDevices) != 0 || s.EmailFactor {
		t.Fatalf("after Reset: %+v", s)
	}
}
