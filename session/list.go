package session

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
)

// Info is one live session as its user sees it (Manager.List).
type Info struct {
	// ID is the session's public handle (Manager.ID): stable for the
	// session's life, never the token nor its store key.
	ID string
	// Current reports whether this is the session of the token given to List.
	Current bool
	Data
}

// IDLength is the length of a session id in characters.
const IDLength = 22

// ID returns the public id of the session whose store key is key:
// base64url (RFC 4648 §5, no padding) of the first 128 bits of
// HMAC-SHA-256(IDKey, "session-id\x00" + key), 22 characters. It is
// one-way: neither the store key nor the token can be derived from it, so
// a user may hold and show it freely; and ending a session by its id needs
// only the user's own index, not a scan of the store.
func (m *Manager) ID(key string) string {
	h := hmac.New(sha256.New, m.IDKey)
	h.Write([]byte("session-id\x00"))
	h.Write([]byte(key))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// List returns the live sessions of userID, most recently seen first, the
// one of token (if any) marked Current. It costs one index read and one
// batched body read (BatchFinder) or one read per session: O(sessions of
// the user), which MaxPerUser bounds.
func (m *Manager) List(ctx context.Context, userID int64, token string) ([]Info, error) {
	now := m.now()
	keys, err := m.Index.List(ctx, userID, now)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	bodies, err := m.findMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	current := ""
	if len(token) == TokenLength {
		current = Key(token)
	}
	out := make([]Info, 0, len(keys))
	for i, b := range bodies {
		var d Data
		if b == nil || Decode(b, &d) != nil || d.UserID != userID || !now.Before(m.expiry(&d)) {
			continue
		}
		d.LastSeen = m.lastSeen(&d)
		out = append(out, Info{ID: m.ID(keys[i]), Current: keys[i] == current, Data: d})
	}
	slices.SortFunc(out, func(a, b Info) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (m *Manager) findMany(ctx context.Context, keys []string) ([][]byte, error) {
	if bf, ok := m.Store.(BatchFinder); ok {
		return bf.FindMany(ctx, keys)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		b, found, err := m.Store.Find(k)
		if err != nil {
			return nil, err
		}
		if found {
			out[i] = b
		}
	}
	return out, nil
}

// EndID ends the session of userID whose public id is id and returns what
// it held, or nil when userID has no live session of that id (another
// user's id is not found either). It reads the user's index, not the store.
func (m *Manager) EndID(ctx context.Context, userID int64, id string) (*Data, error) {
	if len(id) != IDLength {
		return nil, nil
	}
	keys, err := m.Index.List(ctx, userID, m.now())
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if m.ID(k) != id {
			continue
		}
		d, err := m.endKey(ctx, k)
		if err != nil || d == nil || d.UserID != userID {
			return nil, err
		}
		return d, nil
	}
	return nil, nil
}

// RevokeUserExcept ends every session of userID but the one of token
// (none kept when token names no session of userID) and returns how many
// it ended. It costs O(sessions of the user): one index read, one batched
// delete (BatchDeleter) and one index removal. A session is removed from
// the index only after its body is gone, so a failure part-way leaves the
// rest indexed, still revocable; like RevokeUser, it runs detached from
// ctx's cancellation (bounded by revokeTimeout). A session created while it
// runs may survive, as one created just after would.
func (m *Manager) RevokeUserExcept(ctx context.Context, userID int64, token string) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	keys, err := m.Index.List(ctx, userID, m.now())
	if err != nil {
		return 0, err
	}
	keep := Key(token)
	others := slices.DeleteFunc(keys, func(k string) bool { return k == keep })
	if err := m.endKeys(ctx, userID, others); err != nil {
		return 0, err
	}
	return len(others), nil
}
