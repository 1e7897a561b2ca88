// Package codetest is the conformance suite every code.Store implementation
// must pass. Call Run from the implementation's tests.
package codetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
)

// Run runs the suite. newStore must return a fresh store for each subtest
// (keys are namespaced by subtest, so a shared server is fine). advance
// moves the store's clock forward by d; for a store on a real server it may
// simply sleep. Only one subtest advances, by 2s, past a TTL of 1.5s.
func Run(t *testing.T, newStore func(t *testing.T) code.Store, advance func(d time.Duration)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s code.Store)
	}{
		{"SetGet", testSetGet},
		{"Replace", testReplace},
		{"NotFound", testNotFound},
		{"Consume", testConsume},
		{"ConsumeConcurrent", testConsumeConcurrent},
		{"Restore", testRestore},
		{"TTL", func(t *testing.T, s code.Store) { testTTL(t, s, advance) }},
		{"SealMatch", testSealMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

const ttl = time.Minute

func key(t *testing.T, name string) string { return "codetest:" + t.Name() + ":" + name }

func set(t *testing.T, s code.Store, k string, rec []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), k, rec, ttl); err != nil {
		t.Fatalf("Set(%q): %v", k, err)
	}
}

func wantRec(t *testing.T, s code.Store, k string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), k)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("Get(%q) = %x, %v; want %x", k, got, err, want)
	}
}

func wantNotFound(t *testing.T, s code.Store, k string) {
	t.Helper()
	if got, err := s.Get(t.Context(), k); !errors.Is(err, code.ErrNotFound) {
		t.Errorf("Get(%q) = %x, %v; want ErrNotFound", k, got, err)
	}
}

// consume calls Consume, checks its verdict and returns the TTL it gave.
func consume(t *testing.T, s code.Store, k string, rec []byte, want bool) time.Duration {
	t.Helper()
	left, ok, err := s.Consume(t.Context(), k, rec)
	if err != nil || ok != want {
		t.Errorf("Consume(%q, %x) = %v, %v; want %v", k, rec, ok, err, want)
	}
	if ok && (left <= 0 || left > ttl) {
		t.Errorf("Consume(%q) left %v to live, want in (0, %v]", k, left, ttl)
	}
	if !ok && left != 0 {
		t.Errorf("a refused Consume(%q) gave a TTL %v", k, left)
	}
	return left
}

func testSetGet(t *testing.T, s code.Store) {
	rec := []byte{0, 1, 2, 0xff, 'a'}
	a, b := key(t, "a"), key(t, "b")
	set(t, s, a, rec, ttl)
	set(t, s, b, []byte("other"), ttl)
	rec[0] = 9 // the store keeps its own copy
	wantRec(t, s, a, []byte{0, 1, 2, 0xff, 'a'})
	got, _ := s.Get(t.Context(), a)
	if len(got) > 0 {
		got[1] = 9
	}
	wantRec(t, s, a, []byte{0, 1, 2, 0xff, 'a'})
	wantRec(t, s, b, []byte("other"))
}

func testReplace(t *testing.T, s code.Store) {
	k := key(t, "k")
	set(t, s, k, []byte("first"), ttl)
	set(t, s, k, []byte("second"), ttl)
	wantRec(t, s, k, []byte("second"))
	consume(t, s, k, []byte("first"), false)
	wantRec(t, s, k, []byte("second"))
	consume(t, s, k, []byte("second"), true)
	wantNotFound(t, s, k)
}

func testNotFound(t *testing.T, s code.Store) {
	wantNotFound(t, s, key(t, "never-set"))
	k := key(t, "deleted")
	set(t, s, k, []byte("x"), ttl)
	consume(t, s, k, []byte("x"), true)
	wantNotFound(t, s, k)
}

