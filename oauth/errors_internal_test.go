package oauth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestTransportErrorKeepsTheURLOut(t *testing.T) {
	cause := &url.Error{Op: "Get", URL: "https://graph.example/me?appsecret_proof=SECRETPROOF", Err: errors.New("connection refused")}
	err := transportError("facebook", "userinfo", cause)
	if strings.Contains(err.Error(), "SECRETPROOF") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error text %q", err)
	}
	if !errors.Is(err, ErrProviderUnavailable) {
		t.Fatal("lost its kind")
	}
}
