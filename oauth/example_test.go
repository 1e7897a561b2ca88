package oauth_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/oauth"
)

// A service wires one Flow for all its providers and calls it from its two
// routes. (Not run: it would call the real Google.)
func ExampleFlow() {
	google, err := oauth.NewGoogle(oauth.Config{ClientID: "CLIENT_ID", ClientSecret: "CLIENT_SECRET"})
	if err != nil {
		log.Fatal(err)
	}
	flow, err := oauth.NewFlow(memory.New(), []oauth.Provider{google}, oauth.FlowOptions{
		AllowedRedirects: map[string][]string{"google": {"https://app.example/auth/callback/google"}},
		HTTPClient:       &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// GET /auth/start/google, device "ssaid-1": send the browser to authURL.
	authURL, err := flow.Start(ctx, "google", "ssaid-1", "https://app.example/auth/callback/google")
	if err != nil {
		log.Fatal(err) // answer oauth.HTTPStatus(err)
	}
	_ = authURL

	// GET /auth/callback/google?state=...&code=...&error=..., same device.
	prof, redirect, err := flow.Callback(ctx, "google", "ssaid-1", "STATE", "CODE", "")
	if err != nil {
		log.Printf("login failed: %v (answer %d)", err, oauth.HTTPStatus(err))
		return
	}
	// Find or create the user by (prof.Provider, prof.Subject); link to an
	// existing account by email only if prof.EmailVerified.
	_, _ = prof, redirect
}
