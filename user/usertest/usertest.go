// Package usertest is the conformance suite every user.Store implementation
// must pass. Call Run from the implementation's tests.
package usertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
		Email:          email,
		SSAID:          "kept-" + email, // a registered user may keep the ssaid it had
		PasswordHash:   "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		Disabled:       true,
		Metadata:       map[string]any{"nick": "ann", "age": 30},
		Settings:       map[string]any{"theme": "dark", "notify": map[string]any{"email": false}},
		RegisterIP:     "203.0.113.1",
		RegisterTime:   t0.Add(-72*time.Hour + 123456*time.Microsecond),
		LoginIP:        "2001:db8::1",
		LoginTime:      t0.Add(-time.Hour + 654321*time.Microsecond),
		LastActiveIP:   "198.51.100.7",
		LastActiveTime: t0.Add(-time.Minute + 1*time.Microsecond),
		UnregisterTime: t0.Add(999999 * time.Microsecond),
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

func testGetByEmail(t *testing.T, s user.Store) {
	a := create(t, s, &user.User{Email: "a@x.com"})
	m := create(t, s, &user.User{Email: "Mixed.Case@X.com"})
	for _, tc := range []struct {
		query string
		want  *user.User
	}{
		{"a@x.com", a},
		{"  A@X.com ", a},
		{"mixed.case@x.com", m},
		{"MIXED.CASE@X.COM", m},
	} {
		got, err := s.GetByEmail(t.Context(), tc.query)
		if err != nil {
			t.Errorf("GetByEmail(%q): %v", tc.query, err)
			continue
		}
		if got.ID != tc.want.ID || got.Email != tc.want.Email {
			t.Errorf("GetByEmail(%q) = %d %q, want %d %q", tc.query, got.ID, got.Email, tc.want.ID, tc.want.Email)
		}
	}
	for _, q := range []string{"b@x.com", "", "a@x.co"} {
		_, err := s.GetByEmail(t.Context(), q)
		wantErr(t, fmt.Sprintf("GetByEmail(%q)", q), err, user.ErrNotFound)
	}
}

func testEmailTaken(t *testing.T, s user.Store) {
	a := create(t, s, &user.User{Email: "a@x.com"})
	err := s.Create(t.Context(), &user.User{Email: "A@X.COM"})
	wantErr(t, "Create with a taken address in other case", err, user.ErrEmailTaken)

	b := create(t, s, &user.User{Email: "b@x.com"})
	b.Email = "A@x.Com"
	wantErr(t, "Update to a taken address", s.Update(t.Context(), b), user.ErrEmailTaken)
	if got := get(t, s, b.ID); got.Email != "b@x.com" || got.Version != 1 {
		t.Errorf("after refused Update: %q v%d, want %q v1", got.Email, got.Version, "b@x.com")
	}

	a.Email = "A@X.com" // changing the case of one's own address is fine
	update(t, s, a)
	if got, err := s.GetByEmail(t.Context(), "a@x.com"); err != nil || got.Email != "A@X.com" {
		t.Errorf("GetByEmail after case change = %v, %v; want %q", got, err, "A@X.com")
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

func testAnonymous(t *testing.T, s user.Store) {
	ctx := t.Context()
	now := base().Add(-time.Hour)
	for range 2 {
		_, err := s.GetAnonymous(ctx, "dev-1")
		wantErr(t, "GetAnonymous before creation", err, user.ErrNotFound)
	}
	a, err := s.GetOrCreateAnonymous(ctx, "dev-1", now)
	if err != nil {
		t.Fatalf("GetOrCreateAnonymous: %v", err)
	}
	if a.ID <= 0 || a.SSAID != "dev-1" || a.Email != "" || a.Registered() || a.Version != 1 || a.Metadata == nil {
		t.Errorf("new anonymous user = %+v", a)
	}
	if !sameTime(a.CreatedAt, now) || !sameTime(a.UpdatedAt, now) {
		t.Errorf("CreatedAt = %v, UpdatedAt = %v, want %v", a.CreatedAt, a.UpdatedAt, now)
	}
	again, err := s.GetOrCreateAnonymous(ctx, "dev-1", now.Add(time.Minute))
	if err != nil || again.ID != a.ID || !sameTime(again.CreatedAt, now) {
		t.Errorf("second GetOrCreateAnonymous = %v, %v; want id %d created %v", again, err, a.ID, now)
	}
	got, err := s.GetAnonymous(ctx, "dev-1")
	if err != nil || got.ID != a.ID {
		t.Errorf("GetAnonymous = %v, %v; want id %d", got, err, a.ID)
	}
	other, err := s.GetOrCreateAnonymous(ctx, "dev-2", now)
	if err != nil || other.ID == a.ID {
		t.Errorf("GetOrCreateAnonymous(other ssaid) = %v, %v; want a new user", other, err)
	}
}

func testAnonymousConcurrent(t *testing.T, s user.Store) {
	const n = 50
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, err := s.GetOrCreateAnonymous(context.Background(), "shared", base())
			if err == nil {
				ids[i] = u.ID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("call %d got id %d, call 0 got %d: want one user", i, ids[i], ids[0])
		}
	}
}

func testAnonymousUpgrade(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name      string
		keepSSAID bool
	}{{"ClearSSAID", false}, {"KeepSSAID", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ssaid := "dev-" + tc.name
			anon, err := s.GetOrCreateAnonymous(ctx, ssaid, base())
			if err != nil {
				t.Fatal(err)
			}
			anon.Email = tc.name + "@x.com"
			if !tc.keepSSAID {
				anon.SSAID = ""
			}
			update(t, s, anon)
			_, err = s.GetAnonymous(ctx, ssaid)
			wantErr(t, "GetAnonymous after upgrade", err, user.ErrNotFound)
			if got, err := s.GetByEmail(ctx, anon.Email); err != nil || got.ID != anon.ID {
				t.Errorf("GetByEmail after upgrade = %v, %v; want id %d", got, err, anon.ID)
			}
			fresh, err := s.GetOrCreateAnonymous(ctx, ssaid, base())
			if err != nil || fresh.ID == anon.ID || fresh.Email != "" {
				t.Errorf("GetOrCreateAnonymous after upgrade = %+v, %v; want a new anonymous user", fresh, err)
			}
		})
	}
}

