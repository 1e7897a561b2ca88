package usertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

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
