package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/risk"
	"github.com/simpleuser/simpleuser/risk/memory"
	"github.com/simpleuser/simpleuser/risk/risktest"
)

func TestConformance(t *testing.T) {
	risktest.Run(t, func(*testing.T) risk.Store { return memory.New() })
}

func TestNoLimit(t *testing.T) {
	s, now := memory.New(), time.Now()
	for _, max := range []int{0, -1} {
		for range 3 {
			if wait, err := s.Take(t.Context(), []risk.Limit{{Key: "k", Max: max, Window: time.Minute}}, "id", now); wait != 0 || err != nil {
				t.Fatalf("Take(max %d) = %v, %v; want 0", max, wait, err)
			}
		}
	}
	if n := memory.Len(s); n != 0 {
		t.Errorf("max <= 0 recorded entries under %d keys", n)
	}
}

func TestDuplicateKeys(t *testing.T) {
	s, now := memory.New(), time.Now()
	if wait, err := s.Take(t.Context(), []risk.Limit{{Key: "k", Max: 2, Window: time.Minute}, {Key: "k", Max: 2, Window: time.Minute}}, "id", now); wait != 0 || err != nil {
		t.Fatalf("Take = %v, %v", wait, err)
	}
	if wait, _ := s.Take(t.Context(), []risk.Limit{{Key: "k", Max: 2, Window: time.Minute}}, "id2", now); wait != 0 {
		t.Errorf("a repeated key was counted twice: wait %v", wait)
	}
}

// Keys whose entries all expired are dropped, so memory stays bounded.
func TestSweep(t *testing.T) {
	s, now := memory.New(), time.Now()
	for i := range 1000 {
		now = now.Add(time.Second)
		if _, err := s.Take(t.Context(), []risk.Limit{{Key: fmt.Sprint("k", i), Max: 1, Window: time.Millisecond}}, "id", now); err != nil {
			t.Fatal(err)
		}
	}
	if n := memory.Len(s); n > 64 {
		t.Errorf("%d keys held after 1000 expired Takes, want at most 64", n)
	}
	// Taking again on a key whose entries expired also drops them.
	k := []risk.Limit{{Key: "again", Max: 1, Window: time.Millisecond}}
	for range 3 {
		now = now.Add(time.Second)
		if wait, _ := s.Take(t.Context(), k, "id", now); wait != 0 {
			t.Fatalf("Take after expiry waits %v", wait)
		}
	}
	if n := memory.Entries(s, "again"); n != 1 {
		t.Errorf("key holds %d entries, want 1", n)
	}
}
