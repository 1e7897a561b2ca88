package usertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// Settings and identities: the parts of the suite added with sign-in
// providers (migration 0002 on PostgreSQL).

func testSettings(t *testing.T, s user.Store) {
	settings := map[string]any{"theme": "dark", "langs": []any{"en", "fr"}, "n": 2, "deep": map[string]any{"a": nil}}
	want := jsonOf(t, settings)
	u := create(t, s, &user.User{Email: "a@x.com", Settings: settings})
	settings["theme"] = "mutated" // the caller's copy is not the store's
	got := get(t, s, u.ID)
	if g := jsonOf(t, got.Settings); g != want {
		t.Fatalf("Settings = %s, want %s", g, want)
	}
	got.Settings["theme"] = "light"
	delete(got.Settings, "langs")
	got.Metadata["kept"] = true
	update(t, s, got)
	again := get(t, s, u.ID)
	if g := jsonOf(t, again.Settings); g != `{"deep":{"a":null},"n":2,"theme":"light"}` {
		t.Errorf("Settings after Update = %s", g)
	}
	if again.Metadata["kept"] != true {
		t.Errorf("Metadata after Update = %v: settings and metadata are separate", again.Metadata)
	}
	again.Settings["theme"] = "mutated"
	if get(t, s, u.ID).Settings["theme"] != "light" {
		t.Error("mutating a returned copy reached the store")
	}

	none := create(t, s, &user.User{Email: "b@x.com"})
	if m := get(t, s, none.ID).Settings; m == nil || len(m) != 0 {
		t.Errorf("Settings of a user created without = %#v, want empty non-nil map", m)
	}
	anon, err := s.GetOrCreateAnonymous(t.Context(), "dev-settings", base())
	if err != nil {
		t.Fatal(err)
	}
	if anon.Settings == nil || len(anon.Settings) != 0 {
		t.Errorf("Settings of a new anonymous user = %#v, want empty non-nil map", anon.Settings)
	}
}

func link(t *testing.T, s user.Store, userID int64, provider, subject, email string) *user.Identity {
	t.Helper()
	id := &user.Identity{UserID: userID, Provider: provider, Subject: subject, Email: email, EmailVerified: email != ""}
	if err := s.LinkIdentity(t.Context(), id); err != nil {
		t.Fatalf("LinkIdentity(%d, %s, %s): %v", userID, provider, subject, err)
	}
	return id
}

func getIdentity(t *testing.T, s user.Store, provider, subject string) *user.Identity {
	t.Helper()
	id, err := s.GetIdentity(t.Context(), provider, subject)
	if err != nil {
		t.Fatalf("GetIdentity(%s, %s): %v", provider, subject, err)
	}
	return id
}

func listIdentities(t *testing.T, s user.Store, userID int64) []user.Identity {
	t.Helper()
	ids, err := s.ListIdentities(t.Context(), userID)
	if err != nil {
		t.Fatalf("ListIdentities(%d): %v", userID, err)
	}
	if ids == nil {
		t.Fatalf("ListIdentities(%d) = nil, want a non-nil slice", userID)
	}
	return ids
}

func keys(ids []user.Identity) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Provider + "/" + id.Subject
	}
	return out
}

func sameIdentity(a, b user.Identity) bool {
	return a.UserID == b.UserID && a.Provider == b.Provider && a.Subject == b.Subject &&
		a.Email == b.Email && a.EmailVerified == b.EmailVerified &&
		sameTime(a.CreatedAt, b.CreatedAt) && sameTime(a.LastUsedAt, b.LastUsedAt)
}

func testIdentityRoundTrip(t *testing.T, s user.Store) {
	before := time.Now().Add(-time.Second)
	u := create(t, s, &user.User{Email: "a@x.com"})
	g := link(t, s, u.ID, "google", "Sub-AbC 123/é", "A@Example.com")
	if g.CreatedAt.Before(before) || !sameTime(g.CreatedAt, g.LastUsedAt) {
		t.Errorf("linked at %v, last used %v: want about now, equal", g.CreatedAt, g.LastUsedAt)
	}
	got := getIdentity(t, s, "google", "Sub-AbC 123/é")
	if !sameIdentity(*got, *g) || got.Email != "A@Example.com" || !got.EmailVerified {
		t.Errorf("GetIdentity = %+v, want %+v", got, g)
	}
	noEmail := link(t, s, u.ID, "x", "42", "")
	if got := getIdentity(t, s, "x", "42"); got.Email != "" || got.EmailVerified {
		t.Errorf("identity without email = %+v", got)
	}
	ids := listIdentities(t, s, u.ID)
	if len(ids) != 2 || !sameIdentity(ids[0], *g) || !sameIdentity(ids[1], *noEmail) {
		t.Errorf("ListIdentities = %+v, want google then x", ids)
	}
	if ids := listIdentities(t, s, u.ID+1000); len(ids) != 0 {
		t.Errorf("ListIdentities(unknown user) = %v", keys(ids))
	}
	_, err := s.GetIdentity(t.Context(), "google", "sub-abc 123/é")
	wantErr(t, "GetIdentity with the subject in another case", err, user.ErrNotFound)
	_, err = s.GetIdentity(t.Context(), "github", "Sub-AbC 123/é")
	wantErr(t, "GetIdentity of another provider", err, user.ErrNotFound)
	if got := get(t, s, u.ID); got.Version != u.Version {
		t.Errorf("linking bumped the user's version to %d", got.Version)
	}
}

