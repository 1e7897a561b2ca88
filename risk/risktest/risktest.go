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
		{"Release", testRelease},
		{"Clear", testClear},
		{"IndependentKeys", testIndependentKeys},
		{"ConcurrentOneKey", testConcurrentOneKey},
		{"ConcurrentMultiKey", testConcurrentMultiKey},
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

// origin is a start time in whole milliseconds.
func origin() time.Time { return time.Now().Truncate(time.Millisecond) }

// take calls Take and checks the wait it returns.
func take(t *testing.T, s risk.Store, ks []string, id string, max int, window time.Duration, now time.Time, want time.Duration) {
	t.Helper()
	got, err := s.Take(t.Context(), ks, id, max, window, now)
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
			wait, err := s.Take(t.Context(), ks, fmt.Sprint(i), max, want, t0)
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
