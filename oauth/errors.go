package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// The sentinel errors of the package. Test them with errors.Is; the errors
// returned wrap them, often in a *ProviderError that says which provider and
// which call failed. HTTPStatus maps each to the status the service answers.
var (
	// ErrUnknownProvider: no provider of that name is configured. HTTP 404.
	ErrUnknownProvider = errors.New("oauth: unknown provider")
	// ErrRedirectNotAllowed: the redirect URI is not one of the provider's
	// FlowOptions.AllowedRedirects (exact match). HTTP 400.
	ErrRedirectNotAllowed = errors.New("oauth: redirect URI not allowed")
	// ErrSSAIDRequired: Start was called without a device id to bind the
	// state to. HTTP 400.
	ErrSSAIDRequired = errors.New("oauth: ssaid required")
	// ErrDenied: the provider redirected back with an error parameter (the
	// user refused consent, access_denied, ...). HTTP 403.
	ErrDenied = errors.New("oauth: authorization denied")
	// ErrBadState: the state is missing, unknown, expired, already used, or
	// was started for another provider or another device (ssaid). HTTP 403.
	ErrBadState = errors.New("oauth: invalid or expired state")
	// ErrExchange: the provider rejected the authorization code or the access
	// token (HTTP 4xx, or an OAuth error body such as invalid_grant or
	// GitHub's bad_verification_code), or the callback carried no code.
	// HTTP 403.
	ErrExchange = errors.New("oauth: code exchange rejected")
	// ErrBadToken: the ID token is missing, malformed, badly signed, issued
	// by another issuer or for another audience, expired, or carries a nonce
	// other than the one the flow sent. HTTP 403.
	ErrBadToken = errors.New("oauth: invalid ID token")
	// ErrProviderUnavailable: the provider could not be reached (network
	// error, timeout, rate limit) or answered with a 5xx or an unreadable
	// response. HTTP 503 when it was not reached or asked us to slow down,
	// 502 when it answered badly (see HTTPStatus).
	ErrProviderUnavailable = errors.New("oauth: provider unavailable")
)

// ProviderError describes a failed call to a provider. It matches, through
// errors.Is, its Kind (ErrExchange, ErrBadToken or ErrProviderUnavailable)
// and its cause.
type ProviderError struct {
	Provider string // provider name, e.g. "google"
	Op       string // "token", "userinfo", "emails", "jwks", "id_token", "discovery"
	Status   int    // HTTP status the provider answered; 0 if it gave no answer
	Kind     error  // the sentinel this error stands for
	Err      error  // cause, for logs; may hold provider error text, never tokens
}

// Error describes the failure: provider, call, HTTP status and cause.
func (e *ProviderError) Error() string {
	s := fmt.Sprintf("oauth: %s %s", e.Provider, e.Op)
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause.
func (e *ProviderError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// HTTPStatus returns the HTTP status a service should answer for err:
//
//	ErrRedirectNotAllowed, ErrSSAIDRequired          400 Bad Request
//	ErrDenied, ErrBadState, ErrExchange, ErrBadToken 403 Forbidden
//	ErrUnknownProvider                               404 Not Found
//	ErrProviderUnavailable, provider answered 5xx or
//	  an unreadable body                             502 Bad Gateway
//	ErrProviderUnavailable, provider not reached
//	  (network error, timeout) or answered 429       503 Service Unavailable
//	anything else (e.g. the state store failed)      500 (callers usually map
//	                                                 backend errors to 503 first)
//
// 403 is used for every "this login attempt is not valid" outcome so that a
// client learns nothing about which check failed; the cause stays in the
// error for logs.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrRedirectNotAllowed), errors.Is(err, ErrSSAIDRequired):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownProvider):
		return http.StatusNotFound
	case errors.Is(err, ErrDenied), errors.Is(err, ErrBadState),
		errors.Is(err, ErrExchange), errors.Is(err, ErrBadToken):
		return http.StatusForbidden
	case errors.Is(err, ErrProviderUnavailable):
		var pe *ProviderError
		if errors.As(err, &pe) && pe.Status != 0 && pe.Status != http.StatusTooManyRequests {
			return http.StatusBadGateway
		}
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// transportError wraps an error from sending a request (no HTTP answer):
// always ErrProviderUnavailable.
func transportError(provider, op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL may carry query parameters (e.g. appsecret_proof): keep it
		// out of the error, which reaches the logs.
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return &ProviderError{Provider: provider, Op: op, Kind: ErrProviderUnavailable, Err: err}
}

// statusError classifies a non-2xx HTTP answer: 429 and 5xx mean the
// provider is unavailable, any other 4xx that it rejected what we sent.
func statusError(provider, op string, status int, err error) error {
	kind := ErrExchange
	if status >= 500 || status == http.StatusTooManyRequests {
		kind = ErrProviderUnavailable
	}
	return &ProviderError{Provider: provider, Op: op, Status: status, Kind: kind, Err: err}
}

// isTransport reports whether err is a failure to get any HTTP answer.
func isTransport(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}
