package main

import "testing"

// The ratio medians leave disturbed pairs out when at least three are
// quiet, and the round-by-round growth leaves out a round disturbed on
// either side.
func TestQuietMedians(t *testing.T) {
	s := &targetStats{Ratios: []float64{0.5, 1.0, 0.9, 0.8, 2.0}, Disturbed: []bool{true, false, false, false, true}}
	if r, n := s.ratio(); r != 0.9 || n != 3 {
		t.Errorf("ratio() = %v, %d; want 0.9 of 3 quiet pairs", r, n)
	}
	few := &targetStats{Ratios: []float64{0.5, 1.0, 0.9}, Disturbed: []bool{true, false, true}}
	if r, n := few.ratio(); r != 0.9 || n != 3 {
		t.Errorf("ratio() with 1 quiet pair = %v, %d; want the median of all 3 (0.9)", r, n)
	}
	g := &targetStats{Ratios: []float64{0.5, 0.5, 0.9, 0.4, 2.0}, Disturbed: []bool{false, false, false, true, false}}
	// Quiet rounds on both sides: 1 (0.5) and 2 (1.0); too few, so all five: 1, 0.5, 1, 0.5, 1.
	if r, n := pairedGrowth(s, g); r != 1 || n != 5 {
		t.Errorf("pairedGrowth = %v, %d; want 1 of all 5 rounds", r, n)
	}
	g.Disturbed = []bool{false, false, false, false, false}
	s.Disturbed = []bool{false, true, false, false, false}
	// Quiet rounds 0, 2, 3, 4: 1, 1, 0.5, 1.
	if r, n := pairedGrowth(s, g); r != 1 || n != 4 {
		t.Errorf("pairedGrowth = %v, %d; want 1 of 4 quiet rounds", r, n)
	}
	if _, n := pairedGrowth(s, &targetStats{Ratios: []float64{1}}); n != 0 {
		t.Errorf("pairedGrowth of unmatched rounds took %d rounds, want 0", n)
	}
}
