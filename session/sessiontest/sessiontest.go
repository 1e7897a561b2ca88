// Package sessiontest is the conformance suite every session backend (a
// session.Store and session.Index pair) must pass, driven through a
// session.Manager. Call Run from the backend's tests.
package sessiontest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/session"
)

// Run runs the suite. newParts must return a fresh store and index for each
// subtest (user IDs are random, so a shared server is fine). The manager's
// clock starts at the current time and only moves forward, so stores that
// expire bodies by the real clock keep them for the whole test.
func Run(t *testing.T, newParts func(t *testing.T) (session.Store, session.Index)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"CreateGet", testCreateGet},
		{"NotFound", testNotFound},
		{"Revoke", testRevoke},
		{"RevokeUser", testRevokeUser},
		{"RawTokenNotStored", testRawTokenNotStored},
		{"Expiry", testExpiry},
		{"IdleTimeout", testIdleTimeout},
		{"SetUserData", testSetUserData},
		{"IndexList", testIndexList},
		{"ConcurrentCreateRevokeUser", testConcurrent},
		{"RevokeUserLeavesNoSession", testNoSurvivor},
		{"IndexAddLimit", testIndexAddLimit},
		{"MaxPerUser", testMaxPerUser},
		{"MaxPerUserConcurrent", testMaxPerUserConcurrent},
		{"List", testList},
		{"EndID", testEndID},
		{"RevokeUserExcept", testRevokeUserExcept},
		{"TouchWritesOncePerInterval", testTouchWrites},
		{"TouchNeverResurrects", testTouchNeverResurrects},
		{"EndConcurrent", testEndConcurrent},
		{"UpdateAndShortLifetime", testUpdate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, index := newParts(t)
			e := &env{store: store, index: index, now: time.Now().UTC()}
			e.m = &session.Manager{Store: store, Index: index, Lifetime: lifetime, Now: e.Now}
			tc.fn(t, e)
		})
	}
}

const lifetime = time.Hour

// env is one subtest's backend, manager and clock.
type env struct {
	store session.Store
	index session.Index
	m     *session.Manager

	mu  sync.Mutex
	now time.Time
}

// Now is the test clock.
func (e *env) Now() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }

func (e *env) advance(d time.Duration) { e.mu.Lock(); e.now = e.now.Add(d); e.mu.Unlock() }

func userID() int64 { return rand.Int64N(1<<52) + 1 }

func create(t *testing.T, m *session.Manager, d session.Data) string {
	t.Helper()
	tok, err := m.Create(t.Context(), d)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return tok
}

func get(t *testing.T, m *session.Manager, tok string) *session.Data {
	t.Helper()
	d, err := m.Get(t.Context(), tok)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return d
}

func wantGone(t *testing.T, m *session.Manager, what, tok string) {
	t.Helper()
	if d, err := m.Get(t.Context(), tok); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get(%s) = %+v, %v; want ErrNotFound", what, d, err)
	}
}

