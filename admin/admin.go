// Package admin is the kit's admin API: an http.Handler an app mounts where
// it wants (it is never mounted unless the app asks), guarded by a
// permission in the caller's session or by a hashed, revocable API key,
// which manages users (search, get, create, metadata, disable and enable,
// delete), their sessions, sign-in methods and factors, and records every
// action in an audit log queryable through the same API.
//
// The audit log and the API keys live behind Store, implemented in memory
// (admin/memory) and in PostgreSQL (admin/postgres, tables from the kit's
// migration 0011); every implementation passes admin/admintest.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// ErrNotFound means no API key (or entry) matched.
var ErrNotFound = errors.New("admin: not found")

// Actions recorded in Entry.Action.
const (
	ActionUserCreate      = "user.create"
	ActionUserMetadata    = "user.metadata"
	ActionUserDisable     = "user.disable"
	ActionUserEnable      = "user.enable"
	ActionUserDelete      = "user.delete"
	ActionMustChange      = "user.must_change_password"
	ActionMustChangeClear = "user.must_change_password_clear"
	ActionSessionEnd      = "session.end"
	ActionSessionEndAll   = "session.end_all"
	ActionIdentityUnlink  = "identity.unlink"
	ActionFactorsReset    = "factors.reset"
	ActionKeyCreate       = "key.create"
	ActionKeyRevoke       = "key.revoke"
)

// Entry is one audit record: who (ActorUserID for an admin session,
// ActorKeyID for an API key), what (Action), on what (TargetUserID and/or
// Target), when (At) and from where (IP). Detail holds the reason and the
// changed field names, never a secret.
type Entry struct {
	ID           int64          `json:"id"`
	At           time.Time      `json:"at"`
	ActorUserID  int64          `json:"actorUserId,omitempty"`
	ActorKeyID   string         `json:"actorKeyId,omitempty"`
	Action       string         `json:"action"`
	TargetUserID int64          `json:"targetUserId,omitempty"`
	Target       string         `json:"target,omitempty"`
	IP           string         `json:"ip,omitempty"`
	Detail       map[string]any `json:"detail,omitempty"`
}

// Filter selects audit entries, newest first. Zero fields do not filter.
// Before is the cursor: only entries with ID < Before (the last ID of the
// previous page). Limit is at most MaxLimit (0 means DefaultLimit).
type Filter struct {
	ActorUserID  int64
	ActorKeyID   string
	Action       string
	TargetUserID int64
	From, To     time.Time // At in [From, To)
	Before       int64
	Limit        int
}

// Page sizes of Filter and UserQuery.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ClampLimit returns n bounded to [1, MaxLimit], DefaultLimit for n <= 0.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// APIKey is a machine client's credential as stored: only Hash, the
// SHA-256 of the key, is kept (HashKey). A key is revoked, never deleted,
// so the audit log's ActorKeyID keeps a meaning.
type APIKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// Revoked reports whether the key was revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Store keeps the audit log and the API keys. Methods join the transaction
// ctx carries (the user store's, user/postgres.TxFrom), so an entry commits
// or rolls back with the change it records. Implementations wrap server
// failures with backend.Unavailable.
type Store interface {
	// Record appends e, setting e.ID (increasing across calls).
	Record(ctx context.Context, e *Entry) error
	// Entries returns the entries f selects, ID descending.
	Entries(ctx context.Context, f Filter) ([]Entry, error)

	// CreateKey stores k (ID and Hash set by the caller, unique).
	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash returns the key whose Hash is hash, revoked or not, or ErrNotFound.
	KeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// Keys returns every key, newest first.
	Keys(ctx context.Context) ([]APIKey, error)
	// RevokeKey sets the key's RevokedAt (kept when already revoked);
	// ErrNotFound when there is no such key.
	RevokeKey(ctx context.Context, id string, at time.Time) error
}

// KeyPrefix starts every API key, so a key is recognizable in a
// configuration file or a secret scanner and never taken for a session token.
const KeyPrefix = "suadm_"

// NewKey returns a new API key (KeyPrefix then 256 random bits,
// base64url), its public id (16 hex digits) and the digest to store.
func NewKey() (key, id string, hash []byte) {
	b := make([]byte, 40)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:32])
	return key, hex.EncodeToString(b[32:]), HashKey(key)
}

// HashKey is the SHA-256 digest of key, the form a Store keeps.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// IsKey reports whether s has the shape of an API key.
func IsKey(s string) bool { return strings.HasPrefix(s, KeyPrefix) && len(s) == len(KeyPrefix)+43 }
