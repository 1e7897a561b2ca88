package sessiontest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/session"
)

// Tests of what a user does with their own sessions (list, end one, end
// the others), of the cap on sessions per user, and of the touch that
// keeps LastSeen.

// keysOf returns the store keys of toks, sorted.
func keysOf(toks ...string) []string {
	out := make([]string, len(toks))
	for i, tok := range toks {
		out[i] = session.Key(tok)
	}
	slices.Sort(out)
	return out
}

func indexed(t *testing.T, e *env, uid int64) []string {
	t.Helper()
	keys, err := e.index.List(t.Context(), uid, e.Now())
	if err != nil {
		t.Fatalf("Index.List: %v", err)
	}
	slices.Sort(keys)
	return keys
}

// Add returns the oldest members beyond its limit, the new one excepted,
// without removing them; running it twice gives the same answer.
func testIndexAddLimit(t *testing.T, e *env) {
	ctx, x, now := t.Context(), e.index, e.Now()
	uid := userID()
	add := func(key string, exp time.Duration, limit int, want ...string) {
		t.Helper()
		over, err := x.Add(ctx, uid, key, now.Add(exp), limit)
		if err != nil || !slices.Equal(over, want) && len(over)+len(want) > 0 {
			t.Errorf("Add(%s, limit %d) = %v, %v; want %v", key, limit, over, err, want)
		}
	}
	add("k2", 2*time.Minute, 3)
	add("k1", time.Minute, 3)
	add("k3", 3*time.Minute, 3)
	add("k4", 4*time.Minute, 3, "k1")
	add("k5", 5*time.Minute, 3, "k1", "k2") // k1 is still indexed: it counts
	add("k5", 5*time.Minute, 3, "k1", "k2") // twice: the same
	add("k6", 6*time.Minute, 0)             // no limit
	if err := x.Remove(ctx, uid, "k1", "k2", "nope"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	add("k0", 30*time.Second, 3, "k3", "k4") // the new member is never its own victim
	add("k0", 30*time.Second, 3, "k3", "k4")
	if got, want := indexed(t, e, uid), []string{"k0", "k3", "k4", "k5", "k6"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	// Equal expiries: the smaller key is the older.
	uid = userID()
	for _, k := range []string{"b", "c", "a"} {
		if _, err := x.Add(ctx, uid, k, now.Add(time.Minute), 0); err != nil {
			t.Fatal(err)
		}
	}
	add2, err := x.Add(ctx, uid, "0", now.Add(time.Minute), 2)
	if err != nil || !slices.Equal(add2, []string{"a", "b"}) {
		t.Errorf("Add with equal expiries = %v, %v; want [a b]", add2, err)
	}
}

// Beyond MaxPerUser, Create ends the oldest sessions of that user only.
func testMaxPerUser(t *testing.T, e *env) {
	e.m.MaxPerUser = 3
	alice, bob := userID(), userID()
	other := create(t, e.m, session.Data{UserID: bob})
	var toks []string
	for range 5 {
		toks = append(toks, create(t, e.m, session.Data{UserID: alice}))
		e.advance(time.Second)
	}
	for _, tok := range toks[:2] {
		wantGone(t, e.m, "oldest beyond the cap", tok)
	}
	for _, tok := range toks[2:] {
		get(t, e.m, tok)
	}
	get(t, e.m, other)
	if got, want := indexed(t, e, alice), keysOf(toks[2:]...); !slices.Equal(got, want) {
		t.Errorf("index of alice = %v, want %v", got, want)
	}
	// Ending one makes room: the next Create ends nothing.
	if err := e.m.Revoke(t.Context(), toks[3]); err != nil {
		t.Fatal(err)
	}
	last := create(t, e.m, session.Data{UserID: alice})
	for _, tok := range []string{toks[2], toks[4], last} {
		get(t, e.m, tok)
	}
	if got := indexed(t, e, alice); len(got) != 3 {
		t.Errorf("index of alice holds %d keys, want 3", len(got))
	}
	// The default cap.
	e.m.MaxPerUser = 0
	carol := userID()
	for range session.DefaultMaxPerUser + 2 {
		create(t, e.m, session.Data{UserID: carol})
	}
	if got := indexed(t, e, carol); len(got) != session.DefaultMaxPerUser {
		t.Errorf("index of carol holds %d keys, want %d", len(got), session.DefaultMaxPerUser)
	}
}

// Concurrent Creates beyond the cap leave exactly MaxPerUser sessions,
// every one of them indexed (run with -race).
func testMaxPerUserConcurrent(t *testing.T, e *env) {
	const limit = 5
	e.m.MaxPerUser = limit
	uid := userID()
	var mu sync.Mutex
	var toks []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				tok, err := e.m.Create(t.Context(), session.Data{UserID: uid})
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				toks = append(toks, tok)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var live []string
	for _, tok := range toks {
		if _, err := e.m.Get(t.Context(), tok); err == nil {
			live = append(live, tok)
		}
	}
	if got, want := indexed(t, e, uid), keysOf(live...); len(live) != limit || !slices.Equal(got, want) {
		t.Errorf("%d live sessions of %d created, index %v; want %d, all indexed (%v)", len(live), len(toks), got, limit, want)
	}
}

func testList(t *testing.T, e *env) {
	ctx := t.Context()
	alice, bob := userID(), userID()
	const ff = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	a := create(t, e.m, session.Data{UserID: alice, IP: "203.0.113.1", UserAgent: ff})
	e.advance(time.Second)
	b := create(t, e.m, session.Data{UserID: alice, IP: "2001:db8::1", UserAgent: "curl/8.5.0"})
	e.advance(time.Second)
	c := create(t, e.m, session.Data{UserID: alice})
	revoked := create(t, e.m, session.Data{UserID: alice})
	if err := e.m.Revoke(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	create(t, e.m, session.Data{UserID: bob})
	e.advance(2 * time.Minute)
	get(t, e.m, a) // seen now: listed first
	seen := e.Now().Truncate(time.Millisecond)

	list, err := e.m.List(ctx, alice, b)
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %+v, %v; want 3 sessions", list, err)
	}
	da, db, dc := get(t, e.m, a), get(t, e.m, b), get(t, e.m, c)
	for i, want := range []struct {
		d       *session.Data
		current bool
	}{{da, false}, {dc, false}, {db, true}} {
		got := list[i]
		if got.UserID != alice || got.IP != want.d.IP || got.UserAgent != want.d.UserAgent ||
			!got.CreatedAt.Equal(want.d.CreatedAt) || !got.ExpiresAt.Equal(want.d.ExpiresAt) || got.Current != want.current {
			t.Errorf("List[%d] = %+v, want %+v (current %v)", i, got, want.d, want.current)
		}
	}
	if !list[0].LastSeen.Equal(seen) || !list[2].LastSeen.Equal(db.CreatedAt) {
		t.Errorf("LastSeen %v and %v, want %v (touched) and %v (never used)", list[0].LastSeen, list[2].LastSeen, seen, db.CreatedAt)
	}
	ids := map[string]bool{}
	for i, s := range list {
		tok := []string{a, c, b}[i]
		if len(s.ID) != session.IDLength || ids[s.ID] || strings.Contains(tok, s.ID) || strings.Contains(session.Key(tok), s.ID) ||
			s.ID == e.m.ID(session.Key(revoked)) {
			t.Errorf("id %q: want %d characters, unique, neither the token nor its store key", s.ID, session.IDLength)
		}
		if s.ID != e.m.ID(session.Key(tok)) {
			t.Errorf("List[%d].ID = %q, want Manager.ID of its key", i, s.ID)
		}
		ids[s.ID] = true
	}
	// Another key gives other ids.
	keyed := *e.m
	keyed.IDKey = []byte("another deployment")
	if keyed.ID(session.Key(a)) == e.m.ID(session.Key(a)) {
		t.Error("ID does not depend on IDKey")
	}
	if list, err := e.m.List(ctx, alice, ""); err != nil || len(list) != 3 || list[0].Current || list[1].Current || list[2].Current {
		t.Errorf("List without a token = %+v, %v; want 3, none current", list, err)
	}
	if list, err := e.m.List(ctx, userID(), ""); err != nil || len(list) != 0 {
		t.Errorf("List of a user without sessions = %+v, %v", list, err)
	}
	e.advance(lifetime)
	if list, err := e.m.List(ctx, alice, b); err != nil || len(list) != 0 {
		t.Errorf("List after expiry = %+v, %v; want none", list, err)
	}
}

func testEndID(t *testing.T, e *env) {
	ctx := t.Context()
	alice, bob := userID(), userID()
	a1 := create(t, e.m, session.Data{UserID: alice})
	a2 := create(t, e.m, session.Data{UserID: alice, IP: "198.51.100.2"})
	b1 := create(t, e.m, session.Data{UserID: bob})
	id2, idBob := e.m.ID(session.Key(a2)), e.m.ID(session.Key(b1))
	for what, id := range map[string]string{"bob's": idBob, "short": "abc", "unknown": strings.Repeat("A", session.IDLength), "empty": ""} {
		if d, err := e.m.EndID(ctx, alice, id); d != nil || err != nil {
			t.Errorf("EndID(alice, %s id) = %+v, %v; want nil, nil", what, d, err)
		}
	}
	get(t, e.m, b1)
	d, err := e.m.EndID(ctx, alice, id2)
	if err != nil || d == nil || d.UserID != alice || d.IP != "198.51.100.2" {
		t.Fatalf("EndID = %+v, %v", d, err)
	}
	wantGone(t, e.m, "ended by id", a2)
	get(t, e.m, a1)
	if d, err := e.m.EndID(ctx, alice, id2); d != nil || err != nil {
		t.Errorf("EndID again = %+v, %v; want nil, nil", d, err)
	}
	if got, want := indexed(t, e, alice), keysOf(a1); !slices.Equal(got, want) {
		t.Errorf("index after EndID = %v, want %v", got, want)
	}
}

func testRevokeUserExcept(t *testing.T, e *env) {
	ctx := t.Context()
	alice, bob := userID(), userID()
	var toks []string
	for range 4 {
		toks = append(toks, create(t, e.m, session.Data{UserID: alice}))
	}
	theirs := create(t, e.m, session.Data{UserID: bob})
	for _, tc := range []struct {
		keep string
		want int
	}{{toks[1], 3}, {toks[1], 0}} {
		if n, err := e.m.RevokeUserExcept(ctx, alice, tc.keep); err != nil || n != tc.want {
			t.Errorf("RevokeUserExcept = %d, %v; want %d", n, err, tc.want)
		}
		for i, tok := range toks {
			if i == 1 {
				get(t, e.m, tok)
			} else {
				wantGone(t, e.m, "another session", tok)
			}
		}
		get(t, e.m, theirs)
		if got, want := indexed(t, e, alice), keysOf(toks[1]); !slices.Equal(got, want) {
			t.Errorf("index = %v, want %v", got, want)
		}
	}
	// A token that is not one of the user's keeps nothing.
	if n, err := e.m.RevokeUserExcept(ctx, alice, theirs); err != nil || n != 1 {
		t.Errorf("RevokeUserExcept(another user's token) = %d, %v; want 1", n, err)
	}
	wantGone(t, e.m, "the kept one, once not kept", toks[1])
	get(t, e.m, theirs)
	if n, err := e.m.RevokeUserExcept(ctx, alice, ""); err != nil || n != 0 {
		t.Errorf("RevokeUserExcept of no session = %d, %v", n, err)
	}
}

// Get writes a session at most once per TouchInterval, and only then.
func testTouchWrites(t *testing.T, e *env) {
	st := &Counter{Store: e.store}
	m := &session.Manager{Store: st, Index: e.index, Lifetime: lifetime, Now: e.Now}
	tok := create(t, m, session.Data{UserID: userID()})
	created := e.Now().Truncate(time.Millisecond)
	st.Writes.Store(0)
	phase := func(n int, step time.Duration, wantWrites int64, wantSeen time.Time) {
		t.Helper()
		for range n {
			e.advance(step)
			if d := get(t, m, tok); !d.LastSeen.Equal(wantSeen) {
				t.Fatalf("LastSeen = %v, want %v", d.LastSeen, wantSeen)
			}
		}
		if w := st.Writes.Load(); w != wantWrites {
			t.Fatalf("%d store writes, want %d", w, wantWrites)
		}
	}
	phase(119, 500*time.Millisecond, 0, created) // 59.5 s of use: no write
	e.advance(500 * time.Millisecond)
	touched := e.Now().Truncate(time.Millisecond)
	phase(1, 0, 1, touched)                      // a minute: one write
	phase(119, 500*time.Millisecond, 1, touched) // and none for the next 59.5 s
	m.TouchInterval = -1
	phase(10, time.Minute, 1, touched) // touches off: never
	m.TouchInterval = 5 * time.Minute
	next := e.Now().Add(time.Minute).Truncate(time.Millisecond)
	phase(4, time.Minute, 2, next) // the first Get writes (11 min since the last write), the next three not
	if n := st.Finds.Load(); n != 119+1+119+10+4 {
		t.Errorf("%d store reads for %d Gets", n, 119+1+119+10+4)
	}
}

// A touch racing the end of the session never brings it back: the store
// must rewrite only a session that still exists, atomically (a
// session.Replacer), or a rewrite landing after the revocation would
// recreate the session outside the index, beyond every later revocation.
func testTouchNeverResurrects(t *testing.T, e *env) {
	// Deterministic: the revocation lands right after the n-th read of the
	// Get (1: its own read; 2: the read of a rewrite done as read-then-write).
	for _, n := range []int64{1, 2} {
		uid := userID()
		tok := create(t, e.m, session.Data{UserID: uid})
		e.advance(time.Minute) // the next Get writes
		revoke := func() {
			if _, err := e.m.RevokeUser(t.Context(), uid); err != nil {
				t.Errorf("RevokeUser: %v", err)
			}
		}
		m := *e.m
		m.Store = afterFind(e.store, n, revoke)
		if _, err := m.Get(t.Context(), tok); err != nil && !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get: %v", err)
		}
		revoke() // in case the store made no n-th read
		wantGone(t, e.m, "ended during a touch", tok)
		if _, found, err := e.store.Find(session.Key(tok)); found || err != nil {
			t.Fatalf("revoked after read %d: the body is back in the store (%v)", n, err)
		}
	}
	// And under the race detector, with real concurrency.
	for i := range 40 {
		uid := userID()
		tok := create(t, e.m, session.Data{UserID: uid})
		e.advance(time.Minute)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = e.m.Get(t.Context(), tok) })
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.m.RevokeUser(t.Context(), uid)
			} else {
				err = e.m.Revoke(t.Context(), tok)
			}
			if err != nil {
				t.Errorf("revoke: %v", err)
			}
		})
		wg.Wait()
		wantGone(t, e.m, "ended during a touch", tok)
		if _, found, err := e.store.Find(session.Key(tok)); found || err != nil {
			t.Fatalf("iteration %d: the body is back in the store (%v)", i, err)
		}
	}
}