func testConsume(t *testing.T, s code.Store) {
	k := key(t, "k")
	rec := []byte("record")
	consume(t, s, k, rec, false) // absent
	set(t, s, k, rec, ttl)
	for _, other := range [][]byte{[]byte("recorD"), []byte("record!"), []byte("recor"), {}} {
		consume(t, s, k, other, false)
	}
	wantRec(t, s, k, rec)
	consume(t, s, k, rec, true)
	consume(t, s, k, rec, false) // only once
	wantNotFound(t, s, k)
}

func testConsumeConcurrent(t *testing.T, s code.Store) {
	const n = 100
	k, rec := key(t, "k"), []byte("the-one-code")
	set(t, s, k, rec, ttl)
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, ok, err := s.Consume(t.Context(), k, rec)
			if err != nil {
				t.Errorf("Consume: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if w := wins.Load(); w != 1 {
		t.Errorf("%d of %d concurrent Consume calls won, want exactly 1", w, n)
	}
}

// Restore undoes a Consume with the TTL it gave, never replaces a record
// stored meanwhile, and ignores a TTL <= 0.
func testRestore(t *testing.T, s code.Store) {
	k := key(t, "k")
	rec := []byte("first-code")
	set(t, s, k, rec, ttl)
	left := consume(t, s, k, rec, true)
	wantNotFound(t, s, k)
	if err := s.Restore(t.Context(), k, rec, left); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	wantRec(t, s, k, rec)
	consume(t, s, k, rec, true) // usable again, once
	consume(t, s, k, rec, false)

	// A newer code sent between the Consume and the Restore stays.
	set(t, s, k, rec, ttl)
	left = consume(t, s, k, rec, true)
	set(t, s, k, []byte("newer-code"), ttl)
	if err := s.Restore(t.Context(), k, rec, left); err != nil {
		t.Fatalf("Restore over a newer record: %v", err)
	}
	wantRec(t, s, k, []byte("newer-code"))

	// A TTL <= 0 (the record had expired) restores nothing.
	gone := key(t, "gone")
	for _, d := range []time.Duration{0, -time.Second} {
		if err := s.Restore(t.Context(), gone, rec, d); err != nil {
			t.Fatalf("Restore(ttl %v): %v", d, err)
		}
		wantNotFound(t, s, gone)
	}
}

func testTTL(t *testing.T, s code.Store, advance func(time.Duration)) {
	short, long := key(t, "short"), key(t, "long")
	set(t, s, short, []byte("s"), 1500*time.Millisecond)
	set(t, s, long, []byte("l"), ttl)
	wantRec(t, s, short, []byte("s"))
	advance(2 * time.Second)
	wantNotFound(t, s, short)
	consume(t, s, short, []byte("s"), false)
	wantRec(t, s, long, []byte("l"))
}

func testSealMatch(t *testing.T, s code.Store) {
	secret, other := []byte("kit-secret"), []byte("other-secret")
	rec, err := code.Seal(secret, "123456")
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	again, err := code.Seal(secret, "123456")
	if err != nil || bytes.Equal(rec, again) {
		t.Errorf("two Seals of one code gave equal records (%x): salt missing", rec)
	}
	k := key(t, "k")
	set(t, s, k, rec, ttl)
	stored, err := s.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for _, tc := range []struct {
		name   string
		secret []byte
		rec    []byte
		code   string
		want   bool
	}{
		{"right code", secret, stored, "123456", true},
		{"wrong code", secret, stored, "123457", false},
		{"empty code", secret, stored, "", false},
		{"other secret", other, stored, "123456", false},
		{"truncated record", secret, stored[:len(stored)-1], "123456", false},
		{"extended record", secret, append(bytes.Clone(stored), 0), "123456", false},
		{"empty record", secret, nil, "123456", false},
	} {
		if got := code.Match(tc.secret, tc.rec, tc.code); got != tc.want {
			t.Errorf("Match (%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	consume(t, s, k, again, false) // another sealing of the same code is another record
	consume(t, s, k, stored, true)
}