var errBoom = errors.New("boom")

func testTxCommit(t *testing.T, s user.Store) {
	var id int64
	err := s.WithTx(t.Context(), func(ctx context.Context) error {
		u := &user.User{Email: "tx@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		id = u.ID
		got, err := s.GetByEmail(ctx, "tx@x.com") // the tx sees its own writes
		if err != nil {
			return err
		}
		got.LoginIP = "192.0.2.1"
		return s.Update(ctx, got)
	})
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if got := get(t, s, id); got.LoginIP != "192.0.2.1" || got.Version != 2 {
		t.Errorf("after commit: ip %q v%d, want 192.0.2.1 v2", got.LoginIP, got.Version)
	}
}

func testTxRollback(t *testing.T, s user.Store) {
	upd := create(t, s, &user.User{Email: "upd@x.com"})
	del := create(t, s, &user.User{Email: "del@x.com"})
	var created, anon int64
	err := s.WithTx(t.Context(), func(ctx context.Context) error {
		u := &user.User{Email: "new@x.com"}
		if err := s.Create(ctx, u); err != nil {
			return err
		}
		created = u.ID
		a, err := s.GetOrCreateAnonymous(ctx, "tx-dev", base())
		if err != nil {
			return err
		}
		anon = a.ID
		v := upd.Clone()
		v.Email, v.Disabled = "renamed@x.com", true
		if err := s.Update(ctx, v); err != nil {
			return err
		}
		if err := s.TouchActive(ctx, upd.ID, "192.0.2.2", base()); err != nil {
			return err
		}
		if err := s.Delete(ctx, del.ID); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	wantErr(t, "WithTx", err, errBoom)
	wantGone(t, s, created)
	wantGone(t, s, anon)
	for _, q := range []string{"new@x.com", "renamed@x.com"} {
		_, err := s.GetByEmail(t.Context(), q)
		wantErr(t, "GetByEmail("+q+") after rollback", err, user.ErrNotFound)
	}
	_, err = s.GetAnonymous(t.Context(), "tx-dev")
	wantErr(t, "GetAnonymous after rollback", err, user.ErrNotFound)
	wantUser(t, "updated user after rollback", get(t, s, upd.ID), upd)
	if got := get(t, s, upd.ID); got.Version != 1 {
		t.Errorf("Version after rollback = %d, want 1", got.Version)
	}
	wantUser(t, "deleted user after rollback", get(t, s, del.ID), del)
	if got, err := s.GetByEmail(t.Context(), "upd@x.com"); err != nil || got.ID != upd.ID {
		t.Errorf("GetByEmail(old address) after rollback = %v, %v", got, err)
	}
	create(t, s, &user.User{Email: "new@x.com"}) // the address is free again
}

func testTxNested(t *testing.T, s user.Store) {
	t.Run("Commit", func(t *testing.T) {
		var outer, inner int64
		err := s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "outer-ok@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			outer = u.ID
			return s.WithTx(ctx, func(ctx context.Context) error {
				if _, err := s.Get(ctx, outer); err != nil { // sees the outer write
					return err
				}
				v := &user.User{Email: "inner-ok@x.com"}
				err := s.Create(ctx, v)
				inner = v.ID
				return err
			})
		})
		if err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		get(t, s, outer)
		get(t, s, inner)
	})
	t.Run("InnerErrorRollsBackAll", func(t *testing.T) {
		var outer, inner int64
		err := s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "outer@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			outer = u.ID
			return s.WithTx(ctx, func(ctx context.Context) error {
				v := &user.User{Email: "inner@x.com"}
				if err := s.Create(ctx, v); err != nil {
					return err
				}
				inner = v.ID
				return errBoom
			})
		})
		wantErr(t, "WithTx", err, errBoom)
		if outer == 0 || inner == 0 {
			t.Fatalf("creates inside the tx did not run (outer %d, inner %d)", outer, inner)
		}
		wantGone(t, s, outer)
		wantGone(t, s, inner)
	})
}

