// Package admintest is the conformance suite every admin.Store
// implementation must pass. Call Run from the implementation's tests.
package admintest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/admin"
	"github.com/simpleuser/simpleuser/tenant"
	"github.com/simpleuser/simpleuser/user"
)

// Run runs the suite; newStore is called once per subtest and must return
// an empty store.
func Run(t *testing.T, newStore func(t *testing.T) admin.Store) {
	t.Run("EntriesFilterAndCursor", func(t *testing.T) { testEntries(t, newStore(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, newStore(t)) })
}

func testEntries(t *testing.T, s admin.Store) {
	ctx := t.Context()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []int64
	for i := range 7 {
		e := &admin.Entry{At: base.Add(time.Duration(i) * time.Minute), Action: admin.ActionUserDisable,
			TargetUserID: int64(100 + i%2), IP: "192.0.2.1", Detail: map[string]any{"reason": "spam"}}
		if i%3 == 0 {
			e.ActorKeyID, e.Action = "k1", admin.ActionUserEnable
		} else {
			e.ActorUserID = 9
		}
		if err := s.Record(ctx, e); err != nil {
			t.Fatalf("Record: %v", err)
		}
		if len(ids) > 0 && e.ID <= ids[len(ids)-1] {
			t.Fatalf("Record set ID %d after %d: not increasing", e.ID, ids[len(ids)-1])
		}
		ids = append(ids, e.ID)
	}
	all, err := s.Entries(ctx, admin.Filter{})
	if err != nil || len(all) != 7 {
		t.Fatalf("Entries: %d entries, %v; want 7", len(all), err)
	}
	if all[0].ID != ids[6] || all[6].ID != ids[0] {
		t.Errorf("Entries not newest first: %d..%d", all[0].ID, all[6].ID)
	}
	if got := all[6]; !got.At.Equal(base) || got.ActorKeyID != "k1" || got.IP != "192.0.2.1" || got.Detail["reason"] != "spam" || got.TargetUserID != 100 {
		t.Errorf("entry read back as %+v", got)
	}
	// Paging by cursor visits every entry once.
	var seen []int64
	f := admin.Filter{Limit: 3}
	for {
		page, err := s.Entries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen = append(seen, e.ID)
		}
		f.Before = page[len(page)-1].ID
	}
	if len(seen) != 7 || seen[0] != ids[6] || seen[6] != ids[0] {
		t.Errorf("paging saw %v", seen)
	}
	cases := []struct {
		name string
		f    admin.Filter
		want int
	}{
		{"actor user", admin.Filter{ActorUserID: 9}, 4},
		{"actor key", admin.Filter{ActorKeyID: "k1"}, 3},
		{"action", admin.Filter{Action: admin.ActionUserEnable}, 3},
		{"target", admin.Filter{TargetUserID: 101}, 3},
		{"time range", admin.Filter{From: base.Add(2 * time.Minute), To: base.Add(5 * time.Minute)}, 3},
		{"target and actor", admin.Filter{TargetUserID: 100, ActorUserID: 9}, 2},
		{"nothing", admin.Filter{TargetUserID: 5}, 0},
	}
	for _, c := range cases {
		got, err := s.Entries(ctx, c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d entries, %v; want %d", c.name, len(got), err, c.want)
		}
	}
}

