package admin

import "time"

// The request and answer shapes of the admin API that its handlers and its
// OpenAPI document (openapi.go) share.

type userPath struct {
	ID int64 `path:"id" minimum:"1" description:"The user's id."`
}

type sessionPath struct {
	ID  int64  `path:"id" minimum:"1" description:"The user's id."`
	SID string `path:"sid" description:"The session's public id (22 characters), as listed."`
}

type identityPath struct {
	ID       int64  `path:"id" minimum:"1" description:"The user's id."`
	Provider string `path:"provider" description:"The provider's name (google, github...)."`
	Subject  string `path:"subject" description:"The provider's id of the account."`
}

type keyPath struct {
	ID string `path:"id" description:"The API key's id."`
}

type searchQuery struct {
	Email       string    `query:"email" description:"The whole address, compared by its canonical key (case-insensitive)."`
	Phone       string    `query:"phone" description:"The number with its + country code; matched in E.164."`
	Status      string    `query:"status" enum:"active,disabled,suspended" description:"active: not disabled; disabled: disabled by an administrator (suspended included); suspended: suspended only."`
	Tenant      int64     `query:"tenant" minimum:"1" description:"Members of this tenant (its id, as in /tenants/{tid}), whatever their membership's status."`
	CreatedFrom time.Time `query:"createdFrom" description:"Created at or after (RFC 3339)."`
	CreatedTo   time.Time `query:"createdTo" description:"Created before (RFC 3339)."`
	Anonymous   bool      `query:"anonymous" description:"Include anonymous users (no address, still on their device id)."`
	Cursor      string    `query:"cursor" description:"The next value of the previous page."`
	Limit       int       `query:"limit" minimum:"0" maximum:"500" description:"Page size (0: 50)."`
}

type auditQuery struct {
	ActorUserID  int64     `query:"actorUserId" minimum:"0" description:"Entries of this admin user."`
	ActorKeyID   string    `query:"actorKeyId" description:"Entries of this API key."`
	Action       string    `query:"action" description:"One action (user.disable, key.create...)."`
	TargetUserID int64     `query:"targetUserId" minimum:"0" description:"Entries about this user."`
	From         time.Time `query:"from" description:"At or after (RFC 3339)."`
	To           time.Time `query:"to" description:"Before (RFC 3339)."`
	Cursor       int64     `query:"cursor" minimum:"0" description:"The next value of the previous page."`
	Limit        int       `query:"limit" minimum:"0" maximum:"500" description:"Page size (0: 50)."`
}

// DisabledView answers disable and enable.
type DisabledView struct {
	ID       int64  `json:"id"`
	Disabled bool   `json:"disabled"`
	Status   string `json:"status" enum:"active,disabled,suspended"`
}

// MustChangeView answers the must-change-password routes.
type MustChangeView struct {
	ID                 int64 `json:"id"`
	MustChangePassword bool  `json:"mustChangePassword"`
}

// EndedView answers DELETE /users/{id}/sessions.
type EndedView struct {
	Ended int `json:"ended" description:"How many sessions were ended."`
}

// IdentityView is one sign-in account linked to a user.
type IdentityView struct {
	Provider string    `json:"provider"`
	Subject  string    `json:"subject"`
	Email    string    `json:"email,omitempty"`
	LinkedAt time.Time `json:"linkedAt,omitzero"`
}
