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
