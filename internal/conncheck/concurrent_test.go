package conncheck_test

import (
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/conncheck"
)

// Check must not wait for a Read that another goroutine has outstanding on
// the same socket. pgx leaves one behind on an idle pooled connection (its
// background reader, started when a write is slow, stays in Read until the
// server sends something); a Check that waits for that Read to finish (the
// socket's read lock) never returns, and the request acquiring the
// connection hangs for good. Seen in scripts/test.sh: TestTwoInstances hung
// 20 minutes in postgres.shouldPing -> conncheck.Check.
func TestCheckBesideAPendingRead(t *testing.T) {
	c, _ := pair(t)
	go func() {
		var b [1]byte
		_, _ = c.Read(b[:]) // blocks: the peer sends nothing
	}()
	time.Sleep(50 * time.Millisecond) // let the Read block
	r := raw(t, c)
	done := make(chan error, 1)
	go func() { done <- conncheck.Check(r) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Check of an open, quiet socket being read elsewhere: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Check is still waiting for another goroutine's Read after 5 s (deadlock)")
	}
}
