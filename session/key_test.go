package session_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/session"
)

// TestKey: the store key is base64url of the first 128 bits of SHA-256 of
// the token, for tokens of any length, and costs one allocation (the key)
// on the hot path, where every request with a token computes it.
func TestKey(t *testing.T) {
	for _, tok := range []string{strings.Repeat("A", session.TokenLength), "short", strings.Repeat("x", 100), ""} {
		h := sha256.Sum256([]byte(tok))
		if got, want := session.Key(tok), base64.RawURLEncoding.EncodeToString(h[:16]); got != want {
			t.Errorf("Key(%q) = %q, want %q", tok, got, want)
		}
	}
	tok := strings.Repeat("k", session.TokenLength)
	if n := testing.AllocsPerRun(100, func() { _ = session.Key(tok) }); n > 1 {
		t.Errorf("Key: %.0f allocations, want 1 (the key)", n)
	}
}
