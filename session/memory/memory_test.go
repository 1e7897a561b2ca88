package memory_test

import (
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/session"
	"github.com/simpleuser/simpleuser/session/memory"
	"github.com/simpleuser/simpleuser/session/sessiontest"
)

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(*testing.T) (session.Store, session.Index) { return memory.New() })
}

// Entries of users who never come back are swept by later Adds.
func TestSweep(t *testing.T) {
	x := memory.NewIndex()
	now := time.Now()
	x.Now = func() time.Time { return now }
	for i := range 1000 {
		if _, err := x.Add(t.Context(), int64(i), "k", now.Add(time.Second), 0); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	if n := memory.Size(x); n > 64 {
		t.Errorf("%d entries held after 1000 expired Adds, want at most 64", n)
	}
}
