package admin

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Statuses a UserQuery selects by.
const (
	StatusActive    = "active"    // registered, not disabled
	StatusDisabled  = "disabled"  // disabled by an administrator, suspended included
	StatusSuspended = "suspended" // suspended by an administrator
)

// UserQuery selects users for the admin search, newest first (created_at
// then id, descending). Zero fields do not filter. Anonymous placeholders
// (no address, still holding an ssaid) are left out unless Anonymous.
type UserQuery struct {
	// Email matches the address case-insensitively (whole address).
	Email string
	// Phone matches the number exactly, in E.164 (user.User.Phone).
	Phone string
	// Status is "", StatusActive, StatusDisabled or StatusSuspended.
	Status string
	// TenantID selects the members of that tenant (a membership of any
	// status; package tenant), by the id the /tenants routes use.
	TenantID int64
	// CreatedFrom and CreatedTo bound the creation time: [From, To).
	CreatedFrom, CreatedTo time.Time
	// After is the cursor of the previous page (UserPage.Next); nil for the first.
	After     *Cursor
	Anonymous bool
	// Limit is the page size, at most MaxLimit (0: DefaultLimit).
	Limit int
}

// UserSummary is one user as the search lists it.
type UserSummary struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Disabled  bool      `json:"disabled"`
	Anonymous bool      `json:"anonymous,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	LoginTime time.Time `json:"loginTime,omitzero"`
}

// Cursor is a keyset position in the search order: the (CreatedAt, ID) of
// the last user of a page; the next page starts strictly after it.
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// String encodes c for a URL: "<unix microseconds>.<id>".
func (c Cursor) String() string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCursor decodes Cursor.String's form.
func ParseCursor(s string) (*Cursor, error) {
	a, b, ok := strings.Cut(s, ".")
	us, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || id <= 0 {
		return nil, fmt.Errorf("admin: malformed cursor %q", s)
	}
	return &Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// Searcher finds users for the admin API. admin/postgres.Store and
// admin/memory.Searcher implement it.
type Searcher interface {
	// SearchUsers returns at most q.Limit users matching q, newest first.
	SearchUsers(ctx context.Context, q UserQuery) ([]UserSummary, error)
}
