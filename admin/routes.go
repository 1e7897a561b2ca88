package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/user"
)

// MaxBodyBytes bounds an admin request body, in bytes.
const MaxBodyBytes = 64 << 10

// MaxReasonLength bounds a disable reason, in bytes.
const MaxReasonLength = 500

func (h *Handler) routes() {
	h.handle("GET /users", h.searchUsers)
	h.handle("POST /users", h.createUser)
	h.handle("GET /users/{id}", h.getUser)
	h.handle("PATCH /users/{id}/metadata", h.patchMetadata)
	h.handle("POST /users/{id}/disable", h.setDisabled(true))
	h.handle("POST /users/{id}/enable", h.setDisabled(false))
	h.handle("DELETE /users/{id}", h.deleteUser)
	h.handle("GET /users/{id}/sessions", h.listSessions)
	h.handle("DELETE /users/{id}/sessions", h.endSessions)
	h.handle("DELETE /users/{id}/sessions/{sid}", h.endSession)
	h.handle("GET /users/{id}/identities", h.listIdentities)
	h.handle("DELETE /users/{id}/identities/{provider}/{subject}", h.unlink)
	h.handle("DELETE /users/{id}/factors", h.resetFactors)
	h.handle("GET /audit", h.audit)
	h.handle("GET /keys", h.listKeys)
	h.handle("POST /keys", h.createKey)
	h.handle("DELETE /keys/{id}", h.revokeKey)
}

// mapErr maps the errors of the stores that AsError leaves as 500.
func mapErr(err error) error {
	switch {
	case errors.Is(err, user.ErrNotFound):
		return errNoUser
	case errors.Is(err, ErrNotFound):
		return errNoKey
	}
	return err
}

func invalid(format string, args ...any) error {
	return simpleuser.InvalidInput(fmt.Sprintf(format, args...))
}

// decode reads r's JSON body into dst (unknown members refused).
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxBodyBytes+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return invalid("body must be a JSON object of the documented fields (at most %d bytes): %v", MaxBodyBytes, err)
	}
	return nil
}

// userID reads the {id} path value.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("id must be a positive integer")
	}
	return id, nil
}

// text checks a free-text input.
func text(field, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return invalid("%s must be valid UTF-8 text of at most %d bytes without NUL", field, max)
	}
	return nil
}

// timeParam reads an RFC 3339 query parameter (zero when absent).
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalid("%s must be an RFC 3339 time", name)
	}
	return t, nil
}

// intParam reads a non-negative integer query parameter (0 when absent).
func intParam(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, invalid("%s must be a non-negative integer", name)
	}
	return n, nil
}

// UserPage is a page of GET /users: Next is the cursor of the following
// page, "" on the last.
type UserPage struct {
	Users []UserSummary `json:"users"`
	Next  string        `json:"next,omitempty"`
}

func (h *Handler) searchUsers(r *http.Request, _ actor) (any, error) {
	q := r.URL.Query()
	uq := UserQuery{Email: q.Get("email"), Status: q.Get("status"), Anonymous: q.Get("anonymous") == "true"}
	if err := text("email", uq.Email, 320); err != nil {
		return nil, err
	}
	if uq.Status != "" && uq.Status != StatusActive && uq.Status != StatusDisabled {
		return nil, invalid("status must be %q or %q", StatusActive, StatusDisabled)
	}
	var err error
	if uq.CreatedFrom, err = timeParam(r, "createdFrom"); err != nil {
		return nil, err
	}
	if uq.CreatedTo, err = timeParam(r, "createdTo"); err != nil {
		return nil, err
	}
	if c := q.Get("cursor"); c != "" {
		if uq.After, err = ParseCursor(c); err != nil {
			return nil, invalid("cursor must be the next value of a previous page")
		}
	}
	limit, err := intParam(r, "limit")
	if err != nil || limit > MaxLimit {
		return nil, invalid("limit must be an integer in [0, %d]", MaxLimit)
	}
	uq.Limit = ClampLimit(int(limit))
	if h.cfg.Search == nil {
		return nil, errNoSearch
	}
	us, err := h.cfg.Search.SearchUsers(r.Context(), uq)
	if err != nil {
		return nil, err
	}
	p := UserPage{Users: us}
	if p.Users == nil {
		p.Users = []UserSummary{}
	}
	if len(us) == uq.Limit {
		last := us[len(us)-1]
		p.Next = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.String()
	}
	return p, nil
}

// UserView is a user as the admin API shows it (no password hash).
type UserView struct {
	ID           int64          `json:"id"`
	Email        string         `json:"email,omitempty"`
	Anonymous    bool           `json:"anonymous"`
	Disabled     bool           `json:"disabled"`
	PasswordSet  bool           `json:"passwordSet"`
	Metadata     map[string]any `json:"metadata"`
	RegisterIP   string         `json:"registerIp,omitempty"`
	LoginIP      string         `json:"loginIp,omitempty"`
	LoginTime    time.Time      `json:"loginTime,omitzero"`
	LastActive   time.Time      `json:"lastActiveTime,omitzero"`
	Unregistered time.Time      `json:"unregisterTime,omitzero"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
}

func view(u *user.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Anonymous: !u.Registered(), Disabled: u.Disabled, PasswordSet: u.PasswordSet(),
		Metadata: u.Metadata, RegisterIP: u.RegisterIP, LoginIP: u.LoginIP, LoginTime: u.LoginTime,
		LastActive: u.LastActiveTime, Unregistered: u.UnregisterTime, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (h *Handler) getUser(r *http.Request, _ actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	u, err := h.cfg.Service.GetUser(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return view(u), nil
}

// CreateUserBody is the body of POST /users.
type CreateUserBody struct {
	Email    string         `json:"email"`
	Password string         `json:"password,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

func (h *Handler) createUser(r *http.Request, a actor) (any, error) {
	var b CreateUserBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	var u *user.User
	err := h.audited(r.Context(), a, Entry{Action: ActionUserCreate}, func(ctx context.Context, e *Entry) error {
		var err error
		u, err = h.cfg.Service.CreateUser(ctx, simpleuser.NewUser{Email: b.Email, Password: b.Password, Metadata: b.Metadata})
		if err == nil {
			e.TargetUserID = u.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return view(u), nil
}
