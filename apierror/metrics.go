package apierror

import (
	"slices"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/metrics"
)

// LoginResult is the result label (metrics.Observer.Login) of a login that
// ended with err: metrics.ResultSuccess, or its code in lower case when it
// is one of this package's Code* constants; any other code (an app hook's
// own, the factor and tenant flows') counts as CodeRejected, so the labels
// stay bounded.
func LoginResult(err error) string {
	if err == nil {
		return metrics.ResultSuccess
	}
	code := AsError(err).Code
	if !slices.Contains(codes, code) {
		code = CodeRejected
	}
	return metrics.Result(code)
}

// SendResult is the result label (metrics.Observer.CodeSend) of a code
// send that ended with err: sent, limited (429), invalid (other 4xx),
// unavailable (a backend, or 503) or failed.
func SendResult(err error) string {
	if err == nil {
		return metrics.SendSent
	}
	switch st := AsError(err).Status; {
	case st == 429:
		return metrics.SendLimited
	case st < 500:
		return metrics.SendInvalid
	case backend.Name(err) != "" || st == 503:
		return metrics.SendUnavailable
	}
	return metrics.SendFailed
}
