// Package passkeytest is the conformance suite every passkey.Store
// implementation must pass. Call Run from the implementation's tests.
package passkeytest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/passkey"
)

// Setup returns a fresh store for one subtest and a function that makes a
// new user the store accepts (a row of simpleuser_users for PostgreSQL, any
// unused id for memory) and returns its id.
type Setup func(t *testing.T) (store passkey.Store, newUser func() int64)

// Run runs the suite.
func Run(t *testing.T, setup Setup) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s passkey.Store, newUser func() int64)
	}{
		{"UserHandle", testUserHandle},
		{"UserHandleConcurrent", testUserHandleConcurrent},
		{"AddGetList", testAddGetList},
		{"AddRefusesOtherHandle", testAddOtherHandle},
		{"AddRefusesDuplicateID", testAddDuplicate},
		{"RenameRemove", testRenameRemove},
		{"RecordUseCounter", testRecordUseCounter},
		{"RecordUseConcurrent", testRecordUseConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, newUser := setup(t)
			tc.fn(t, s, newUser)
		})
	}
}

// at is a fixed time as every store returns it: UTC, to the microsecond.
var at = time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)

func randomID(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newCred returns a credential of userID (handle from s) with every field set.
func newCred(t *testing.T, s passkey.Store, userID int64, name string) *passkey.Credential {
	t.Helper()
	h, err := s.UserHandle(t.Context(), userID)
	if err != nil {
		t.Fatalf("UserHandle(%d): %v", userID, err)
	}
	return &passkey.Credential{
		ID: randomID(32), UserID: userID, UserHandle: h, Name: name,
		PublicKey: randomID(77), SignCount: 5, AAGUID: randomID(16),
		Transports:     []string{"internal", "hybrid"},
		BackupEligible: true, BackupState: true, UserVerified: true,
	}
}

func add(t *testing.T, s passkey.Store, c *passkey.Credential, when time.Time) {
	t.Helper()
	if err := s.Add(t.Context(), c, when); err != nil {
		t.Fatalf("Add(%q): %v", c.Name, err)
	}
	if !c.CreatedAt.Equal(when) || !c.LastUsedAt.IsZero() {
		t.Errorf("Add set CreatedAt %v, LastUsedAt %v; want %v and zero", c.CreatedAt, c.LastUsedAt, when)
	}
}

func get(t *testing.T, s passkey.Store, id []byte) *passkey.Credential {
	t.Helper()
	c, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return c
}

func testUserHandle(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	a, b := newUser(), newUser()
	ha, err := s.UserHandle(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(ha) != passkey.UserHandleLen || bytes.Count(ha, []byte{0}) == len(ha) {
		t.Fatalf("handle %x: want %d random bytes", ha, passkey.UserHandleLen)
	}
	if again, err := s.UserHandle(ctx, a); err != nil || !bytes.Equal(again, ha) {
		t.Errorf("second UserHandle = %x, %v; want the first %x", again, err, ha)
	}
	hb, err := s.UserHandle(ctx, b)
	if err != nil || bytes.Equal(ha, hb) {
		t.Errorf("another user's handle = %x, %v; want a different one", hb, err)
	}
	for h, want := range map[string]int64{string(ha): a, string(hb): b} {
		if got, err := s.UserByHandle(ctx, []byte(h)); err != nil || got != want {
			t.Errorf("UserByHandle = %d, %v; want %d", got, err, want)
		}
	}
	if _, err := s.UserByHandle(ctx, randomID(passkey.UserHandleLen)); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("UserByHandle(unknown) = %v, want ErrNotFound", err)
	}
}

func testUserHandleConcurrent(t *testing.T, s passkey.Store, newUser func() int64) {
	id := newUser()
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.UserHandle(t.Context(), id)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Errorf("concurrent UserHandle %d = %x, %v; want all equal to %x", i, got[i], errs[i], got[0])
		}
	}
}