func testTxPanic(t *testing.T, s user.Store) {
	var id int64
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want the panic value %v", r, errBoom)
			}
		}()
		_ = s.WithTx(t.Context(), func(ctx context.Context) error {
			u := &user.User{Email: "panic@x.com"}
			if err := s.Create(ctx, u); err != nil {
				return err
			}
			id = u.ID
			panic(errBoom)
		})
		t.Error("WithTx returned instead of re-panicking")
	}()
	if id == 0 {
		t.Fatal("Create inside the tx did not run")
	}
	wantGone(t, s, id)
	create(t, s, &user.User{Email: "panic@x.com"}) // the store is still usable and the address free
}

func testTouchActive(t *testing.T, s user.Store) {
	u := create(t, s, &user.User{Email: "a@x.com"})
	at := base().Add(-3 * time.Second)
	if err := s.TouchActive(t.Context(), u.ID, "192.0.2.3", at); err != nil {
		t.Fatalf("TouchActive: %v", err)
	}
	got := get(t, s, u.ID)
	if got.LastActiveIP != "192.0.2.3" || !sameTime(got.LastActiveTime, at) {
		t.Errorf("after TouchActive: %q %v, want 192.0.2.3 %v", got.LastActiveIP, got.LastActiveTime, at)
	}
	if got.Version != u.Version {
		t.Errorf("TouchActive bumped Version to %d, want %d", got.Version, u.Version)
	}
	u.Disabled = true
	update(t, s, u) // the copy read before TouchActive is not stale
	got = get(t, s, u.ID)
	if !got.Disabled || got.LastActiveIP != "192.0.2.3" || !sameTime(got.LastActiveTime, at) {
		t.Errorf("Update overwrote the newer activity: %q %v, want 192.0.2.3 %v", got.LastActiveIP, got.LastActiveTime, at)
	}
}

