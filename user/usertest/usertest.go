// Package usertest is the conformance suite every user.Store implementation
// must pass. Call Run from the implementation's tests.
package usertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// Run runs the suite. newStore must return a fresh, empty store for each
// subtest.
func Run(t *testing.T, newStore func(t *testing.T) user.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s user.Store)
	}{
		{"CreateGet", testCreateGet},
		{"FieldsRoundTrip", testFieldsRoundTrip},
		{"ZeroValuesRoundTrip", testZeroValues},
		{"GetByEmail", testGetByEmail},
		{"Phone", testPhone},
		{"PhoneTaken", testPhoneTaken},
		{"InvalidPhone", testInvalidPhone},
		{"EmailTaken", testEmailTaken},
		{"EmailIdentity", testEmailIdentity},
		{"InvalidEmail", testInvalidEmail},
		{"InvalidText", testInvalidText},
		{"NotFound", testNotFound},
		{"VersionConflict", testVersionConflict},
		{"Metadata", testMetadata},
		{"Anonymous", testAnonymous},
		{"AnonymousConcurrent", testAnonymousConcurrent},
		{"AnonymousUpgrade", testAnonymousUpgrade},
		{"TxCommit", testTxCommit},
		{"TxRollback", testTxRollback},
		{"TxNested", testTxNested},
		{"TxPanic", testTxPanic},
		{"TouchActive", testTouchActive},
		{"PurgeAnonymous", testPurgeAnonymous},
		{"ListUnregistered", testListUnregistered},
		{"Delete", testDelete},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Settings", testSettings},
		{"MustChangePassword", testMustChangePassword},
		{"IdentityRoundTrip", testIdentityRoundTrip},
		{"IdentityUniqueness", testIdentityUniqueness},
		{"IdentityUnlinkTouch", testIdentityUnlinkTouch},
		{"IdentityCascade", testIdentityCascade},
		{"IdentityRollback", testIdentityRollback},
		{"IdentityConcurrentLink", testIdentityConcurrentLink},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// base is a time with microsecond precision, which every store keeps.
func base() time.Time { return time.Now().Truncate(time.Microsecond) }

func create(t *testing.T, s user.Store, u *user.User) *user.User {
	t.Helper()
	if err := s.Create(t.Context(), u); err != nil {
		t.Fatalf("Create(%q): %v", u.Email, err)
	}
	return u
}

func get(t *testing.T, s user.Store, id int64) *user.User {
	t.Helper()
	u, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return u
}

func update(t *testing.T, s user.Store, u *user.User) {
	t.Helper()
	if err := s.Update(t.Context(), u); err != nil {
		t.Fatalf("Update(%d): %v", u.ID, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func wantGone(t *testing.T, s user.Store, id int64) {
	t.Helper()
	_, err := s.Get(t.Context(), id)
	wantErr(t, fmt.Sprintf("Get(%d)", id), err, user.ErrNotFound)
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", v, err)
	}
	return string(b)
}

// diff lists the fields of got that differ from want, ignoring ID,
// CreatedAt, UpdatedAt and Version. Times are compared to the microsecond,
// metadata and settings through their JSON encoding.
func diff(t *testing.T, got, want *user.User) []string {
	t.Helper()
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		if !sameTime(g, w) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	str("Email", got.Email, want.Email)
	str("SSAID", got.SSAID, want.SSAID)
	str("Phone", got.Phone, want.Phone)
	tm("EmailVerifiedAt", got.EmailVerifiedAt, want.EmailVerifiedAt)
	tm("PhoneVerifiedAt", got.PhoneVerifiedAt, want.PhoneVerifiedAt)
	str("PasswordHash", got.PasswordHash, want.PasswordHash)
	str("RegisterIP", got.RegisterIP, want.RegisterIP)
	str("LoginIP", got.LoginIP, want.LoginIP)
	str("LastActiveIP", got.LastActiveIP, want.LastActiveIP)
	tm("RegisterTime", got.RegisterTime, want.RegisterTime)
	tm("LoginTime", got.LoginTime, want.LoginTime)
	tm("LastActiveTime", got.LastActiveTime, want.LastActiveTime)
	tm("UnregisterTime", got.UnregisterTime, want.UnregisterTime)
	if got.Disabled != want.Disabled {
		d = append(d, fmt.Sprintf("Disabled = %v, want %v", got.Disabled, want.Disabled))
	}
	if got.Metadata == nil {
		d = append(d, "Metadata is nil")
	}
	wm := want.Metadata
	if wm == nil {
		wm = map[string]any{}
	}
	str("Metadata", jsonOf(t, got.Metadata), jsonOf(t, wm))
	if got.Settings == nil {
		d = append(d, "Settings is nil")
	}
	ws := want.Settings
	if ws == nil {
		ws = map[string]any{}
	}
	str("Settings", jsonOf(t, got.Settings), jsonOf(t, ws))
	return d
}

func wantUser(t *testing.T, what string, got, want *user.User) {
	t.Helper()
	for _, d := range diff(t, got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

func testCreateGet(t *testing.T, s user.Store) {
	before := time.Now().Add(-time.Second)
	u := create(t, s, &user.User{ID: 12345, Email: "a@x.com", PasswordHash: "$argon2id$x"})
	if u.ID <= 0 || u.ID == 12345 {
		t.Errorf("ID = %d, want a new positive id", u.ID)
	}
	if u.Version != 1 {
		t.Errorf("Version = %d, want 1", u.Version)
	}
	if u.CreatedAt.Before(before) || u.UpdatedAt.Before(before) {
		t.Errorf("CreatedAt = %v, UpdatedAt = %v, want about now", u.CreatedAt, u.UpdatedAt)
	}
	got := get(t, s, u.ID)
	wantUser(t, "Get", got, u)
	if got.ID != u.ID || got.Version != 1 || !sameTime(got.CreatedAt, u.CreatedAt) || !sameTime(got.UpdatedAt, u.UpdatedAt) {
		t.Errorf("Get = id %d v%d created %v updated %v, want id %d v1 created %v updated %v",
			got.ID, got.Version, got.CreatedAt, got.UpdatedAt, u.ID, u.CreatedAt, u.UpdatedAt)
	}
	v := create(t, s, &user.User{Email: "b@x.com"})
	if v.ID == u.ID {
		t.Errorf("second user got the same ID %d", v.ID)
	}
}

// full returns a user with every field set.
func full(email string) *user.User {
	t0 := base().In(time.FixedZone("X", 3*3600+1800))
	return &user.User{
		Email:           email,
		Phone:           phoneFor(email),
		EmailVerifiedAt: t0.Add(-2*time.Hour + 222222*time.Microsecond),
		PhoneVerifiedAt: t0.Add(-3*time.Hour + 333333*time.Microsecond),
		SSAID:           "kept-" + email, // a registered user may keep the ssaid it had
		PasswordHash:    "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		Disabled:        true,
		Metadata:        map[string]any{"nick": "ann", "age": 30},
		Settings:        map[string]any{"theme": "dark", "notify": map[string]any{"email": false}},
		RegisterIP:      "203.0.113.1",
		RegisterTime:    t0.Add(-72*time.Hour + 123456*time.Microsecond),
		LoginIP:         "2001:db8::1",
		LoginTime:       t0.Add(-time.Hour + 654321*time.Microsecond),
		LastActiveIP:    "198.51.100.7",
		LastActiveTime:  t0.Add(-time.Minute + 1*time.Microsecond),
		UnregisterTime:  t0.Add(999999 * time.Microsecond),
	}
}

func testFieldsRoundTrip(t *testing.T, s user.Store) {
	t.Run("Create", func(t *testing.T) {
		want := full("full@x.com")
		u := create(t, s, want.Clone())
		wantUser(t, "Get", get(t, s, u.ID), want)
	})
	t.Run("Update", func(t *testing.T) {
		u := create(t, s, &user.User{Email: "plain@x.com"})
		want := full("changed@x.com")
		want.ID, want.Version = u.ID, u.Version
		update(t, s, want.Clone())
		// Update never writes the last-active pair (only TouchActive does).
		want.LastActiveIP, want.LastActiveTime = "", time.Time{}
		wantUser(t, "Get", get(t, s, u.ID), want)
	})
}

func testZeroValues(t *testing.T, s user.Store) {
	// Set everything, then clear it again: empty strings and zero times must come back zero.
	u := create(t, s, full("z@x.com"))
	cleared := &user.User{ID: u.ID, Email: "z@x.com", Version: u.Version}
	update(t, s, cleared.Clone())
	got := get(t, s, u.ID)
	cleared.LastActiveIP, cleared.LastActiveTime = u.LastActiveIP, u.LastActiveTime // not Update's to clear
	wantUser(t, "Get", got, cleared)
	for name, tm := range map[string]time.Time{"RegisterTime": got.RegisterTime, "LoginTime": got.LoginTime,
		"UnregisterTime": got.UnregisterTime} {
		if !tm.IsZero() {
			t.Errorf("%s = %v, want zero", name, tm)
		}
	}
	if got.Unregistered() || got.PasswordSet() {
		t.Errorf("Unregistered() = %v, PasswordSet() = %v, want false", got.Unregistered(), got.PasswordSet())
	}
}

func testNotFound(t *testing.T, s user.Store) {
	ctx := t.Context()
	u := create(t, s, &user.User{Email: "a@x.com"})
	missing := u.ID + 1000
	_, errGet := s.Get(ctx, missing)
	_, errEmail := s.GetByEmail(ctx, "nobody@x.com")
	_, errAnon := s.GetAnonymous(ctx, "no-such-ssaid")
	for what, err := range map[string]error{
		"Get":          errGet,
		"GetByEmail":   errEmail,
		"GetAnonymous": errAnon,
		"Update":       s.Update(ctx, &user.User{ID: missing, Email: "m@x.com", Version: 1}),
		"Delete":       s.Delete(ctx, missing),
		"TouchActive":  s.TouchActive(ctx, missing, "192.0.2.1", base()),
	} {
		wantErr(t, what, err, user.ErrNotFound)
	}
}

func testVersionConflict(t *testing.T, s user.Store) {
	u := create(t, s, &user.User{Email: "a@x.com"})
	fresh, stale := get(t, s, u.ID), get(t, s, u.ID)
	fresh.Disabled = true
	update(t, s, fresh)
	if fresh.Version != 2 {
		t.Errorf("Version after Update = %d, want 2", fresh.Version)
	}
	if fresh.UpdatedAt.Before(u.CreatedAt) {
		t.Errorf("UpdatedAt %v before CreatedAt %v", fresh.UpdatedAt, u.CreatedAt)
	}
	stale.LoginIP = "192.0.2.9"
	wantErr(t, "Update with a stale version", s.Update(t.Context(), stale), user.ErrConflict)
	if stale.Version != 1 {
		t.Errorf("refused Update changed Version to %d", stale.Version)
	}
	got := get(t, s, u.ID)
	if !got.Disabled || got.LoginIP != "" || got.Version != 2 || !sameTime(got.UpdatedAt, fresh.UpdatedAt) {
		t.Errorf("stored = disabled %v ip %q v%d updated %v, want true \"\" v2 %v",
			got.Disabled, got.LoginIP, got.Version, got.UpdatedAt, fresh.UpdatedAt)
	}
	if !sameTime(got.CreatedAt, u.CreatedAt) {
		t.Errorf("CreatedAt changed by Update: %v, want %v", got.CreatedAt, u.CreatedAt)
	}
	got.LoginIP = "192.0.2.9"
	update(t, s, got)
	if got.Version != 3 || get(t, s, u.ID).Version != 3 {
		t.Errorf("Version after second Update = %d, want 3", got.Version)
	}
}

func testMetadata(t *testing.T, s user.Store) {
	meta := map[string]any{
		"n":      42,
		"f":      1.5,
		"s":      "str",
		"b":      true,
		"null":   nil,
		"list":   []any{1, "two", false, nil, map[string]any{"deep": "yes"}},
		"nested": map[string]any{"a": map[string]any{"b": []any{3.25}}},
	}
	want := jsonOf(t, meta)
	u := create(t, s, &user.User{Email: "a@x.com", Metadata: meta})
	// Mutating the caller's copy, or a returned copy, must not reach the store.
	meta["n"] = 0
	meta["nested"].(map[string]any)["a"] = "changed"
	got := get(t, s, u.ID)
	if g := jsonOf(t, got.Metadata); g != want {
		t.Errorf("Metadata = %s, want %s", g, want)
	}
	got.Metadata["list"].([]any)[0] = "mutated"
	got.Metadata["s"] = "mutated"
	if g := jsonOf(t, get(t, s, u.ID).Metadata); g != want {
		t.Errorf("Metadata after mutating a returned copy = %s, want %s", g, want)
	}

	empty := create(t, s, &user.User{Email: "b@x.com"})
	if m := get(t, s, empty.ID).Metadata; m == nil || len(m) != 0 {
		t.Errorf("Metadata of a user created without = %#v, want empty non-nil map", m)
	}
}

// The must-change-password flag and the account status (suspended, its
// reason) are stored by Create and Update and read back by every Get.
func testMustChangePassword(t *testing.T, s user.Store) {
	ctx := t.Context()
	u := &user.User{Email: "mcp@example.com", MustChangePassword: true, Disabled: true, Suspended: true, StatusReason: "chargeback"}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetByEmail(ctx, "mcp@example.com")
	if err != nil || !got.MustChangePassword || got.Status() != user.StatusSuspended || got.StatusReason != "chargeback" {
		t.Fatalf("after Create: %+v, %v; want the flag set, suspended for chargeback", got, err)
	}
	got.MustChangePassword, got.Suspended, got.StatusReason = false, false, "spam"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, u.ID); err != nil || got.MustChangePassword || got.Status() != user.StatusDisabled || got.StatusReason != "spam" {
		t.Errorf("after Update: %+v, %v; want the flag cleared, disabled for spam", got, err)
	}
}
