package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/code/codetest"
	"github.com/simpleuser/simpleuser/code/memory"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestConformance(t *testing.T) {
	c := &clock{t: time.Now()}
	codetest.Run(t, func(*testing.T) code.Store {
		s := memory.New()
		s.Now = c.Now
		return s
	}, c.Advance)
}

// Expired records are swept by Set even when never read again.
func TestSweep(t *testing.T) {
	c := &clock{t: time.Now()}
	s := memory.New()
	s.Now = c.Now
	for i := range 1000 {
		if err := s.Set(t.Context(), string(rune('a'+i%26))+string(rune(i)), []byte("x"), time.Second); err != nil {
			t.Fatal(err)
		}
		c.Advance(10 * time.Second)
	}
	if n := memory.Len(s); n > 64 {
		t.Errorf("%d records held after 1000 expired Sets, want at most 64", n)
	}
}
