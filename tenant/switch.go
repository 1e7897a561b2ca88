package tenant

import (
	"context"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/session"
)

// Switch moves the session of token (whose body is d, a full session)
// into tenantID (0: out of any tenant): it creates a new session with
// d's sign-in state and expiry, the claims of tenantID and the client's
// ip and userAgent, then ends the old one, so its token dies. When the
// old one is already gone (a concurrent switch or logout won) the new one
// is ended too and session.ErrNotFound returned. ErrNotMember when the
// user has no active membership of tenantID. It emits TenantSwitched.
func (s *Service) Switch(ctx context.Context, token string, d *session.Data, tenantID int64, ip, userAgent, ssaid string) (string, Claims, error) {
	var cl Claims
	if tenantID != 0 {
		var err error
		if cl, err = s.Claims(ctx, d.UserID, tenantID); err != nil {
			return "", Claims{}, err
		}
	}
	nd := *d
	nd.IP, nd.UserAgent = ip, userAgent
	cl.Apply(&nd)
	tok, err := s.Manager.Create(ctx, nd)
	if err != nil {
		return "", Claims{}, err
	}
	if old, err := s.Manager.End(ctx, token); err != nil || old == nil {
		_ = s.Manager.Revoke(context.WithoutCancel(ctx), tok)
		if err == nil {
			err = session.ErrNotFound
		}
		return "", Claims{}, err
	}
	s.emit(ctx, hooks.Event{Type: hooks.TenantSwitched, UserID: d.UserID, IP: ip, SSAID: ssaid, TenantID: cl.TenantID, Roles: cl.Roles})
	return tok, cl, nil
}

func (s *Service) emit(ctx context.Context, e hooks.Event) {
	if s.Emit != nil {
		s.Emit(ctx, e)
	}
}
