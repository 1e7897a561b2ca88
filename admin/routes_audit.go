package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// EntryPage is a page of GET /audit: Next is the cursor of the following
// page, "" on the last.
type EntryPage struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next,omitempty"`
}

func (h *Handler) audit(r *http.Request, _ actor) (any, error) {
	q := r.URL.Query()
	f := Filter{ActorKeyID: q.Get("actorKeyId"), Action: q.Get("action")}
	if err := text("actorKeyId", f.ActorKeyID, 64); err != nil {
		return nil, err
	}
	if err := text("action", f.Action, 64); err != nil {
		return nil, err
	}
	var err error
	if f.ActorUserID, err = intParam(r, "actorUserId"); err != nil {
		return nil, err
	}
	if f.TargetUserID, err = intParam(r, "targetUserId"); err != nil {
		return nil, err
	}
	if f.Before, err = intParam(r, "cursor"); err != nil {
		return nil, err
	}
	if f.From, err = timeParam(r, "from"); err != nil {
		return nil, err
	}
	if f.To, err = timeParam(r, "to"); err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit")
	if err != nil || limit > MaxLimit {
		return nil, invalid("limit must be an integer in [0, %d]", MaxLimit)
	}
	f.Limit = ClampLimit(int(limit))
	es, err := h.cfg.Store.Entries(r.Context(), f)
	if err != nil {
		return nil, err
	}
	p := EntryPage{Entries: es}
	if p.Entries == nil {
		p.Entries = []Entry{}
	}
	if len(es) == f.Limit {
		p.Next = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	return p, nil
}

func (h *Handler) listKeys(r *http.Request, _ actor) (any, error) {
	ks, err := h.cfg.Store.Keys(r.Context())
	if ks == nil {
		ks = []APIKey{}
	}
	return ks, err
}

// CreateKeyBody is the body of POST /keys.
type CreateKeyBody struct {
	Name string `json:"name"` // a label, 1 to 100 bytes
}

// NewKeyView answers POST /keys: Key is shown this once and never again.
type NewKeyView struct {
	APIKey
	Key string `json:"key"`
}

func (h *Handler) createKey(r *http.Request, a actor) (any, error) {
	var b CreateKeyBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	if b.Name == "" {
		return nil, invalid("name is required")
	}
	if err := text("name", b.Name, 100); err != nil {
		return nil, err
	}
	key, id, hash := NewKey()
	k := APIKey{ID: id, Name: b.Name, Hash: hash, CreatedAt: h.cfg.Now().UTC().Truncate(time.Microsecond), CreatedBy: by(a)}
	err := h.audited(r.Context(), a, Entry{Action: ActionKeyCreate, Target: id}, func(ctx context.Context, _ *Entry) error {
		return h.cfg.Store.CreateKey(ctx, &k)
	})
	if err != nil {
		return nil, err
	}
	return NewKeyView{APIKey: k, Key: key}, nil
}

func (h *Handler) revokeKey(r *http.Request, a actor) (any, error) {
	id := r.PathValue("id")
	err := h.audited(r.Context(), a, Entry{Action: ActionKeyRevoke, Target: id}, func(ctx context.Context, _ *Entry) error {
		return h.cfg.Store.RevokeKey(ctx, id, h.cfg.Now())
	})
	return nil, err
}

// by names an actor in APIKey.CreatedBy: "user:<id>" or "key:<id>".
func by(a actor) string {
	if a.keyID != "" {
		return "key:" + a.keyID
	}
	return "user:" + strconv.FormatInt(a.userID, 10)
}