func testIdentityUniqueness(t *testing.T, s user.Store) {
	ctx := t.Context()
	a := create(t, s, &user.User{Email: "a@x.com"})
	b := create(t, s, &user.User{Email: "b@x.com"})
	first := link(t, s, a.ID, "github", "583231", "a@x.com")

	// The same user again: nothing changes, the stored identity comes back.
	again := &user.Identity{UserID: a.ID, Provider: "github", Subject: "583231", Email: "other@x.com"}
	if err := s.LinkIdentity(ctx, again); err != nil {
		t.Fatalf("LinkIdentity again for the same user: %v", err)
	}
	if !sameIdentity(*again, *first) {
		t.Errorf("relinking returned %+v, want the stored %+v", again, first)
	}
	// Another user: refused, never moved.
	err := s.LinkIdentity(ctx, &user.Identity{UserID: b.ID, Provider: "github", Subject: "583231"})
	wantErr(t, "LinkIdentity of an identity another user has", err, user.ErrIdentityTaken)
	if got := getIdentity(t, s, "github", "583231"); got.UserID != a.ID {
		t.Errorf("identity moved to user %d", got.UserID)
	}
	// Unique per provider: the same id at another provider, or in another case, is another identity.
	link(t, s, b.ID, "google", "583231", "")
	link(t, s, b.ID, "github", "583231x", "")
	link(t, s, b.ID, "oidc", "Abc", "")
	link(t, s, a.ID, "oidc", "abc", "")
	if got := keys(listIdentities(t, s, b.ID)); len(got) != 3 {
		t.Errorf("b's identities = %v, want 3", got)
	}
	// A user that does not exist.
	err = s.LinkIdentity(ctx, &user.Identity{UserID: b.ID + 1000, Provider: "google", Subject: "nobody"})
	wantErr(t, "LinkIdentity for a missing user", err, user.ErrNotFound)
	_, err = s.GetIdentity(ctx, "google", "nobody")
	wantErr(t, "GetIdentity after a refused link", err, user.ErrNotFound)
}

func testIdentityUnlinkTouch(t *testing.T, s user.Store) {
	ctx := t.Context()
	a := create(t, s, &user.User{Email: "a@x.com"})
	b := create(t, s, &user.User{Email: "b@x.com"})
	g := link(t, s, a.ID, "google", "g1", "a@x.com")
	link(t, s, a.ID, "github", "7", "")

	at := base().Add(time.Hour)
	if err := s.TouchIdentity(ctx, "google", "g1", "new@x.com", false, at); err != nil {
		t.Fatalf("TouchIdentity: %v", err)
	}
	got := getIdentity(t, s, "google", "g1")
	if !sameTime(got.LastUsedAt, at) || !sameTime(got.CreatedAt, g.CreatedAt) || got.Email != "new@x.com" || got.EmailVerified {
		t.Errorf("after TouchIdentity: %+v", got)
	}
	wantErr(t, "TouchIdentity of a missing identity", s.TouchIdentity(ctx, "google", "nope", "", false, at), user.ErrNotFound)
	if v := get(t, s, a.ID).Version; v != a.Version {
		t.Errorf("TouchIdentity bumped the user's version to %d", v)
	}

	wantErr(t, "UnlinkIdentity by another user", s.UnlinkIdentity(ctx, b.ID, "google", "g1"), user.ErrNotFound)
	getIdentity(t, s, "google", "g1")
	if err := s.UnlinkIdentity(ctx, a.ID, "google", "g1"); err != nil {
		t.Fatalf("UnlinkIdentity: %v", err)
	}
	_, err := s.GetIdentity(ctx, "google", "g1")
	wantErr(t, "GetIdentity after UnlinkIdentity", err, user.ErrNotFound)
	wantErr(t, "second UnlinkIdentity", s.UnlinkIdentity(ctx, a.ID, "google", "g1"), user.ErrNotFound)
	if got := keys(listIdentities(t, s, a.ID)); len(got) != 1 || got[0] != "github/7" {
		t.Errorf("identities after unlinking google = %v, want [github/7]", got)
	}
	// Free again: another user may link it now.
	link(t, s, b.ID, "google", "g1", "")
}

