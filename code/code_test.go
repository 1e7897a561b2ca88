package code_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/simpleuser/simpleuser/code"
)

// chiSquare returns Pearson's statistic of digit counts against a uniform
// distribution over the ten digits.
func chiSquare(counts [10]int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	want := float64(total) / 10
	var x float64
	for _, c := range counts {
		d := float64(c) - want
		x += d * d / want
	}
	return x
}

// chiLimit is the chi-square value with 9 degrees of freedom exceeded with
// probability 1e-6 by a uniform source (45.0 has 9.2e-7): a correct
// generator fails the test about once in a million runs.
const chiLimit = 45.0

func countDigits(t *testing.T, codes, n int, gen func(int) (string, error)) (all [10]int, first [10]int) {
	t.Helper()
	for i := 0; i < codes; i++ {
		c, err := gen(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != n {
			t.Fatalf("Generate(%d) = %q: %d characters", n, c, len(c))
		}
		for j := 0; j < len(c); j++ {
			if c[j] < '0' || c[j] > '9' {
				t.Fatalf("Generate(%d) = %q: not only digits", n, c)
			}
			all[c[j]-'0']++
		}
		first[c[0]-'0']++
	}
	return all, first
}

// TestGenerateIsUniform draws 600,000 digits and checks that every digit
// is equally likely (chi-square), over all positions and over the first
// one (a leading zero is as likely as any other digit).
func TestGenerateIsUniform(t *testing.T) {
	all, first := countDigits(t, 100_000, 6, code.Generate)
	if x := chiSquare(all); x > chiLimit {
		t.Errorf("digit counts %v: chi-square %.1f > %.1f, not uniform", all, x, chiLimit)
	}
	if x := chiSquare(first); x > chiLimit {
		t.Errorf("first-digit counts %v: chi-square %.1f > %.1f, not uniform", first, x, chiLimit)
	}
}

// TestChiSquareCatchesModuloBias shows the uniformity test can fail: a
// generator reducing a random byte modulo 10 without rejection (digits 0-5
// come from 26 byte values, 6-9 from 25) is refused by the same statistic
// over the same number of draws.
func TestChiSquareCatchesModuloBias(t *testing.T) {
	biased := func(n int) (string, error) {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = '0' + b[i]%10
		}
		return string(b), nil
	}
	all, _ := countDigits(t, 100_000, 6, biased)
	if x := chiSquare(all); x <= chiLimit {
		t.Fatalf("a modulo-biased generator passed: counts %v, chi-square %.1f", all, x)
	}
}

func TestGenerateLengths(t *testing.T) {
	for _, n := range []int{1, 6, 8, 10, code.MaxLength} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			countDigits(t, 200, n, code.Generate)
		})
	}
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		c, _ := code.Generate(20)
		if seen[c] {
			t.Fatalf("Generate(20) repeated %q within 50 draws", c)
		}
		seen[c] = true
	}
	for _, n := range []int{0, -1, code.MaxLength + 1} {
		if c, err := code.Generate(n); err == nil {
			t.Errorf("Generate(%d) = %q, want an error", n, c)
		}
	}
}