func testKeys(t *testing.T, s admin.Store) {
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key, id, hash := admin.NewKey()
	if !admin.IsKey(key) || !bytes.Equal(hash, admin.HashKey(key)) {
		t.Fatalf("NewKey gave %q, not a key with its hash", key[:len(admin.KeyPrefix)])
	}
	if err := s.CreateKey(ctx, &admin.APIKey{ID: id, Name: "ci", Hash: hash, CreatedAt: now, CreatedBy: "user:1"}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	_, id2, hash2 := admin.NewKey()
	if err := s.CreateKey(ctx, &admin.APIKey{ID: id2, Name: "etl", Hash: hash2, CreatedAt: now.Add(time.Second)}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	k, err := s.KeyByHash(ctx, hash)
	if err != nil || k.ID != id || k.Name != "ci" || k.Revoked() || !k.CreatedAt.Equal(now) || k.CreatedBy != "user:1" {
		t.Fatalf("KeyByHash = %+v, %v", k, err)
	}
	if _, err := s.KeyByHash(ctx, admin.HashKey("other")); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("KeyByHash(unknown) = %v, want ErrNotFound", err)
	}
	ks, err := s.Keys(ctx)
	if err != nil || len(ks) != 2 || ks[0].ID != id2 {
		t.Fatalf("Keys = %+v, %v; want 2, newest first", ks, err)
	}
	if err := s.RevokeKey(ctx, id, now.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if err := s.RevokeKey(ctx, id, now.Add(2*time.Hour)); err != nil {
		t.Fatalf("RevokeKey again: %v", err)
	}
	if k, _ := s.KeyByHash(ctx, hash); k == nil || !k.RevokedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("revoked key read back as %+v, want RevokedAt the first revocation", k)
	}
	if k, _ := s.KeyByHash(ctx, hash2); k == nil || k.Revoked() {
		t.Errorf("the other key was revoked too: %+v", k)
	}
	if err := s.RevokeKey(ctx, "nope", now); !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("RevokeKey(unknown) = %v, want ErrNotFound", err)
	}
}

// SearchHarness is a Searcher, the user store it searches and the tenant
// store whose memberships a search by tenant reads.
type SearchHarness struct {
	Searcher admin.Searcher
	Users    user.Store
	Tenants  tenant.Store
}

// RunSearch runs the search suite on an empty user store.
func RunSearch(t *testing.T, h SearchHarness) {
	ctx := t.Context()
	var ids []int64
	for i := range 7 {
		u := &user.User{Email: fmt.Sprintf("Search%d@Example.com", i), Disabled: i%3 == 0, Suspended: i == 3}
		if i == 5 {
			u.Phone = "+447700900555"
		}
		if err := h.Users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := h.Users.GetOrCreateAnonymous(ctx, "search-anon", time.Now()); err != nil {
		t.Fatal(err)
	}
	all, err := h.Searcher.SearchUsers(ctx, admin.UserQuery{})
	if err != nil || len(all) != 7 {
		t.Fatalf("SearchUsers: %d users, %v; want the 7 registered", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
			t.Fatalf("not newest first at %d: %+v then %+v", i, a, b)
		}
	}
	if all[0].ID != ids[6] || all[0].Email != "Search6@Example.com" || !all[len(all)-1].Disabled {
		t.Errorf("first %+v, last %+v", all[0], all[len(all)-1])
	}
	var seen []int64
	q := admin.UserQuery{Limit: 3}
	for range 10 {
		page, err := h.Searcher.SearchUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			seen = append(seen, u.ID)
		}
		last := page[len(page)-1]
		q.After = &admin.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if fmt.Sprint(seen) != fmt.Sprint(idsOf(all)) {
		t.Errorf("paging by 3 saw %v, want %v", seen, idsOf(all))
	}
	withAnon, _ := h.Searcher.SearchUsers(ctx, admin.UserQuery{Anonymous: true})
	if len(withAnon) != 8 {
		t.Errorf("with anonymous users: %d, want 8", len(withAnon))
	}
	first := all[len(all)-1].CreatedAt
	cases := []struct {
		name string
		q    admin.UserQuery
		want int
	}{
		{"email, any case", admin.UserQuery{Email: "search4@example.COM"}, 1},
		{"disabled", admin.UserQuery{Status: admin.StatusDisabled}, 3},
		{"active", admin.UserQuery{Status: admin.StatusActive}, 4},
		{"suspended", admin.UserQuery{Status: admin.StatusSuspended}, 1},
		{"phone", admin.UserQuery{Phone: "+447700900555"}, 1},
		{"unknown phone", admin.UserQuery{Phone: "+447700900556"}, 0},
		{"created from the first", admin.UserQuery{CreatedFrom: first}, 7},
		{"created before the first", admin.UserQuery{CreatedTo: first}, 0},
		{"unknown email", admin.UserQuery{Email: "none@example.com"}, 0},
	}
	for _, c := range cases {
		got, err := h.Searcher.SearchUsers(ctx, c.q)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d users, %v; want %d", c.name, len(got), err, c.want)
		}
	}
	searchByTenant(t, h, ids)
}