func testIdentityCascade(t *testing.T, s user.Store) {
	ctx := t.Context()
	del := create(t, s, &user.User{Email: "del@x.com"})
	purged := create(t, s, &user.User{Email: "purged@x.com", UnregisterTime: base().Add(-time.Hour)})
	keep := create(t, s, &user.User{Email: "keep@x.com"})
	link(t, s, del.ID, "google", "d1", "")
	link(t, s, del.ID, "github", "d2", "")
	link(t, s, purged.ID, "google", "p1", "")
	link(t, s, keep.ID, "google", "k1", "")

	if err := s.Delete(ctx, del.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, purged.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][2]string{{"google", "d1"}, {"github", "d2"}, {"google", "p1"}} {
		_, err := s.GetIdentity(ctx, k[0], k[1])
		wantErr(t, fmt.Sprintf("GetIdentity(%s/%s) after its user was deleted", k[0], k[1]), err, user.ErrNotFound)
	}
	for _, id := range []int64{del.ID, purged.ID} {
		if got := listIdentities(t, s, id); len(got) != 0 {
			t.Errorf("identities of deleted user %d: %v", id, keys(got))
		}
	}
	if got := keys(listIdentities(t, s, keep.ID)); len(got) != 1 {
		t.Errorf("identities of the kept user = %v", got)
	}
	link(t, s, keep.ID, "google", "d1", "") // freed by the deletion
}

func testIdentityRollback(t *testing.T, s user.Store) {
	a := create(t, s, &user.User{Email: "a@x.com"})
	gone := create(t, s, &user.User{Email: "gone@x.com"})
	kept := link(t, s, a.ID, "google", "kept", "a@x.com")
	link(t, s, a.ID, "github", "unlinked", "")
	onGone := link(t, s, gone.ID, "x", "cascaded", "")
	err := s.WithTx(t.Context(), func(ctx context.Context) error {
		if err := s.LinkIdentity(ctx, &user.Identity{UserID: a.ID, Provider: "tiktok", Subject: "new"}); err != nil {
			return err
		}
		if err := s.UnlinkIdentity(ctx, a.ID, "github", "unlinked"); err != nil {
			return err
		}
		if err := s.TouchIdentity(ctx, "google", "kept", "changed@x.com", false, base().Add(time.Hour)); err != nil {
			return err
		}
		if err := s.Delete(ctx, gone.ID); err != nil {
			return err
		}
		if _, err := s.GetIdentity(ctx, "x", "cascaded"); !errors.Is(err, user.ErrNotFound) {
			return fmt.Errorf("inside the transaction, the cascade did not happen: %v", err)
		}
		if ids, err := s.ListIdentities(ctx, a.ID); err != nil || len(ids) != 2 {
			return fmt.Errorf("inside the transaction, identities %v (%v), want kept and new", keys(ids), err)
		}
		return errBoom
	})
	wantErr(t, "WithTx", err, errBoom)
	_, err = s.GetIdentity(t.Context(), "tiktok", "new")
	wantErr(t, "GetIdentity of a link rolled back", err, user.ErrNotFound)
	if got := keys(listIdentities(t, s, a.ID)); len(got) != 2 || got[0] != "google/kept" || got[1] != "github/unlinked" {
		t.Errorf("identities after rollback = %v, want [google/kept github/unlinked]", got)
	}
	if got := getIdentity(t, s, "google", "kept"); !sameIdentity(*got, *kept) {
		t.Errorf("touched identity after rollback = %+v, want %+v", got, kept)
	}
	get(t, s, gone.ID)
	if got := getIdentity(t, s, "x", "cascaded"); !sameIdentity(*got, *onGone) {
		t.Errorf("cascaded identity after rollback = %+v, want %+v", got, onGone)
	}
	// A refused link inside a transaction leaves it usable.
	err = s.WithTx(t.Context(), func(ctx context.Context) error {
		err := s.LinkIdentity(ctx, &user.Identity{UserID: gone.ID, Provider: "google", Subject: "kept"})
		if !errors.Is(err, user.ErrIdentityTaken) {
			return fmt.Errorf("LinkIdentity of a taken identity: %v", err)
		}
		err = s.LinkIdentity(ctx, &user.Identity{UserID: a.ID + 1000, Provider: "google", Subject: "orphan"})
		if !errors.Is(err, user.ErrNotFound) {
			return fmt.Errorf("LinkIdentity for a missing user: %v", err)
		}
		return s.LinkIdentity(ctx, &user.Identity{UserID: gone.ID, Provider: "google", Subject: "after"})
	})
	if err != nil {
		t.Fatalf("transaction after refused links: %v", err)
	}
	if got := getIdentity(t, s, "google", "after"); got.UserID != gone.ID {
		t.Errorf("identity linked after refusals: %+v", got)
	}
}

func testIdentityConcurrentLink(t *testing.T, s user.Store) {
	const n = 10
	users := make([]*user.User, n)
	for i := range users {
		users[i] = create(t, s, &user.User{Email: fmt.Sprintf("u%d@x.com", i)})
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.LinkIdentity(context.Background(), &user.Identity{UserID: users[i].ID, Provider: "google", Subject: "contested"})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, user.ErrIdentityTaken):
			t.Errorf("link %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent links of one identity succeeded, want 1", won)
	}
}
