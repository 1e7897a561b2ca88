package simpleuser

import (
	"context"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/session"
)

// What users do with their own sessions: list them, end one, end the
// others. Each costs O(sessions of the user), at most
// Config.MaxSessionsPerUser.

// ErrSessionNotFound (404): the user has no live session of that id.
var ErrSessionNotFound = NewError(http.StatusNotFound, CodeSessionNotFound, "No such session.")

// SessionInfo is one live session of a user (ListSessions).
type SessionInfo struct {
	// ID is an opaque handle of the session (22 characters), for
	// EndSession: never the token, and neither the token nor the store's
	// key of the session can be derived from it (session.Manager.ID).
	ID string
	// Current reports whether this is the caller's session.
	Current bool
	// CreatedAt is when the session was issued (the login).
	CreatedAt time.Time
	// LastSeenAt is when the session was last used, to within
	// Config.ActiveTouchInterval (default 1 minute; with that interval
	// negative, the login time).
	LastSeenAt time.Time
	// ExpiresAt is when the session ends at the latest.
	ExpiresAt time.Time
	// IP and UserAgent are the client's at login ("" when unknown).
	IP, UserAgent string
	// Device is a short label of the user agent, such as "Firefox on
	// Linux" (session.Device); "" when there is none.
	Device string
}

// ListSessions returns the live sessions of userID, most recently used
// first; the one of currentToken (the caller's Client.Token; "" for none)
// has Current set.
func (s *Service) ListSessions(ctx context.Context, userID int64, currentToken string) ([]SessionInfo, error) {
	list, err := s.sessions.List(ctx, userID, currentToken)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(list))
	for i, in := range list {
		out[i] = SessionInfo{
			ID: in.ID, Current: in.Current, CreatedAt: in.CreatedAt, LastSeenAt: in.LastSeen, ExpiresAt: in.ExpiresAt,
			IP: in.IP, UserAgent: in.UserAgent, Device: session.Device(in.UserAgent),
		}
	}
	return out, nil
}

// EndSession ends the session of userID whose SessionInfo.ID is id (the
// caller's own included: that is a logout) and emits LoggedOut with that
// session's IP. 404 SESSION_NOT_FOUND when userID has no live session of
// that id, another user's included; 403 REAUTH_REQUIRED when it is not
// the caller's own session and the caller did not authenticate recently
// (StepUp).
func (s *Service) EndSession(ctx context.Context, userID int64, id string) error {
	if c, _ := ClientFrom(ctx); c.Token == "" || s.sessions.ID(session.Key(c.Token)) != id {
		if err := s.StepUp(ctx); err != nil { // another session: a sensitive action
			return err
		}
	}
	d, err := s.sessions.EndID(ctx, userID, id)
	if err != nil {
		return err
	}
	if d == nil {
		return ErrSessionNotFound
	}
	s.sessionsEnded(metrics.EndedByUser, 1)
	s.emit(ctx, hooks.Event{Type: hooks.LoggedOut, UserID: userID, IP: d.IP})
	return nil
}

// EndOtherSessions ends every session of userID but the one of keepToken
// (all of them when keepToken names none of the user's) and returns how
// many it ended (403 REAUTH_REQUIRED without a recent authentication:
// StepUp). RevokeSessions ends them all.
func (s *Service) EndOtherSessions(ctx context.Context, userID int64, keepToken string) (int, error) {
	if err := s.StepUp(ctx); err != nil {
		return 0, err
	}
	n, err := s.sessions.RevokeUserExcept(ctx, userID, keepToken)
	s.sessionsEnded(metrics.EndedLogoutAll, n)
	return n, err
}
