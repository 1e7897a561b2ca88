package handlers

import (
	"net/http"

	"github.com/simpleuser/simpleuser/session"
)

// sessionRoutes are the self-service session endpoints: a user lists their
// live sessions and ends one, or all but the current one. Each costs
// O(sessions of the user), which the service caps (Config.MaxSessionsPerUser).
var sessionRoutes = []route{
	{
		method: http.MethodGet, path: "/user-center/sessions",
		summary: "The caller's live sessions",
		description: "Every live session of the user of the token, most recently used first, the request's own marked current. " +
			"lastSeenAt is recorded at most once a minute per session, so using a session costs no extra write.",
		tags: []string{"user-center"}, token: tokenRequired, data: new(sessionList),
		errors: []routeError{errQuery, errSession, errDisabled, errBackend},
		handle: listSessions,
	},
	{
		method: http.MethodDelete, path: "/user-center/sessions/{id}",
		summary: "End one of the caller's sessions",
		description: "Ends the caller's session of that id (from GET /user-center/sessions), on every device and instance at once; ending the current one is a logout. " +
			"An id that is not one of the caller's live sessions, another user's included, is 404.",
		tags: []string{"user-center"}, token: tokenRequired, query: new(sessionPath),
		errors: []routeError{errQuery, errSession, errStepUp,
			{http.StatusNotFound, "The caller has no live session of that id (SESSION_NOT_FOUND)."},
			errBackend},
		handle: endSession,
	},
	{
		method: http.MethodPost, path: "/user-center/logout-all",
		summary:     "End the caller's other sessions",
		description: "Ends every session of the user but the request's own; with includeCurrent, that one too. The body is optional.",
		tags:        []string{"user-center"}, token: tokenRequired, body: new(logoutAllBody), bodyOptional: true, data: new(logoutAllData),
		errors: []routeError{errInput, errSession, errStepUp, errTooLarge, errMedia, errBackend},
		handle: logoutAll,
	},
}

// GET /user-center/sessions
func listSessions(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	list, err := c.s.svc.ListSessions(c.r.Context(), u.ID, c.client.Token)
	if err != nil {
		return nil, err
	}
	out := make(sessionList, len(list))
	for i, s := range list {
		out[i] = sessionItem{
			ID: s.ID, Current: s.Current, CreatedAt: formatTime(s.CreatedAt), LastSeenAt: formatTime(s.LastSeenAt),
			ExpiresAt: formatTime(s.ExpiresAt), IP: s.IP, UserAgent: s.UserAgent, Device: s.Device,
		}
	}
	return &out, nil
}

// DELETE /user-center/sessions/{id}
func endSession(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var in sessionPath
	if err := c.decodeQuery(&in); err != nil {
		return nil, err
	}
	if err := c.s.svc.EndSession(c.r.Context(), u.ID, in.ID); err != nil {
		return nil, err
	}
	if c.client.Token != "" && c.s.svc.Sessions().ID(session.Key(c.client.Token)) == in.ID {
		c.sessionEnded(c.client.Token) // the caller ended its own session
	}
	return nil, nil
}

// POST /user-center/logout-all
func logoutAll(c *call) (any, error) {
	u, err := c.sessionUser()
	if err != nil {
		return nil, err
	}
	var in logoutAllBody
	if _, err := c.decodeBody(&in); err != nil {
		return nil, err
	}
	ctx := c.r.Context()
	var n int
	if in.IncludeCurrent {
		if err := c.s.svc.StepUp(ctx); err != nil {
			return nil, err
		}
		n, err = c.s.svc.RevokeSessions(ctx, u.ID)
	} else {
		n, err = c.s.svc.EndOtherSessions(ctx, u.ID, c.client.Token)
	}
	if err != nil {
		return nil, err
	}
	if in.IncludeCurrent {
		c.sessionEnded(c.client.Token)
	}
	return &logoutAllData{Ended: n}, nil
}
