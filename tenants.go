package simpleuser

import (
	"context"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/tenant"
)

// requestMemo is the tenant claims memo of the request carried by ctx.
func requestMemo(ctx context.Context) *tenant.Memo {
	if r := fromContext(ctx); r != nil {
		return &r.claims
	}
	return nil
}

func tenantEvent(e hooks.Event, c tenant.Claims) hooks.Event {
	e.TenantID, e.Roles = c.TenantID, c.Roles
	return e
}

// SwitchTenant moves the caller into tenantID (0: out of any tenant): a
// new session carries the tenant, the member's roles and permissions, and
// the caller's sign-in state and expiry; the session c presented ends
// (tenant.Service.Switch). Errors: 401 no token, bad token, a
// challenge-stage session, or a concurrent switch won; 403 NOT_A_MEMBER.
func (s *Service) SwitchTenant(ctx context.Context, c Client, tenantID int64) (*LoginResult, error) {
	if c.Token == "" {
		return nil, ErrAuthRequired
	}
	d, err := s.session(ctx, c.Token)
	if err == nil {
		err = fullSession(d)
	}
	if err != nil {
		return nil, err
	}
	tok, cl, err := s.tenants.Switch(ctx, c.Token, d, tenantID, ipString(c), textcheck.UserAgent(c.UserAgent), c.SSAID)
	if err != nil {
		return nil, err
	}
	s.obs.SessionCreated()
	s.sessionsEnded(metrics.EndedReplaced, 1) // the switch replaced the presented token
	return &LoginResult{Token: tok, ExpiresAt: d.ExpiresAt.UTC(), UserID: d.UserID, TenantID: cl.TenantID}, nil
}