func testPurgeAnonymous(t *testing.T, s user.Store) {
	ctx := t.Context()
	now := base()
	cutoff := now.Add(-time.Hour)
	anon := func(ssaid string, created time.Time) *user.User {
		u, err := s.GetOrCreateAnonymous(ctx, ssaid, created)
		if err != nil {
			t.Fatalf("GetOrCreateAnonymous(%q): %v", ssaid, err)
		}
		return u
	}
	touch := func(u *user.User, at time.Time) {
		if err := s.TouchActive(ctx, u.ID, "192.0.2.4", at); err != nil {
			t.Fatalf("TouchActive: %v", err)
		}
	}
	old1 := anon("old1", now.Add(-3*time.Hour))
	old2 := anon("old2", now.Add(-2*time.Hour))
	oldActive := anon("old-active", now.Add(-3*time.Hour))
	touch(oldActive, now.Add(-2*time.Hour))
	revived := anon("revived", now.Add(-3*time.Hour))
	touch(revived, now.Add(-time.Minute))
	atCutoff := anon("at-cutoff", cutoff)
	recent := anon("recent", now)
	reg := create(t, s, &user.User{Email: "reg@x.com"})
	touch(reg, now.Add(-5*time.Hour))

	for _, tc := range []struct{ limit, want int }{{0, 0}, {2, 2}, {10, 1}, {10, 0}} {
		n, err := s.PurgeAnonymous(ctx, cutoff, tc.limit)
		if err != nil || n != tc.want {
			t.Errorf("PurgeAnonymous(limit %d) = %d, %v; want %d", tc.limit, n, err, tc.want)
		}
	}
	for _, u := range []*user.User{old1, old2, oldActive} {
		wantGone(t, s, u.ID)
	}
	for _, u := range []*user.User{revived, atCutoff, recent, reg} {
		get(t, s, u.ID)
	}

	// A cutoff at half past an hour, one user last active earlier in that
	// hour and one later: a store that indexes activity by the hour must
	// still compare exact times.
	h := now.Add(-48 * time.Hour).Truncate(time.Hour)
	early := anon("early-in-hour", h.Add(-time.Hour))
	touch(early, h.Add(10*time.Minute))
	late := anon("late-in-hour", h.Add(-time.Hour))
	touch(late, h.Add(50*time.Minute))
	if n, err := s.PurgeAnonymous(ctx, h.Add(30*time.Minute), 10); err != nil || n != 1 {
		t.Errorf("PurgeAnonymous(half past the hour) = %d, %v; want 1", n, err)
	}
	wantGone(t, s, early.ID)
	for _, u := range []*user.User{late, revived, atCutoff, recent, reg} {
		get(t, s, u.ID)
	}
}

func testDelete(t *testing.T, s user.Store) {
	u := create(t, s, &user.User{Email: "a@x.com"})
	keep := create(t, s, &user.User{Email: "b@x.com"})
	if err := s.Delete(t.Context(), u.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantGone(t, s, u.ID)
	_, err := s.GetByEmail(t.Context(), "a@x.com")
	wantErr(t, "GetByEmail after Delete", err, user.ErrNotFound)
	wantErr(t, "second Delete", s.Delete(t.Context(), u.ID), user.ErrNotFound)
	get(t, s, keep.ID)
	if again := create(t, s, &user.User{Email: "A@x.com"}); again.ID == u.ID {
		t.Errorf("a deleted ID was reused: %d", again.ID)
	}
}

// num reads a metadata number, whatever type the store decodes it to.
func num(t *testing.T, v any) int {
	switch n := v.(type) {
	case nil:
		return 0
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			t.Errorf("counter %q: %v", n, err)
		}
		return int(i)
	}
	t.Errorf("counter has type %T", v)
	return 0
}