func validToken(tok string) bool {
	if len(tok) != session.TokenLength {
		return false
	}
	for _, c := range []byte(tok) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func testCreateGet(t *testing.T, e *env) {
	uid := userID()
	in := session.Data{UserID: uid, IP: "203.0.113.5", UserAgent: "test/1.0", UserData: json.RawMessage(`{"nick":"ann","n":[1,2]}`)}
	tok := create(t, e.m, in)
	if !validToken(tok) {
		t.Errorf("token %q is not %d characters of [A-Za-z0-9]", tok, session.TokenLength)
	}
	if other := create(t, e.m, in); other == tok {
		t.Errorf("two Creates returned the same token")
	}
	e.advance(time.Second)
	d := get(t, e.m, tok)
	created := e.Now().Add(-time.Second).Truncate(time.Millisecond) // sessions keep milliseconds
	if d.UserID != uid || d.IP != in.IP || d.UserAgent != in.UserAgent || !bytes.Equal(d.UserData, in.UserData) {
		t.Errorf("Get = %+v (data %s), want %+v (data %s)", d, d.UserData, in, in.UserData)
	}
	if !d.CreatedAt.Equal(created) || !d.ExpiresAt.Equal(created.Add(lifetime)) {
		t.Errorf("CreatedAt %v ExpiresAt %v, want %v %v", d.CreatedAt, d.ExpiresAt, created, created.Add(lifetime))
	}
}

func testNotFound(t *testing.T, e *env) {
	tok := create(t, e.m, session.Data{UserID: userID()})
	unknown, err := session.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	for what, bad := range map[string]string{
		"unknown":   unknown,
		"empty":     "",
		"short":     tok[:session.TokenLength-1],
		"long":      tok + "A",
		"store key": session.Key(tok),
	} {
		wantGone(t, e.m, what, bad)
	}
	get(t, e.m, tok)
}

func testRevoke(t *testing.T, e *env) {
	uid := userID()
	a, b := create(t, e.m, session.Data{UserID: uid}), create(t, e.m, session.Data{UserID: uid})
	if err := e.m.Revoke(t.Context(), a); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	wantGone(t, e.m, "revoked", a)
	get(t, e.m, b)
	for _, tok := range []string{a, "unknown"} {
		if err := e.m.Revoke(t.Context(), tok); err != nil {
			t.Errorf("Revoke(%s) again: %v", tok, err)
		}
	}
	keys, err := e.index.List(t.Context(), uid, e.Now())
	if err != nil || !slices.Equal(keys, []string{session.Key(b)}) {
		t.Errorf("Index.List after Revoke = %v, %v; want only the live session", keys, err)
	}
}

func testRevokeUser(t *testing.T, e *env) {
	alice, bob := userID(), userID()
	var mine, theirs []string
	for range 5 {
		mine = append(mine, create(t, e.m, session.Data{UserID: alice}))
	}
	for range 2 {
		theirs = append(theirs, create(t, e.m, session.Data{UserID: bob}))
	}
	for _, tc := range []struct {
		uid  int64
		want int
	}{{alice, 5}, {alice, 0}, {userID(), 0}} {
		if n, err := e.m.RevokeUser(t.Context(), tc.uid); err != nil || n != tc.want {
			t.Errorf("RevokeUser = %d, %v; want %d", n, err, tc.want)
		}
		for _, tok := range mine {
			wantGone(t, e.m, "revoked user's session", tok)
		}
		for _, tok := range theirs {
			get(t, e.m, tok)
		}
	}
	if n, err := e.m.RevokeUser(t.Context(), bob); err != nil || n != 2 {
		t.Errorf("RevokeUser(bob) = %d, %v; want 2", n, err)
	}
}

func testRawTokenNotStored(t *testing.T, e *env) {
	tok := create(t, e.m, session.Data{UserID: userID()})
	if b, found, err := e.store.Find(tok); err != nil || found {
		t.Errorf("Store.Find(raw token) = %q, %v, %v; want not found", b, found, err)
	}
	b, found, err := e.store.Find(session.Key(tok))
	if err != nil || !found {
		t.Fatalf("Store.Find(Key(token)) = %v, %v; want found", found, err)
	}
	if bytes.Contains(b, []byte(tok)) {
		t.Errorf("stored body contains the raw token")
	}
}

func testExpiry(t *testing.T, e *env) {
	tok := create(t, e.m, session.Data{UserID: userID()})
	e.advance(lifetime - time.Second)
	get(t, e.m, tok)
	e.advance(time.Second)
	wantGone(t, e.m, "expired", tok)
}

func testIdleTimeout(t *testing.T, e *env) {
	const idle = 10 * time.Minute
	e.m.IdleTimeout = idle
	unused := create(t, e.m, session.Data{UserID: userID()})
	used := create(t, e.m, session.Data{UserID: userID()})
	for range 4 { // each Get within the idle timeout extends it
		e.advance(idle - time.Minute)
		if d := get(t, e.m, used); !d.LastSeen.Equal(e.Now().Truncate(time.Millisecond)) {
			t.Errorf("LastSeen = %v, want %v", d.LastSeen, e.Now())
		}
	}
	wantGone(t, e.m, "idle", unused)
	e.advance(idle)
	wantGone(t, e.m, "idle after use", used)

	// The absolute lifetime still applies to a session in constant use.
	tok := create(t, e.m, session.Data{UserID: userID()})
	for elapsed := time.Duration(0); elapsed < lifetime-idle; elapsed += idle / 2 {
		e.advance(idle / 2)
		get(t, e.m, tok)
	}
	e.advance(idle)
	wantGone(t, e.m, "past its lifetime", tok)
}

func testSetUserData(t *testing.T, e *env) {
	alice, bob := userID(), userID()
	old := create(t, e.m, session.Data{UserID: alice, UserData: json.RawMessage(`{"v":0}`)})
	e.advance(lifetime / 2)
	live := []string{
		create(t, e.m, session.Data{UserID: alice, UserData: json.RawMessage(`{"v":1}`)}),
		create(t, e.m, session.Data{UserID: alice}),
	}
	revoked := create(t, e.m, session.Data{UserID: alice})
	if err := e.m.Revoke(t.Context(), revoked); err != nil {
		t.Fatal(err)
	}
	other := create(t, e.m, session.Data{UserID: bob, UserData: json.RawMessage(`{"v":"bob"}`)})
	e.advance(lifetime/2 + time.Second) // old expires
	data := json.RawMessage(`{"v":2}`)
	if n, err := e.m.SetUserData(t.Context(), alice, data); err != nil || n != len(live) {
		t.Errorf("SetUserData = %d, %v; want %d", n, err, len(live))
	}
	for _, tok := range live {
		if d := get(t, e.m, tok); !bytes.Equal(d.UserData, data) {
			t.Errorf("UserData = %s, want %s", d.UserData, data)
		}
	}
	wantGone(t, e.m, "expired", old)
	if d := get(t, e.m, other); string(d.UserData) != `{"v":"bob"}` {
		t.Errorf("other user's UserData = %s", d.UserData)
	}
}

func testIndexList(t *testing.T, e *env) {
	ctx, x, now := t.Context(), e.index, e.Now()
	alice, bob := userID(), userID()
	list := func(uid int64, at time.Time, want ...string) {
		t.Helper()
		got, err := x.List(ctx, uid, at)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List(at %v) = %v, %v; want %v", at.Sub(now), got, err, want)
		}
	}
	for _, a := range []struct {
		key string
		exp time.Duration
	}{{"k1", time.Minute}, {"k2", 2 * time.Minute}, {"k0", -time.Second}, {"k3", 3 * time.Minute}} {
		if over, err := x.Add(ctx, alice, a.key, now.Add(a.exp), 0); err != nil || len(over) > 0 {
			t.Fatalf("Add = %v, %v", over, err)
		}
	}
	if over, err := x.Add(ctx, bob, "b1", now.Add(time.Minute), 3); err != nil || len(over) > 0 {
		t.Fatalf("Add = %v, %v", over, err)
	}
	list(alice, now, "k1", "k2", "k3")
	list(alice, now.Add(time.Minute), "k2", "k3") // expiry is exclusive
	list(alice, now, "k2", "k3")                  // k1 was pruned
	if err := x.Remove(ctx, alice, "k2"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	list(alice, now, "k3")
	got, err := x.PopAll(ctx, alice)
	if err != nil || !slices.Equal(got, []string{"k3"}) {
		t.Errorf("PopAll = %v, %v; want [k3]", got, err)
	}
	list(alice, now)
	if got, err := x.PopAll(ctx, alice); err != nil || len(got) != 0 {
		t.Errorf("second PopAll = %v, %v; want none", got, err)
	}
	list(bob, now, "b1")
}

// race creates sessions of one user from 8 goroutines while 4 others
// revoke them, then revokes once more. It returns the tokens created and the
// total RevokeUser reported. The cap on sessions per user is off.
func race(t *testing.T, e *env, uid int64) (toks []string, revoked int) {
	e.m.MaxPerUser = -1
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
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
	for range 4 {
		wg.Go(func() {
			for range 25 {
				n, err := e.m.RevokeUser(t.Context(), uid)
				if err != nil {
					t.Errorf("RevokeUser: %v", err)
					return
				}
				mu.Lock()
				revoked += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n, err := e.m.RevokeUser(t.Context(), uid)
	if err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	return toks, revoked + n
}

// Every indexed session is popped exactly once, however Create and
// RevokeUser interleave (run with -race).
func testConcurrent(t *testing.T, e *env) {
	toks, revoked := race(t, e, userID())
	if revoked != len(toks) {
		t.Errorf("RevokeUser calls reported %d sessions in all, want the %d created", revoked, len(toks))
	}
}

// Sessions created while the user's sessions are being revoked must stay
// revocable: once both are done, one more RevokeUser ends every session.
func testNoSurvivor(t *testing.T, e *env) {
	// Guards Manager.Create's order (body first, then index): the other
	// order lets a racing RevokeUser delete a body that is written after,
	// leaving an unindexed, unrevocable session.
	toks, _ := race(t, e, userID())
	alive := 0
	for _, tok := range toks {
		if _, err := e.m.Get(t.Context(), tok); err == nil {
			alive++
		}
	}
	if alive > 0 {
		t.Errorf("%d of %d sessions survived RevokeUser", alive, len(toks))
	}
}

// Of concurrent Ends of one session exactly one gets its data (a challenge
// session completes once): the store must be a session.Taker.
func testEndConcurrent(t *testing.T, e *env) {
	if _, ok := e.store.(session.Taker); !ok {
		t.Fatal("the store is not a session.Taker: concurrent Ends of one session could both succeed")
	}
	for range 5 {
		tok := create(t, e.m, session.Data{UserID: userID(), Stage: session.StageMFA})
		var wins sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for range 8 {
			wins.Go(func() {
				d, err := e.m.End(t.Context(), tok)
				if err != nil {
					t.Error(err)
				}
				if d != nil {
					mu.Lock()
					n++
					mu.Unlock()
				}
			})
		}
		wins.Wait()
		if n != 1 {
			t.Fatalf("%d of 8 concurrent Ends of one session got its data, want 1", n)
		}
	}
}

// Update rewrites one live session (and never a revoked one); a Data with
// an earlier ExpiresAt makes a short-lived session; the factor fields
// survive the store.
func testUpdate(t *testing.T, e *env) {
	uid := userID()
	exp := e.Now().Add(10 * time.Minute).Truncate(time.Millisecond)
	tok := create(t, e.m, session.Data{UserID: uid, Stage: session.StageMFA, ExpiresAt: exp, AMR: []string{"pwd"}, Factors: []string{"totp"}, MFA: true})
	d := get(t, e.m, tok)
	if !d.ExpiresAt.Equal(exp) || d.Stage != session.StageMFA || !d.MFA || !slices.Equal(d.AMR, []string{"pwd"}) || !slices.Equal(d.Factors, []string{"totp"}) {
		t.Fatalf("short-lived session: %+v", d)
	}
	at := e.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)
	if _, err := e.m.Update(t.Context(), tok, func(d *session.Data) { d.AuthAt, d.AMR = at, append(d.AMR, "otp") }); err != nil {
		t.Fatal(err)
	}
	if d := get(t, e.m, tok); !d.AuthAt.Equal(at) || !slices.Equal(d.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("after Update: %+v", d)
	}
	if n, err := e.m.UpdateUser(t.Context(), uid, func(d *session.Data) { d.Factors = nil; d.MFA = false }); err != nil || n != 1 {
		t.Fatalf("UpdateUser = %d, %v", n, err)
	}
	if d := get(t, e.m, tok); d.MFA || d.Factors != nil || !d.AuthAt.Equal(at) {
		t.Fatalf("after UpdateUser: %+v", d)
	}
	e.advance(11 * time.Minute)
	wantGone(t, e.m, "expired short-lived", tok)
	if _, err := e.m.Update(t.Context(), tok, func(*session.Data) {}); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update of an expired session: %v", err)
	}
}