// afterFind wraps st so that f runs once, right after its n-th Find. The
// wrapper is a session.Replacer exactly when st is.
func afterFind(st session.Store, n int64, f func()) session.Store {
	h := &hooked{Store: st, n: n, f: f}
	if r, ok := st.(session.Replacer); ok {
		return hookedReplacer{h, r}
	}
	return h
}

type hooked struct {
	session.Store
	finds, n int64
	f        func()
}

func (h *hooked) Find(key string) ([]byte, bool, error) {
	b, found, err := h.Store.Find(key)
	if h.finds++; h.finds == h.n {
		h.f()
	}
	return b, found, err
}

type hookedReplacer struct {
	*hooked
	session.Replacer
}

// Counter is a session.Store that counts the calls it passes on to Store:
// Finds (Find, FindMany) and Writes (Commit, Delete, Replace, DeleteMany).
// It implements session.Replacer, BatchDeleter and BatchFinder, through
// Store's own when it has them (else with Find and Commit, not atomically).
type Counter struct {
	session.Store
	Finds, Writes atomic.Int64
}

// Find counts a read.
func (c *Counter) Find(key string) ([]byte, bool, error) {
	c.Finds.Add(1)
	return c.Store.Find(key)
}

// Commit counts a write.
func (c *Counter) Commit(key string, b []byte, expiry time.Time) error {
	c.Writes.Add(1)
	return c.Store.Commit(key, b, expiry)
}