func testConcurrentUpdates(t *testing.T, s user.Store) {
	const n = 20
	u := create(t, s, &user.User{Email: "a@x.com"})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			for {
				cur, err := s.Get(context.Background(), u.ID)
				if err != nil {
					errs <- err
					return
				}
				cur.Metadata["count"] = num(t, cur.Metadata["count"]) + 1
				err = s.Update(context.Background(), cur)
				if errors.Is(err, user.ErrConflict) {
					continue
				}
				errs <- err
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got := get(t, s, u.ID)
	if c := num(t, got.Metadata["count"]); c != n || got.Version != n+1 {
		t.Errorf("after %d concurrent increments: count %d, Version %d; want %d, %d", n, c, got.Version, n, n+1)
	}
}

func testListUnregistered(t *testing.T, s user.Store) {
	cutoff := base()
	old := create(t, s, &user.User{Email: "old@x.com", UnregisterTime: cutoff.Add(-2 * time.Hour)})
	at := create(t, s, &user.User{Email: "at@x.com", UnregisterTime: cutoff})
	create(t, s, &user.User{Email: "later@x.com", UnregisterTime: cutoff.Add(time.Second)})
	create(t, s, &user.User{Email: "live@x.com"})
	// Disabled by an administrator: never listed, so the purge never frees
	// its address (issue 13 point 8).
	create(t, s, &user.User{Email: "disabled@x.com", Disabled: true, UnregisterTime: cutoff.Add(-3 * time.Hour)})
	got, err := s.ListUnregistered(t.Context(), cutoff, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != old.ID || got[1].ID != at.ID {
		t.Fatalf("ListUnregistered = %v, want [old, at] oldest first (the disabled one left out)", ids(got))
	}
	got, err = s.ListUnregistered(t.Context(), cutoff, 1)
	if err != nil || len(got) != 1 || got[0].ID != old.ID {
		t.Fatalf("limit 1: %v (err %v), want [old]", ids(got), err)
	}
}

func ids(us []*user.User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// testEmailIdentity: one account per user.EmailKey (SPEC §3). Canonically
// equivalent spellings and the two forms of an internationalised domain are
// one account; look-alikes (U+0130, U+212A) never are.
func testEmailIdentity(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name          string
		stored, other string
		same          bool
	}{
		{"NFC and NFD", "jos\u00e9@example.com", "jose\u0301@example.com", true},
		{"NFD and NFC", "rene\u0301@example.com", "ren\u00e9@example.com", true},
		{"IDN as typed and as punycode", "ada@bücher.example", "Ada@xn--bcher-kva.EXAMPLE", true},
		{"punycode and IDN as typed", "ada@xn--mnchen-3ya.de", "ada@MÜNCHEN.de", true},
		{"U+0130 in the domain", "user@mail.example.com", "user@maİl.example.com", false},
		{"U+0130 in the local part", "ismail@example.com", "İsmail@example.com", false},
		{"non-ASCII case", "émile@example.com", "Émile@example.com", false},
		{"sharp s", "strasse@example.com", "straße@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := create(t, s, &user.User{Email: tc.stored})
			if got := get(t, s, u.ID); got.Email != tc.stored {
				t.Errorf("stored Email %q, want %q as typed", got.Email, tc.stored)
			}
			got, err := s.GetByEmail(ctx, tc.other)
			if tc.same {
				if err != nil || got.ID != u.ID {
					t.Fatalf("GetByEmail(%q) = %v, %v; want user %d (%q)", tc.other, got, err, u.ID, tc.stored)
				}
				wantErr(t, fmt.Sprintf("Create(%q)", tc.other), s.Create(ctx, &user.User{Email: tc.other}), user.ErrEmailTaken)
				other := create(t, s, &user.User{Email: "x-" + tc.stored})
				other.Email = tc.other
				wantErr(t, fmt.Sprintf("Update to %q", tc.other), s.Update(ctx, other), user.ErrEmailTaken)
				// The owner may retype its own address in the other form;
				// it is stored as typed.
				u = get(t, s, u.ID)
				u.Email = tc.other
				update(t, s, u)
				if got, err := s.GetByEmail(ctx, tc.stored); err != nil || got.ID != u.ID || got.Email != tc.other {
					t.Errorf("after retyping: GetByEmail(%q) = %v, %v; want user %d holding %q", tc.stored, got, err, u.ID, tc.other)
				}
				return
			}
			wantErr(t, fmt.Sprintf("GetByEmail(%q)", tc.other), err, user.ErrNotFound)
			v := create(t, s, &user.User{Email: tc.other})
			for _, p := range []struct {
				email string
				id    int64
			}{{tc.stored, u.ID}, {tc.other, v.ID}} {
				if got, err := s.GetByEmail(ctx, p.email); err != nil || got.ID != p.id {
					t.Errorf("GetByEmail(%q) = %v, %v; want user %d", p.email, got, err, p.id)
				}
			}
		})
	}
	t.Run("KelvinSign", func(t *testing.T) {
		kate := create(t, s, &user.User{Email: "kate@example.com"})
		kelvin := "\u212Aate@example.com" // NFC would turn U+212A into the Latin K
		_, err := s.GetByEmail(ctx, kelvin)
		wantErr(t, "GetByEmail(Kelvin-K ate)", err, user.ErrNotFound)
		wantErr(t, "Create(Kelvin-K ate)", s.Create(ctx, &user.User{Email: kelvin}), user.ErrInvalidEmail)
		if got, err := s.GetByEmail(ctx, "KATE@example.com"); err != nil || got.ID != kate.ID {
			t.Errorf("GetByEmail(KATE@) = %v, %v; want kate (ASCII case folds)", got, err)
		}
	})
	t.Run("ByKey", func(t *testing.T) {
		u := create(t, s, &user.User{Email: "Key.Holder@Bücher.example"})
		k := user.EmailKey(u.Email)
		if got, err := s.GetByEmail(ctx, k); err != nil || got.ID != u.ID {
			t.Errorf("GetByEmail(its key %q) = %v, %v; want user %d", k, got, err, u.ID)
		}
	})
}

// testInvalidEmail: an address without a key is never stored, and a
// refused write leaves the user as it was.
func testInvalidEmail(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, e := range []string{"not-an-address", "a@localhost", "p\u0430ypal@example.com", "\u212Aate@example.com"} {
		wantErr(t, fmt.Sprintf("Create(%q)", e), s.Create(ctx, &user.User{Email: e}), user.ErrInvalidEmail)
		u := create(t, s, &user.User{Email: "valid@example.com"})
		u.Email = e
		wantErr(t, fmt.Sprintf("Update to %q", e), s.Update(ctx, u), user.ErrInvalidEmail)
		if got := get(t, s, u.ID); got.Email != "valid@example.com" || got.Version != 1 {
			t.Errorf("after the refused Update: %q v%d, want valid@example.com v1", got.Email, got.Version)
		}
		if err := s.Delete(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Inside a transaction the refusal leaves the transaction usable.
	err := s.WithTx(ctx, func(ctx context.Context) error {
		wantErr(t, "Create in a transaction", s.Create(ctx, &user.User{Email: "a@localhost"}), user.ErrInvalidEmail)
		return s.Create(ctx, &user.User{Email: "after@example.com"})
	})
	if err != nil {
		t.Fatalf("transaction after a refused Create: %v", err)
	}
	if _, err := s.GetByEmail(ctx, "after@example.com"); err != nil {
		t.Errorf("the transaction's later Create was lost: %v", err)
	}
}

// Text no backend can store (a NUL, invalid UTF-8) is refused alike by
// every store, with user.ErrInvalidText (the address, which has its own
// check, with user.ErrInvalidEmail), and nothing is written.
func testInvalidText(t *testing.T, s user.Store) {
	ctx := t.Context()
	for name, u := range map[string]*user.User{
		"NUL in a metadata value":     {Email: "t1@example.com", Metadata: map[string]any{"k": "a\x00b"}},
		"NUL in a metadata key":       {Email: "t2@example.com", Metadata: map[string]any{"k\x00": 1}},
		"invalid UTF-8 in settings":   {Email: "t3@example.com", Settings: map[string]any{"k": "\xff"}},
		"NUL deep in settings":        {Email: "t4@example.com", Settings: map[string]any{"k": []any{map[string]any{"x": "\x00"}}}},
		"NUL in the ssaid":            {SSAID: "dev\x00ice"},
		"invalid UTF-8 in a login IP": {Email: "t5@example.com", LoginIP: "\xfe"},
	} {
		wantErr(t, "Create: "+name, s.Create(ctx, u), user.ErrInvalidText)
	}
	wantErr(t, "Create with a NUL in the address", s.Create(ctx, &user.User{Email: "t\x00@example.com"}), user.ErrInvalidEmail)
	for _, e := range []string{"t1@example.com", "t2@example.com", "t3@example.com", "t4@example.com", "t5@example.com"} {
		if _, err := s.GetByEmail(ctx, e); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByEmail(%s) after the refused Create: %v, want ErrNotFound", e, err)
		}
	}
	u := create(t, s, &user.User{Email: "t6@example.com"})
	u.Metadata = map[string]any{"bio": "nul\x00"}
	wantErr(t, "Update", s.Update(ctx, u), user.ErrInvalidText)
	if got := get(t, s, u.ID); len(got.Metadata) != 0 || got.Version != 1 {
		t.Errorf("after the refused Update: metadata %v, version %d", got.Metadata, got.Version)
	}
	wantErr(t, "LinkIdentity", s.LinkIdentity(ctx, &user.Identity{UserID: u.ID, Provider: "google", Subject: "sub\x00"}), user.ErrInvalidText)
	if ids, err := s.ListIdentities(ctx, u.ID); err != nil || len(ids) != 0 {
		t.Errorf("identities after the refused link: %v, %v", ids, err)
	}
}
