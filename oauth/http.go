package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds every call to a provider when no HTTP client is
// given.
const DefaultTimeout = 10 * time.Second

// maxBody caps how much of a provider's answer is read.
const maxBody = 1 << 20

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// httpClient returns the client carried in ctx under oauth2.HTTPClient, or
// a client with DefaultTimeout.
func httpClient(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		return c
	}
	return defaultClient
}

// withClient makes sure ctx carries an HTTP client for oauth2 and go-oidc.
func withClient(ctx context.Context) context.Context {
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, defaultClient)
}

// do sends req and returns the body of a 2xx answer. Other answers and
// transport failures become *ProviderError.
func do(ctx context.Context, provider, op string, req *http.Request) ([]byte, error) {
	resp, err := httpClient(ctx).Do(req.WithContext(ctx))
	if err != nil {
		return nil, transportError(provider, op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &ProviderError{Provider: provider, Op: op, Status: resp.StatusCode, Kind: ErrProviderUnavailable, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(provider, op, resp.StatusCode, errors.New(snippet(body)))
	}
	return body, nil
}

// getJSON GETs url with the bearer token (if any) and decodes the 2xx JSON
// answer into v.
func getJSON(ctx context.Context, provider, op, url, token string, header http.Header, v any) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	body, err := do(ctx, provider, op, req)
	if err != nil {
		return err
	}
	return decodeJSON(provider, op, body, v)
}

// decodeJSON decodes a 2xx body; a body that does not parse means the
// provider answered badly (502).
func decodeJSON(provider, op string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &ProviderError{Provider: provider, Op: op, Status: http.StatusOK, Kind: ErrProviderUnavailable,
			Err: fmt.Errorf("decoding response: %w", err)}
	}
	return nil
}

// snippet returns the start of a provider's error body, for logs. Error
// bodies carry error codes and descriptions, not tokens.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// exchangeError classifies an error from oauth2.Config.Exchange.
func exchangeError(provider string, err error) error {
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		cause := errors.New(snippet(re.Body))
		if re.ErrorCode != "" {
			cause = fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		if status >= 200 && status <= 299 {
			// An error body with a 2xx status (GitHub does this).
			return &ProviderError{Provider: provider, Op: "token", Status: status, Kind: ErrExchange, Err: cause}
		}
		return statusError(provider, "token", status, cause)
	case isTransport(err):
		return transportError(provider, "token", err)
	default:
		// A 2xx answer that does not parse or lacks access_token.
		return &ProviderError{Provider: provider, Op: "token", Status: http.StatusOK, Kind: ErrProviderUnavailable, Err: err}
	}
}