// Delete counts a write.
func (c *Counter) Delete(key string) error {
	c.Writes.Add(1)
	return c.Store.Delete(key)
}

// Replace counts a write.
func (c *Counter) Replace(ctx context.Context, key string, b []byte, expiry time.Time) (bool, error) {
	c.Writes.Add(1)
	if r, ok := c.Store.(session.Replacer); ok {
		return r.Replace(ctx, key, b, expiry)
	}
	if _, found, err := c.Store.Find(key); err != nil || !found {
		return false, err
	}
	return true, c.Store.Commit(key, b, expiry)
}

// DeleteMany counts a write.
func (c *Counter) DeleteMany(ctx context.Context, keys []string) error {
	c.Writes.Add(1)
	if bd, ok := c.Store.(session.BatchDeleter); ok {
		return bd.DeleteMany(ctx, keys)
	}
	var errs []error
	for _, k := range keys {
		errs = append(errs, c.Store.Delete(k))
	}
	return errors.Join(errs...)
}

// FindMany counts a read.
func (c *Counter) FindMany(ctx context.Context, keys []string) ([][]byte, error) {
	c.Finds.Add(1)
	if bf, ok := c.Store.(session.BatchFinder); ok {
		return bf.FindMany(ctx, keys)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		b, found, err := c.Store.Find(k)
		if err != nil {
			return nil, err
		}
		if found {
			out[i] = b
		}
	}
	return out, nil
}
