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
	"github.com/simpleuser/simpleuser/phone"
	"github.com/simpleuser/simpleuser/user"
)

// MaxBodyBytes bounds an admin request body, in bytes.
const MaxBodyBytes = 64 << 10

// MaxReasonLength bounds a disable reason, in bytes.
const MaxReasonLength = 500

// route is one admin endpoint: the mux pattern, what the OpenAPI
// document says of it (openapi.go), and the function that serves it.
type route struct {
	method, path, id, summary string
	path2                     any   // path parameters (a struct with path tags), nil for none
	query, body, data         any   // the query, body and data types, nil for none
	errs                      []int // error statuses beyond 400, 401, 403 and 503
	fn                        func(r *http.Request, a actor) (any, error)
}

func (h *Handler) table() []route {
	return append([]route{
		{"GET", "/users", "searchUsers", "Search users, newest first (keyset cursor)", nil, new(searchQuery), nil, new(UserPage), nil, h.searchUsers},
		{"POST", "/users", "createUser", "Create a registered user", nil, nil, new(CreateUserBody), new(UserView), []int{409}, h.createUser},
		{"GET", "/users/{id}", "getUser", "Get a user", new(userPath), nil, nil, new(UserView), []int{404}, h.getUser},
		{"PATCH", "/users/{id}/metadata", "patchUserMetadata", "Merge-patch a user's metadata (RFC 7386)", new(userPath), nil, new(map[string]any), new(UserView), []int{404, 409}, h.patchMetadata},
		{"POST", "/users/{id}/disable", "disableUser", "Disable a user and end all its sessions", new(userPath), nil, new(DisableBody), new(DisabledView), []int{404}, h.setDisabled(true)},
		{"POST", "/users/{id}/enable", "enableUser", "Enable a disabled user", new(userPath), nil, new(DisableBody), new(DisabledView), []int{404}, h.setDisabled(false)},
		{"POST", "/users/{id}/must-change-password", "requirePasswordChange", "Require a new password before any guarded route (403 MUST_CHANGE_PASSWORD)", new(userPath), nil, nil, new(MustChangeView), []int{404}, h.setMustChange(true)},
		{"DELETE", "/users/{id}/must-change-password", "clearPasswordChange", "Clear the must-change-password flag", new(userPath), nil, nil, new(MustChangeView), []int{404}, h.setMustChange(false)},
		{"DELETE", "/users/{id}", "deleteUser", "Delete a user (hard delete)", new(userPath), nil, nil, nil, []int{404}, h.deleteUser},
		{"GET", "/users/{id}/sessions", "listUserSessions", "List a user's live sessions", new(userPath), nil, nil, new([]SessionView), []int{404}, h.listSessions},
		{"DELETE", "/users/{id}/sessions", "endUserSessions", "End every session of a user", new(userPath), nil, nil, new(EndedView), []int{404}, h.endSessions},
		{"DELETE", "/users/{id}/sessions/{sid}", "endUserSession", "End one session of a user by its id", new(sessionPath), nil, nil, nil, []int{404}, h.endSession},
		{"GET", "/users/{id}/identities", "listUserIdentities", "List a user's sign-in accounts", new(userPath), nil, nil, new([]IdentityView), []int{404}, h.listIdentities},
		{"DELETE", "/users/{id}/identities/{provider}/{subject}", "unlinkUserIdentity", "Unlink a sign-in account from a user", new(identityPath), nil, nil, nil, []int{404, 409}, h.unlink},
		{"DELETE", "/users/{id}/factors", "resetUserFactors", "Remove every second factor of a user", new(userPath), nil, nil, nil, []int{404}, h.resetFactors},
		{"GET", "/audit", "listAudit", "Query the audit log, newest first", nil, new(auditQuery), nil, new(EntryPage), nil, h.audit},
		{"GET", "/keys", "listKeys", "List API keys", nil, nil, nil, new([]APIKey), nil, h.listKeys},
		{"POST", "/keys", "createKey", "Create an API key (shown once)", nil, nil, new(CreateKeyBody), new(NewKeyView), nil, h.createKey},
		{"DELETE", "/keys/{id}", "revokeKey", "Revoke an API key", new(keyPath), nil, nil, nil, []int{404}, h.revokeKey},
	}, h.tenantRoutes()...)
}

func (h *Handler) routes() {
	for _, rt := range h.table() {
		h.handle(rt.method+" "+rt.path, rt.fn)
	}
	h.mux.HandleFunc("GET /openapi.json", h.serveDocument)
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
	if p := q.Get("phone"); p != "" {
		e164, err := phone.Parse(p, "") // as stored: E.164 with its country code
		if err != nil {
			return nil, invalid("phone must be a valid number with its + country code (E.164)")
		}
		uq.Phone = e164
	}
	if uq.Status != "" && uq.Status != StatusActive && uq.Status != StatusDisabled && uq.Status != StatusSuspended {
		return nil, invalid("status must be %q, %q or %q", StatusActive, StatusDisabled, StatusSuspended)
	}
	var err error
	if uq.TenantID, err = intParam(r, "tenant"); err != nil {
		return nil, err
	}
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
	MustChange   bool           `json:"mustChangePassword"`
	Status       string         `json:"status" enum:"active,disabled,suspended"`
	StatusReason string         `json:"statusReason,omitempty"`
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
	return UserView{ID: u.ID, Email: u.Email, Anonymous: !u.Registered(), Disabled: u.Disabled, MustChange: u.MustChangePassword, Status: u.Status(), StatusReason: u.StatusReason, PasswordSet: u.PasswordSet(),
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
