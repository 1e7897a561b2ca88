// Package code keeps one-time email codes, hashed, with a TTL, consumed at
// most once.
//
// A Store holds opaque records by key; this package seals a code into a
// record (a random salt and an HMAC-SHA-256 of the code under the kit's
// secret) and matches a guess against it in constant time. Consumption is a
// compare-and-delete on the exact record, so under any concurrency one code
// acts at most once; a consumption whose change then failed is undone by
// Restore, which never overwrites a newer code. Implementations: code/memory
// (default) and code/redis; conformance suite: code/codetest.
package code

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound means no live record exists for the key.
var ErrNotFound = errors.New("code: not found")

// Store keeps code records. Implementations wrap server failures with backend.Unavailable.
type Store interface {
	// Set stores rec under key for ttl, replacing any previous record.
	Set(ctx context.Context, key string, rec []byte, ttl time.Duration) error
	// Get returns the live record under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Consume deletes key only if it still holds exactly rec, and reports
	// whether it did, with the time the record had left to live (> 0 when
	// ok). It is atomic: of concurrent callers with the same rec, exactly one
	// gets ok.
	Consume(ctx context.Context, key string, rec []byte) (ttl time.Duration, ok bool, err error)
	// Restore puts rec back under key for ttl, unless key holds a record
	// (a newer code sent meanwhile, which must not be replaced): the undo of
	// a Consume whose change did not commit. A ttl <= 0 does nothing.
	Restore(ctx context.Context, key string, rec []byte, ttl time.Duration) error
}

const saltLen = 16

// Seal returns a record for code: salt || HMAC-SHA-256(secret, salt || code).
func Seal(secret []byte, code string) ([]byte, error) {
	rec := make([]byte, saltLen, saltLen+sha256.Size)
	if _, err := rand.Read(rec); err != nil {
		return nil, err
	}
	return append(rec, mac(secret, rec, code)...), nil
}

// Match reports, in constant time, whether code is the one sealed in rec.
func Match(secret, rec []byte, code string) bool {
	if len(rec) != saltLen+sha256.Size {
		return false
	}
	return hmac.Equal(rec[saltLen:], mac(secret, rec[:saltLen], code))
}

func mac(secret, salt []byte, code string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

// DefaultLength is the number of digits Generate's callers use when they
// have no reason to choose: six decimal digits (about 19.9 bits), what NIST
// SP 800-63B asks of an out-of-band secret at the least, made safe by the
// kit's attempt limit per address and purpose (Config.VerifyMaxAttempts).
const DefaultLength = 6

// MaxLength is the longest code Generate makes, in digits.
const MaxLength = 64

// Generate returns a code of n decimal digits (leading zeros kept), each
// drawn uniformly from crypto/rand: a random byte is kept only below 250
// (the largest multiple of 10 a byte can hold) and reduced modulo 10, so no
// digit is likelier than another (rejection sampling, no modulo bias).
// Errors: n outside 1..MaxLength, or the system's random source failing.
func Generate(n int) (string, error) {
	if n < 1 || n > MaxLength {
		return "", fmt.Errorf("code: length %d outside 1..%d", n, MaxLength)
	}
	out := make([]byte, 0, n)
	var buf [MaxLength + MaxLength/8 + 1]byte // one read almost always suffices: 250/256 of bytes are kept
	for len(out) < n {
		b := buf[:n-len(out)+(n-len(out))/8+1]
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("code: reading random bytes: %w", err)
		}
		for _, v := range b {
			if v < 250 && len(out) < n {
				out = append(out, '0'+v%10)
			}
		}
	}
	return string(out), nil
}
