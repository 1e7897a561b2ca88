package handlers

// Request and response types of the self-service session routes (see
// routes_sessions.go).

import "github.com/swaggest/jsonschema-go"

// sessionItem is one live session of the caller.
type sessionItem struct {
	ID         string `json:"id" required:"true" minLength:"22" maxLength:"22" pattern:"^[A-Za-z0-9_-]{22}$" description:"Opaque handle of the session, for DELETE /user-center/sessions/{id}: never the token, and neither the token nor the session's storage key can be derived from it."`
	Current    bool   `json:"current" required:"true" description:"Whether this is the session of the request's own token."`
	CreatedAt  string `json:"createdAt" required:"true" format:"date-time" description:"When the session was issued (the login)."`
	LastSeenAt string `json:"lastSeenAt" required:"true" format:"date-time" description:"When the session was last used, to within a minute (the service's ActiveTouchInterval)."`
	ExpiresAt  string `json:"expiresAt" required:"true" format:"date-time" description:"When the session ends at the latest."`
	IP         string `json:"ip" required:"true" description:"The client address at login; empty when unknown."`
	UserAgent  string `json:"userAgent" required:"true" description:"The User-Agent header at login; empty when none was sent."`
	Device     string `json:"device" required:"true" description:"A short label of the user agent, such as \"Firefox on Linux\" or \"curl\"; empty when none was sent."`
}

// sessionList is the data of GET /user-center/sessions.
type sessionList []sessionItem

// sessionPath is the path of DELETE /user-center/sessions/{id}.
type sessionPath struct {
	ID string `path:"id" required:"true" description:"The id of one of the caller's sessions, as GET /user-center/sessions lists it."`
}

// logoutAllBody is the (optional) body of POST /user-center/logout-all.
type logoutAllBody struct {
	IncludeCurrent bool `json:"includeCurrent,omitempty" default:"false" description:"Also end the caller's own session (a logout everywhere). Default false: the caller stays signed in."`
}

// logoutAllData is the data of POST /user-center/logout-all.
type logoutAllData struct {
	Ended int `json:"ended" required:"true" minimum:"0" description:"How many sessions were ended."`
}

// PrepareJSONSchema describes the list in the OpenAPI document.
func (sessionList) PrepareJSONSchema(s *jsonschema.Schema) error {
	s.WithDescription("The caller's live sessions, most recently used first (an empty array when none).")
	return nil
}