// searchByTenant: a tenant's members (any membership status), newest
// first, paged by the same cursor, combined with the other filters; a
// member of another tenant only is left out.
func searchByTenant(t *testing.T, h SearchHarness, ids []int64) {
	ctx := t.Context()
	now := time.Now().UTC()
	var tids [2]int64
	for i := range tids {
		tn := &tenant.Tenant{Slug: fmt.Sprintf("search-%d-%d", i, now.UnixNano()), Name: "Search", CreatedAt: now, UpdatedAt: now}
		if err := h.Tenants.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		tids[i] = tn.ID
	}
	// Tenant 0 holds users 0 (disabled), 2, 3 (suspended) and 5 (the phone), added out of order; tenant 1 user 4.
	for _, m := range []struct {
		i      int
		tenant int64
		status string
	}{{5, tids[0], tenant.StatusActive}, {0, tids[0], tenant.StatusSuspended}, {3, tids[0], tenant.StatusInvited}, {2, tids[0], tenant.StatusActive}, {4, tids[1], tenant.StatusActive}} {
		if err := h.Tenants.AddMembership(ctx, &tenant.Membership{UserID: ids[m.i], TenantID: m.tenant, Status: m.status, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	want := []int64{ids[5], ids[3], ids[2], ids[0]}
	var seen []int64
	q := admin.UserQuery{TenantID: tids[0], Limit: 1}
	for range 10 {
		page, err := h.Searcher.SearchUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		seen = append(seen, page[0].ID)
		q.After = &admin.Cursor{CreatedAt: page[0].CreatedAt, ID: page[0].ID}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("tenant %d paged by 1: %v, want %v", tids[0], seen, want)
	}
	// The created range applies to the members: from the newest member's
	// creation on, it and no older one; before it, not it.
	newest, err := h.Searcher.SearchUsers(ctx, admin.UserQuery{TenantID: tids[0], Limit: 1})
	if err != nil || len(newest) != 1 || newest[0].ID != ids[5] {
		t.Fatalf("tenant's newest: %v, %v", newest, err)
	}
	from, err := h.Searcher.SearchUsers(ctx, admin.UserQuery{TenantID: tids[0], CreatedFrom: newest[0].CreatedAt})
	if err != nil || len(from) == 0 || from[0].ID != ids[5] || from[len(from)-1].CreatedAt.Before(newest[0].CreatedAt) {
		t.Errorf("tenant, created from its newest: %+v, %v", from, err)
	}
	before, err := h.Searcher.SearchUsers(ctx, admin.UserQuery{TenantID: tids[0], CreatedTo: newest[0].CreatedAt})
	if err != nil || len(before) == 0 || before[0].ID == ids[5] || len(before)+len(from) != len(want) {
		t.Errorf("tenant, created before its newest: %+v, %v", before, err)
	}
	cases := []struct {
		name string
		q    admin.UserQuery
		want []int64
	}{
		{"tenant", admin.UserQuery{TenantID: tids[0]}, want},
		{"tenant, disabled", admin.UserQuery{TenantID: tids[0], Status: admin.StatusDisabled}, []int64{ids[3], ids[0]}},
		{"tenant, suspended", admin.UserQuery{TenantID: tids[0], Status: admin.StatusSuspended}, []int64{ids[3]}},
		{"tenant, phone", admin.UserQuery{TenantID: tids[0], Phone: "+447700900555"}, []int64{ids[5]}},
		{"tenant, email of another tenant's member", admin.UserQuery{TenantID: tids[0], Email: "search4@example.com"}, nil},
		{"tenant, email", admin.UserQuery{TenantID: tids[0], Email: "SEARCH2@example.com"}, []int64{ids[2]}},
		{"other tenant", admin.UserQuery{TenantID: tids[1]}, []int64{ids[4]}},
		{"unknown tenant", admin.UserQuery{TenantID: tids[1] + 1000}, nil},
	}
	for _, c := range cases {
		got, err := h.Searcher.SearchUsers(ctx, c.q)
		if err != nil || fmt.Sprint(idsOf(got)) != fmt.Sprint(orEmpty(c.want)) {
			t.Errorf("%s: %v, %v; want %v", c.name, idsOf(got), err, c.want)
		}
	}
}

func orEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

func idsOf(us []admin.UserSummary) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}
