// Package testenv connects tests to the real backing services on the
// machine (PostgreSQL, Redis), each test getting its own isolated namespace
// that is removed when the test ends.
//
// A service that cannot be reached fails the test with a message saying how
// to start it; it never silently skips. Set SIMPLEUSER_SKIP_BACKENDS=1 to
// skip such tests instead (e.g. a quick run on a laptop without the
// services).
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// SkipEnv is the environment variable that, set to "1", turns an
// unreachable backend into a skipped test instead of a failed one.
const SkipEnv = "SIMPLEUSER_SKIP_BACKENDS"

// unreachable ends the test because a backend cannot be reached: t.Skip when
// SkipEnv=1, t.Fatal otherwise.
func unreachable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf(format+" (skipped: "+SkipEnv+"=1)", args...)
	}
	t.Fatalf(format+" (set "+SkipEnv+"=1 to skip instead)", args...)
}

// randomSuffix returns n random bytes as lower-case hex.
func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
