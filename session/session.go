// Package session issues and resolves server-side login sessions.
//
// Session bodies live in an scs store (github.com/alexedwards/scs/v2's Store
// interface: scs/memstore by default, scs/redisstore with Redis). The kit
// generates its own 64-character tokens (nicot-compatible, ~381 bits) and
// hands the store only a SHA-256 hash of each token, so a dump of the store
// yields no usable token. A per-user Index makes listing or revoking the
// sessions of a user cost O(sessions of that user), and bounds how many one
// user may hold (Manager.MaxPerUser).
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound means the token is unknown, expired or revoked.
var ErrNotFound = errors.New("session: not found")

// TokenLength is the length of a session token in characters.
const TokenLength = 64

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewToken returns a fresh token: TokenLength characters from [A-Za-z0-9]
// drawn from crypto/rand without modulo bias.
func NewToken() (string, error) {
	out := make([]byte, 0, TokenLength)
	var buf [96]byte
	for len(out) < TokenLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 { // 248 = 4*62: reject the tail to stay uniform
				out = append(out, tokenAlphabet[b%62])
				if len(out) == TokenLength {
					break
				}
			}
		}
	}
	return string(out), nil
}

// Key is the store key of a token: base64url of the first 128 bits of
// SHA-256(token), 22 characters. The token has ~381 bits of entropy, so the
// key reveals nothing usable, and 128 bits keep collisions and preimages out
// of reach while saving Redis memory on every session.
func Key(token string) string {
	var b [TokenLength]byte // a token's bytes on the stack: []byte(token) escapes into sha256
	if len(token) == TokenLength {
		copy(b[:], token)
		h := sha256.Sum256(b[:])
		return base64.RawURLEncoding.EncodeToString(h[:16])
	}
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// Data is what a session holds.
type Data struct {
	UserID    int64     `json:"u"`
	CreatedAt time.Time `json:"c"`
	ExpiresAt time.Time `json:"e"`
	// LastSeen is when the session was last used, refreshed by Get at most
	// once per Manager.TouchInterval (zero in bodies written before it was
	// kept without an idle timeout: read it as CreatedAt).
	LastSeen  time.Time `json:"s,omitzero"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"ua,omitempty"`
	// UserData is the app's GetSessionUserData payload (a JSON object), if any.
	UserData json.RawMessage `json:"d,omitempty"`

	// Stage is "" for a full session, StageMFA for one whose sign-in
	// still needs a second factor (it opens nothing but the factor
	// endpoints and logout).
	Stage string `json:"st,omitempty"`
	// AuthAt is when the session's user last authenticated (sign-in,
	// second factor, re-authentication): sensitive actions need it recent
	// (step-up). Zero in bodies written before it was kept: read it as
	// CreatedAt.
	AuthAt time.Time `json:"at,omitzero"`
	// AMR lists the authentication methods used in the session, as RFC
	// 8176 values ("pwd", "otp", "mfa", "email", "hwk", "fed"...).
	AMR []string `json:"amr,omitempty"`
	// MustChangePassword: the user must set a new password before any
	// route the middleware guards (user.User.MustChangePassword).
	MustChangePassword bool `json:"mcp,omitempty"`
	// MFA: the account has a second factor required at sign-in.
	MFA bool `json:"mfa,omitempty"`
	// Factors are the factor kinds the account has ("totp", "recovery",
	// "email", "passkey"), kept up to date by the factor flows, so a
	// request needs no store read to know them.
	Factors []string `json:"f,omitempty"`
	// EmailVerified: the account's email address was verified when the
	// session was issued or last refreshed (user.User.EmailVerified), so a
	// guard requiring a verified address reads no user store.
	EmailVerified bool `json:"ev,omitempty"`

	// TenantID is the tenant the session acts in (0: none), Roles the
	// member's roles there and Permissions those roles grant (sorted),
	// set at sign-in and on switch-tenant and kept up to date by the
	// tenant flows (package tenant), so a permission check needs no store
	// read.
	TenantID    int64    `json:"t,omitempty"`
	Roles       []string `json:"r,omitempty"`
	Permissions []string `json:"p,omitempty"`
}

// StageMFA is Data.Stage of a session waiting for its second factor.
const StageMFA = "mfa"

// Store is the subset of scs.Store the manager uses (scs/memstore and
// scs/redisstore satisfy it). Keys passed to it are token hashes.
type Store interface {
	Find(key string) (b []byte, found bool, err error)
	Commit(key string, b []byte, expiry time.Time) error
	Delete(key string) error
}

// BatchDeleter is implemented by stores that can delete many keys in one round trip.
type BatchDeleter interface {
	DeleteMany(ctx context.Context, keys []string) error
}

// BatchFinder is implemented by stores that can read many keys in one
// round trip. FindMany returns one body per key, in order, nil where there
// is none.
type BatchFinder interface {
	FindMany(ctx context.Context, keys []string) ([][]byte, error)
}

// Replacer is implemented by stores that can overwrite a key only if it
// still exists, atomically. The manager uses it to rewrite live sessions
// (Get's touch, SetUserData), so a rewrite racing a revocation cannot
// resurrect the session. A store without it gets a read-then-write, which
// can: the conformance suite (sessiontest) requires it.
type Replacer interface {
	Replace(ctx context.Context, key string, b []byte, expiry time.Time) (written bool, err error)
}

// Taker is implemented by stores that can read and delete a key in one
// atomic step (Redis GETDEL). The manager ends sessions with it, so that
// of concurrent Ends of one session exactly one gets its data: a
// challenge session completes once. A store without it gets a read, then
// a delete.
type Taker interface {
	Take(ctx context.Context, key string) (b []byte, found bool, err error)
}

// Index maps a user to the store keys of their sessions, each with its
// expiry. "Oldest" below means the earliest expiry (ties: the smaller key):
// sessions share one lifetime, so the one created first.
type Index interface {
	// Add records key as a session of userID, live until expiry, and
	// prunes the members that expired. When limit > 0 and more than limit
	// members remain, it returns the oldest of them, key excepted, so that
	// limit remain without them; it does not remove them: the caller ends
	// their sessions, then removes them, so a member leaves the index only
	// once its session is gone. Running Add twice has the effect of once.
	Add(ctx context.Context, userID int64, key string, expiry time.Time, limit int) (over []string, err error)
	// Remove forgets sessions of userID (keys that are not indexed are ignored).
	Remove(ctx context.Context, userID int64, keys ...string) error
	// List returns the live keys of userID (expired members are pruned).
	List(ctx context.Context, userID int64, now time.Time) ([]string, error)
	// PopAll atomically removes and returns every key of userID.
	PopAll(ctx context.Context, userID int64) ([]string, error)
}
