package simpleuser

import (
	"context"
	"slices"

	"github.com/simpleuser/simpleuser/apierror"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/metrics"
)

// What the service reports to Config.Metrics (package metrics). With the
// default metrics.Nop every helper here returns at its first line.

// Metrics returns the observer the service reports to (Config.Metrics;
// metrics.Nop when none was given).
func (s *Service) Metrics() metrics.Observer { return s.obs }

// ObserveError reports err to the metrics of the service whose request ctx
// carries (Service.WithClient) when a backend caused it: one
// BackendError naming the backend. envelope.Error calls it for every
// error it answers, so each request answered 503 for a backend counts
// once; a busy password hasher is counted by the hasher itself. Without a
// request in ctx, or for any other error, it does nothing.
func ObserveError(ctx context.Context, err error) {
	if r := fromContext(ctx); r != nil {
		r.svc.observeError(err)
	}
}

func (s *Service) observeError(err error) {
	if s.obsOn {
		if name := backend.Name(err); name != "" {
			s.obs.BackendError(name)
		}
	}
}

// observeLogin reports a login by method (and provider) that ended with
// res and err: a challenge-stage session is ResultMFARequired.
func (s *Service) observeLogin(method, provider string, res *LoginResult, err error) {
	if !s.obsOn {
		return
	}
	if method == metrics.MethodOAuth && !slices.Contains(s.OAuthProviders(), provider) {
		provider = metrics.ProviderUnknown // the name comes from the request path
	}
	result := apierror.LoginResult(err)
	if err == nil && res != nil && res.MFARequired {
		result = metrics.ResultMFARequired
	}
	s.obs.Login(method, provider, result)
}

// observeSend reports a SendCode for purpose that ended with err.
func (s *Service) observeSend(purpose string, err error) {
	if !s.obsOn {
		return
	}
	if !ValidPurpose(purpose) {
		purpose = metrics.PurposeInvalid
	}
	s.obs.CodeSend(purpose, apierror.SendResult(err))
}

// sessionsEnded reports n sessions ended for reason.
func (s *Service) sessionsEnded(reason string, n int) {
	if s.obsOn && n > 0 {
		s.obs.SessionsEnded(reason, n)
	}
}

// revokeUser is sessions.RevokeUser, reporting the sessions ended for reason.
func (s *Service) revokeUser(ctx context.Context, userID int64, reason string) (int, error) {
	n, err := s.sessions.RevokeUser(ctx, userID)
	s.sessionsEnded(reason, n)
	return n, err
}
