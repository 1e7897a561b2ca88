// Package risktest is the conformance suite every risk.Store implementation
// must pass. Call Run from the implementation's tests.
//
// The suite never sleeps: it passes explicit, increasing now values (whole
// milliseconds, starting at the current time) and expects waits exact to the
// millisecond, so implementations must compute entries and waits from the
// now they are given (with at least millisecond precision), not from a
// server clock. Key TTLs may still be relative (the window) so that a real
// server cleans up.
package risktest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/risk"
)

// Run runs the suite. newStore must return a fresh store for each subtest
// (keys are namespaced by subtest, so a shared server is fine).
func Run(t *testing.T, newStore func(t *testing.T) risk.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s risk.Store)
	}{
		{"Cooldown", testCooldown},
		{"MultiKey", testMultiKey},
		{"SlidingWindow", testSlidingWindow},
		{"MixedMax", testMixedMax},
		{"PerKeyLimits", testPerKeyLimits},
		{"OffLimits", testOffLimits},
		{"RepeatedCall", testRepeatedCall},
		{"Release", testRelease},
		{"Clear", testClear},
		{"IndependentKeys", testIndependentKeys},
		{"ConcurrentOneKey", testConcurrentOneKey},
		{"ConcurrentMultiKey", testConcurrentMultiKey},
		{"Explain", testExplain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// keys returns the names namespaced by the running test.
func keys(t *testing.T, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "risktest:" + t.Name() + ":" + n
	}
	return out
}

// limits gives every key the same rule.
func limits(ks []string, max int, window time.Duration) []risk.Limit {
	out := make([]risk.Limit, len(ks))
	for i, k := range ks {
		out[i] = risk.Limit{Key: k, Max: max, Window: window}
	}
	return out
}

// origin is a start time in whole milliseconds.
func origin() time.Time { return time.Now().Truncate(time.Millisecond) }

// take calls Take and checks the wait it returns.
func take(t *testing.T, s risk.Store, ks []string, id string, max int, window time.Duration, now time.Time, want time.Duration) {
	t.Helper()
	got, err := s.Take(t.Context(), limits(ks, max, window), id, now)
	if err != nil {
		t.Fatalf("Take(%v, %q): %v", ks, id, err)
	}
	if got != want {
		t.Errorf("Take(%v, %q, max %d) = %v, want %v", ks, id, max, got, want)
	}
}

func testCooldown(t *testing.T, s risk.Store) {
	k, w, t0 := keys(t, "send"), 60*time.Second, origin()
	for _, tc := range []struct {
		id   string
		at   time.Duration
		want time.Duration
	}{
		{"1", 0, 0},
		{"2", 10 * time.Second, 50 * time.Second},
		{"3", w - time.Millisecond, time.Millisecond},
		{"4", w, 0}, // the first entry is exactly window old: forgotten (a wait must be > 0)
		{"5", w + 1500*time.Millisecond, w - 1500*time.Millisecond},
		{"6", 2*w + time.Second, 0},
	} {
		take(t, s, k, tc.id, 1, w, t0.Add(tc.at), tc.want)
	}
}

func testMultiKey(t *testing.T, s risk.Store) {
	w, t0 := 10*time.Second, origin()
	ks := keys(t, "a", "b", "c")
	a, b, c := ks[:1], ks[1:2], ks[2:]
	take(t, s, a, "1", 1, w, t0.Add(3*time.Second), 0)
	take(t, s, b, "2", 1, w, t0, 0)
	// At t0+5s a waits 8s, b 5s: the answer is the longest, whatever the
	// order of the keys, and nothing is recorded (so the call can be repeated).
	for _, order := range [][]string{ks, {ks[2], ks[1], ks[0]}, {ks[1], ks[0]}} {
		take(t, s, order, "3", 1, w, t0.Add(5*time.Second), 8*time.Second)
	}
	take(t, s, c, "4", 1, w, t0.Add(5*time.Second), 0) // c untouched by the blocked calls
	// a blocked alone; b freed, but the call records nothing on it either.
	take(t, s, keys(t, "a", "b"), "5", 1, w, t0.Add(11*time.Second), 2*time.Second)
	take(t, s, b, "6", 1, w, t0.Add(11*time.Second), 0)

	// A successful multi-key Take records on every key.
	xy := keys(t, "x", "y")
	take(t, s, xy, "7", 1, w, t0, 0)
	take(t, s, xy[:1], "8", 1, w, t0.Add(time.Second), 9*time.Second)
	take(t, s, xy[1:], "9", 1, w, t0.Add(2*time.Second), 8*time.Second)
}

func testSlidingWindow(t *testing.T, s risk.Store) {
	k, w, t0 := keys(t, "attempts"), 10*time.Second, origin()
	for i := range 5 {
		take(t, s, k, fmt.Sprint(i), 5, w, t0.Add(time.Duration(i)*time.Second), 0)
	}
	take(t, s, k, "blocked1", 5, w, t0.Add(5*time.Second), 5*time.Second)
	take(t, s, k, "blocked2", 5, w, t0.Add(w-time.Millisecond), time.Millisecond)
	take(t, s, k, "5", 5, w, t0.Add(w), 0) // the first aged out: one more allowed
	// Now t0+1s … t0+4s and t0+10s: the next slot opens when t0+1s ages out.
	take(t, s, k, "blocked3", 5, w, t0.Add(w+500*time.Millisecond), 500*time.Millisecond)
}

// A key holding more than max entries (taken earlier with a larger max)
// accepts one more only when enough have expired to leave max-1.
func testMixedMax(t *testing.T, s risk.Store) {
	k, w, t0 := keys(t, "k"), 10*time.Second, origin()
	for i := range 3 {
		take(t, s, k, fmt.Sprint(i), 3, w, t0.Add(time.Duration(i)*time.Second), 0)
	}
	take(t, s, k, "max1", 1, w, t0.Add(3*time.Second), 9*time.Second)  // all three must expire
	take(t, s, k, "max2", 2, w, t0.Add(3*time.Second), 8*time.Second)  // two must expire
	take(t, s, k, "max3", 3, w, t0.Add(3*time.Second), 7*time.Second)  // the oldest must expire
	take(t, s, k, "max4", 4, w, t0.Add(3*time.Second), 0)              // room left
	take(t, s, k, "max4b", 4, w, t0.Add(3*time.Second), 7*time.Second) // now full at 4
}

func testRelease(t *testing.T, s risk.Store) {
	k, w, t0 := keys(t, "k"), time.Minute, origin()
	take(t, s, k, "1", 2, w, t0, 0)
	take(t, s, k, "2", 2, w, t0.Add(time.Second), 0)
	take(t, s, k, "3", 2, w, t0.Add(2*time.Second), w-2*time.Second)
	if err := s.Release(t.Context(), k, "unknown"); err != nil {
		t.Fatalf("Release(unknown id): %v", err)
	}
	take(t, s, k, "3", 2, w, t0.Add(2*time.Second), w-2*time.Second)
	if err := s.Release(t.Context(), k, "1"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	take(t, s, k, "3", 2, w, t0.Add(2*time.Second), 0)
	// With "2" the oldest left, the wait is counted from it.
	take(t, s, k, "4", 2, w, t0.Add(3*time.Second), w-2*time.Second)

	ab := keys(t, "a", "b")
	take(t, s, ab, "x", 1, w, t0, 0)
	if err := s.Release(t.Context(), ab, "x"); err != nil {
		t.Fatalf("Release(two keys): %v", err)
	}
	take(t, s, ab, "y", 1, w, t0.Add(time.Second), 0)
}

func testClear(t *testing.T, s risk.Store) {
	ks, w, t0 := keys(t, "a", "b", "c"), time.Minute, origin()
	take(t, s, ks, "1", 1, w, t0, 0)
	if err := s.Clear(t.Context(), ks[0], ks[1], "risktest:never-used"); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if err := s.Clear(t.Context()); err != nil {
		t.Fatalf("Clear(): %v", err)
	}
	take(t, s, ks[:2], "2", 1, w, t0.Add(time.Second), 0)
	take(t, s, ks[2:], "3", 1, w, t0.Add(time.Second), w-time.Second) // not cleared
}

func testIndependentKeys(t *testing.T, s risk.Store) {
	ks, w, t0 := keys(t, "a", "b"), time.Minute, origin()
	take(t, s, ks[:1], "1", 1, w, t0, 0)
	take(t, s, ks[:1], "2", 1, w, t0, w)
	take(t, s, ks[1:], "3", 1, w, t0, 0)
	take(t, s, ks[1:], "4", 1, 2*w, t0.Add(w/2), 3*w/2) // the window is the caller's
}

// concurrent runs n Takes at once and returns how many got 0; every other
// one must get exactly want.
func concurrent(t *testing.T, s risk.Store, n int, ks []string, max int, want time.Duration) int {
	t0 := origin()
	var zero atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			wait, err := s.Take(t.Context(), limits(ks, max, want), fmt.Sprint(i), t0)
			switch {
			case err != nil:
				t.Errorf("Take: %v", err)
			case wait == 0:
				zero.Add(1)
			case wait != want:
				t.Errorf("blocked Take waits %v, want %v", wait, want)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(zero.Load())
}

func testConcurrentOneKey(t *testing.T, s risk.Store) {
	if got := concurrent(t, s, 100, keys(t, "k"), 5, time.Minute); got != 5 {
		t.Errorf("%d of 100 concurrent Takes with max 5 passed, want 5", got)
	}
}

func testConcurrentMultiKey(t *testing.T, s risk.Store) {
	if got := concurrent(t, s, 100, keys(t, "a", "b", "c"), 1, time.Minute); got != 1 {
		t.Errorf("%d of 100 concurrent Takes on 3 keys with max 1 passed, want 1", got)
	}
}

// takeLimits calls Take with per-key limits and checks the wait.
func takeLimits(t *testing.T, s risk.Store, ls []risk.Limit, id string, now time.Time, want time.Duration) {
	t.Helper()
	got, err := s.Take(t.Context(), ls, id, now)
	if err != nil {
		t.Fatalf("Take(%v, %q): %v", ls, id, err)
	}
	if got != want {
		t.Errorf("Take(%v, %q) = %v, want %v", ls, id, got, want)
	}
}

// Each key of one call is checked against its own limit: a cooldown (1 per
// minute) on the device, a budget (3 per 10 minutes) on the address. The
// shape of a send: devices behind one address do not block each other
// until the address's budget is spent.
func testPerKeyLimits(t *testing.T, s risk.Store) {
	t0 := origin()
	ks := keys(t, "device-a", "device-b", "device-c", "device-d", "address")
	addr := risk.Limit{Key: ks[4], Max: 3, Window: 10 * time.Minute}
	send := func(device int, id string, at time.Duration, want time.Duration) {
		t.Helper()
		takeLimits(t, s, []risk.Limit{{Key: ks[device], Max: 1, Window: time.Minute}, addr}, id, t0.Add(at), want)
	}
	send(0, "1", 0, 0)
	send(0, "2", time.Second, time.Minute-time.Second) // device a's cooldown
	send(1, "3", 2*time.Second, 0)                     // another device: its own cooldown
	send(2, "4", 3*time.Second, 0)                     // the address's third
	// The budget is spent: device d waits until the address's oldest entry
	// (t0) is 10 minutes old, although its own cooldown is free.
	send(3, "5", 4*time.Second, 10*time.Minute-4*time.Second)
	// Both blocked: the longer wait wins.
	send(0, "6", 30*time.Second, 10*time.Minute-30*time.Second)
	// The refused calls recorded nothing: at t0+10min the oldest address
	// entry ages out and device d gets in.
	send(3, "7", 10*time.Minute, 0)
}

// Limits with Max <= 0 or a window under a millisecond are off: ignored,
// never recorded, and a call with none on passes.
func testOffLimits(t *testing.T, s risk.Store) {
	t0 := origin()
	ks := keys(t, "on", "off-max", "off-window")
	on := risk.Limit{Key: ks[0], Max: 1, Window: time.Minute}
	offMax := risk.Limit{Key: ks[1], Max: 0, Window: time.Minute}
	offNeg := risk.Limit{Key: ks[1], Max: -1, Window: time.Minute}
	offWin := risk.Limit{Key: ks[2], Max: 1, Window: 0}
	for i := range 3 {
		takeLimits(t, s, []risk.Limit{offMax, offNeg, offWin}, fmt.Sprint("off", i), t0, 0)
	}
	takeLimits(t, s, nil, "none", t0, 0)
	takeLimits(t, s, []risk.Limit{on, offMax, offWin}, "1", t0, 0)
	takeLimits(t, s, []risk.Limit{offMax, on}, "2", t0.Add(time.Second), time.Minute-time.Second)
	// The off keys hold nothing: taken as on, they pass.
	takeLimits(t, s, []risk.Limit{{Key: ks[1], Max: 1, Window: time.Minute}, {Key: ks[2], Max: 1, Window: time.Minute}}, "3", t0, 0)
	if got := risk.Keys([]risk.Limit{on, offMax, offWin}); len(got) != 1 || got[0] != ks[0] {
		t.Errorf("risk.Keys = %q, want only %q", got, ks[0])
	}
}

// A Take repeated with the id of a call that recorded its entry (a resend
// after a lost reply) answers 0 and records nothing more, even when that
// entry took the last slot; a refused call's id records nothing, so its
// repetition is checked afresh.
func testRepeatedCall(t *testing.T, s risk.Store) {
	k, w, t0 := keys(t, "k", "other"), time.Minute, origin()
	take(t, s, k, "1", 2, w, t0, 0)
	take(t, s, k, "2", 2, w, t0.Add(time.Second), 0) // the last slot
	take(t, s, k, "2", 2, w, t0.Add(2*time.Second), 0)
	take(t, s, k, "3", 2, w, t0.Add(3*time.Second), w-3*time.Second) // until "1" ages out
	take(t, s, k, "3", 2, w, t0.Add(4*time.Second), w-4*time.Second)
	if err := s.Release(t.Context(), k, "2"); err != nil {
		t.Fatal(err)
	}
	take(t, s, k, "3", 2, w, t0.Add(5*time.Second), 0)               // recorded once, not twice
	take(t, s, k, "4", 2, w, t0.Add(6*time.Second), w-6*time.Second) // "1" and "3" hold the slots
}

// A store that implements risk.Explainer names the limits that refused a
// Take by their index in the call's limits (off limits counted), and none
// when it passes. A store that does not is not checked.
func testExplain(t *testing.T, s risk.Store) {
	ex, ok := s.(risk.Explainer)
	if !ok {
		t.Logf("%T does not implement risk.Explainer", s)
		return
	}
	t0 := origin()
	ks := keys(t, "email", "device", "address")
	email := risk.Limit{Key: ks[0], Max: 1, Window: time.Minute}
	off := risk.Limit{Key: ks[1] + ":off", Max: 0, Window: time.Minute}
	device := risk.Limit{Key: ks[1], Max: 1, Window: time.Minute}
	addr := risk.Limit{Key: ks[2], Max: 2, Window: 10 * time.Minute}
	check := func(ls []risk.Limit, id string, at time.Duration, want []int) {
		t.Helper()
		wait, refused, err := ex.TakeExplain(t.Context(), ls, id, t0.Add(at))
		if err != nil {
			t.Fatalf("TakeExplain %q: %v", id, err)
		}
		if (wait > 0) != (len(want) > 0) || !slices.Equal(refused, want) {
			t.Errorf("TakeExplain %q = %v, %v; want refused %v", id, wait, refused, want)
		}
	}
	check([]risk.Limit{email, off, device, addr}, "1", 0, nil)
	check([]risk.Limit{email, off, device, addr}, "2", time.Second, []int{0, 2}) // both cooldowns
	other := risk.Limit{Key: ks[0] + ":other", Max: 1, Window: time.Minute}
	check([]risk.Limit{other, off, device, addr}, "3", 2*time.Second, []int{2}) // the device's only
	check([]risk.Limit{other, addr}, "4", 3*time.Second, nil)                   // the address's second
	fresh := risk.Limit{Key: ks[1] + ":fresh", Max: 1, Window: time.Minute}
	check([]risk.Limit{fresh, addr}, "5", 4*time.Second, []int{1}) // the budget spent
	if w, err := s.Take(t.Context(), []risk.Limit{fresh, addr}, "6", t0.Add(5*time.Second)); err != nil || w != 10*time.Minute-5*time.Second {
		t.Errorf("Take after TakeExplain = %v, %v", w, err)
	}
}