func testAddGetList(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	u, other := newUser(), newUser()
	second := newCred(t, s, u, "second")
	first := newCred(t, s, u, "first")
	first.Transports, first.AAGUID, first.SignCount = []string{}, nil, 0
	first.BackupEligible, first.BackupState, first.UserVerified = false, false, false
	add(t, s, second, at.Add(time.Minute))
	add(t, s, first, at)

	for _, want := range []*passkey.Credential{first, second} {
		got := get(t, s, want.ID)
		if len(got.AAGUID) == 0 && len(want.AAGUID) == 0 {
			got.AAGUID = want.AAGUID // nil and empty are both "none"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%s) =\n%+v\nwant\n%+v", want.Name, got, want)
		}
	}
	list, err := s.List(ctx, u)
	if err != nil || len(list) != 2 || list[0].Name != "first" || list[1].Name != "second" {
		t.Fatalf("List = %+v, %v; want first then second (oldest first)", list, err)
	}
	if !bytes.Equal(list[1].PublicKey, second.PublicKey) || !bytes.Equal(list[1].UserHandle, second.UserHandle) {
		t.Error("List does not return the stored public key and user handle")
	}
	if l, err := s.List(ctx, other); err != nil || l == nil || len(l) != 0 {
		t.Errorf("List(other user) = %#v, %v; want an empty, non-nil slice", l, err)
	}
	if _, err := s.Get(ctx, randomID(32)); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	// What Get returns is a copy: changing it changes nothing stored.
	got := get(t, s, first.ID)
	got.Name, got.PublicKey[0] = "changed", got.PublicKey[0]^0xff
	if again := get(t, s, first.ID); again.Name != "first" || !bytes.Equal(again.PublicKey, first.PublicKey) {
		t.Error("changing a returned credential changed the stored one")
	}
}

func testAddOtherHandle(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	a, b := newUser(), newUser()
	c := newCred(t, s, a, "a's")
	c.UserID = b // a's handle for b, who has one of its own
	if _, err := s.UserHandle(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, c, at); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Add with another user's handle = %v, want ErrNotFound", err)
	}
	noHandle := newUser()
	c.UserID = noHandle
	if err := s.Add(ctx, c, at); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Add for a user without a handle = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("a refused Add stored the credential (Get = %v)", err)
	}
}

func testAddDuplicate(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	a, b := newUser(), newUser()
	orig := newCred(t, s, a, "original")
	add(t, s, orig, at)
	dup := newCred(t, s, b, "duplicate")
	dup.ID = orig.ID
	if err := s.Add(ctx, dup, at); !errors.Is(err, passkey.ErrExists) {
		t.Errorf("Add of a registered id for another user = %v, want ErrExists", err)
	}
	same := newCred(t, s, a, "again")
	same.ID = orig.ID
	if err := s.Add(ctx, same, at); !errors.Is(err, passkey.ErrExists) {
		t.Errorf("Add of a registered id for its owner = %v, want ErrExists", err)
	}
	if c := get(t, s, orig.ID); c.UserID != a || c.Name != "original" {
		t.Errorf("after refused duplicates the credential is %d %q, want %d original", c.UserID, c.Name, a)
	}
	if l, _ := s.List(ctx, b); len(l) != 0 {
		t.Errorf("the refused duplicate is listed for its would-be owner: %+v", l)
	}
}

func testRenameRemove(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	owner, other := newUser(), newUser()
	c := newCred(t, s, owner, "old")
	add(t, s, c, at)
	keep := newCred(t, s, owner, "kept")
	add(t, s, keep, at.Add(time.Second))

	if err := s.Rename(ctx, other, c.ID, "stolen"); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Rename by another user = %v, want ErrNotFound", err)
	}
	if err := s.Rename(ctx, owner, c.ID, "new name ✓"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if got := get(t, s, c.ID).Name; got != "new name ✓" {
		t.Errorf("name after Rename = %q", got)
	}
	if err := s.Rename(ctx, owner, randomID(32), "x"); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Rename(unknown id) = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, other, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Remove by another user = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, owner, c.ID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, owner, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	if l, err := s.List(ctx, owner); err != nil || len(l) != 1 || l[0].Name != "kept" {
		t.Errorf("List after Remove = %+v, %v; want only the kept one", l, err)
	}
	// The handle outlives the user's passkeys: a new one registers under it.
	if got, err := s.UserByHandle(ctx, c.UserHandle); err != nil || got != owner {
		t.Errorf("UserByHandle after Remove = %d, %v; want %d", got, err, owner)
	}
}

func testRecordUseCounter(t *testing.T, s passkey.Store, newUser func() int64) {
	ctx := t.Context()
	u := newUser()
	c := newCred(t, s, u, "counting") // SignCount 5
	add(t, s, c, at)
	use := func(id []byte, n uint32, bs bool, when time.Time, want error) {
		t.Helper()
		err := s.RecordUse(ctx, id, passkey.Use{SignCount: n, BackupState: bs, At: when})
		if !errors.Is(err, want) {
			t.Errorf("RecordUse(counter %d) = %v, want %v", n, err, want)
		}
	}
	t1, t2 := at.Add(time.Hour), at.Add(2*time.Hour)
	use(c.ID, 6, false, t1, nil)
	if got := get(t, s, c.ID); got.SignCount != 6 || got.BackupState || !got.LastUsedAt.Equal(t1) {
		t.Errorf("after a use: count %d, BS %v, last used %v; want 6, false, %v", got.SignCount, got.BackupState, got.LastUsedAt, t1)
	}
	use(c.ID, 6, true, t2, passkey.ErrCounter) // equal: possible clone
	use(c.ID, 3, true, t2, passkey.ErrCounter) // lower
	use(c.ID, 0, true, t2, passkey.ErrCounter) // a counter that went back to 0
	if got := get(t, s, c.ID); got.SignCount != 6 || got.BackupState || !got.LastUsedAt.Equal(t1) {
		t.Errorf("a refused use changed the record: count %d, BS %v, last used %v", got.SignCount, got.BackupState, got.LastUsedAt)
	}
	use(c.ID, 1<<32-1, true, t2, nil) // the largest counter fits
	if got := get(t, s, c.ID); got.SignCount != 1<<32-1 || !got.BackupState {
		t.Errorf("count %d BS %v, want %d true", got.SignCount, got.BackupState, uint32(1<<32-1))
	}

	// An authenticator without a counter (0 always) passes every time;
	// once it reports one, 0 is a regression.
	z := newCred(t, s, u, "no counter")
	z.SignCount = 0
	add(t, s, z, at)
	use(z.ID, 0, false, t1, nil)
	use(z.ID, 0, false, t2, nil)
	use(z.ID, 1, false, t2, nil)
	use(z.ID, 0, false, t2, passkey.ErrCounter)

	use(randomID(32), 9, false, t1, passkey.ErrNotFound)
}

func testRecordUseConcurrent(t *testing.T, s passkey.Store, newUser func() int64) {
	c := newCred(t, s, newUser(), "raced") // SignCount 5
	add(t, s, c, at)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.RecordUse(t.Context(), c.ID, passkey.Use{SignCount: 6, At: at.Add(time.Minute)})
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, passkey.ErrCounter):
			t.Errorf("concurrent RecordUse: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent uses with one counter value succeeded, want exactly 1", won, n)
	}
}

// RunUserDeleted checks that deleting a user through the user store the
// service pairs with s (deleteUser: user/postgres for a PostgreSQL store,
// whose foreign keys cascade; user/memory wired to a memory store by
// CascadeTo) deletes the user's passkeys and handle, and no other user's.
func RunUserDeleted(t *testing.T, s passkey.Store, newUser func() int64, deleteUser func(id int64)) {
	ctx := t.Context()
	u, other := newUser(), newUser()
	gone, kept := newCred(t, s, u, "gone"), newCred(t, s, other, "kept")
	for _, c := range []*passkey.Credential{gone, kept} {
		if err := s.Add(ctx, c, at); err != nil {
			t.Fatal(err)
		}
	}
	deleteUser(u)
	if _, err := s.Get(ctx, gone.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("a deleted user's passkey remains: %v", err)
	}
	if _, err := s.UserByHandle(ctx, gone.UserHandle); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("a deleted user's handle remains: %v", err)
	}
	if list, err := s.List(ctx, u); err != nil || len(list) != 0 {
		t.Errorf("a deleted user's list: %v, %v", list, err)
	}
	if _, err := s.Get(ctx, kept.ID); err != nil {
		t.Errorf("another user's passkey went too: %v", err)
	}
	if id, err := s.UserByHandle(ctx, kept.UserHandle); err != nil || id != other {
		t.Errorf("another user's handle: %d, %v", id, err)
	}
}
