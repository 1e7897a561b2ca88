package simpleuser_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/oauth"
)

// Sign-in with a provider without HTTP: the service makes the authorization
// URL for the device, and turns the provider's callback into a session as
// Login does. (Not run: it would call the real GitHub.)
func ExampleService_OAuthSignIn() {
	github, err := oauth.NewGitHub(oauth.Config{ClientID: os.Getenv("GITHUB_ID"), ClientSecret: os.Getenv("GITHUB_SECRET")})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := simpleuser.New(simpleuser.Config{
		Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "", nil }},
		OAuth: simpleuser.OAuthConfig{
			Providers:        []oauth.Provider{github},
			AllowedRedirects: map[string][]string{"github": {"https://app.example/api/oauth/github/callback"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	dev := simpleuser.Client{SSAID: "device-1"}

	// GET /api/oauth/github/start: send the browser to url.
	url, err := svc.OAuthStart(ctx, dev, "github", "https://app.example/api/oauth/github/callback")
	if err != nil {
		log.Fatal(err)
	}
	_ = url

	// GET /api/oauth/github/callback?code=...&state=..., from the same device.
	res, err := svc.OAuthSignIn(ctx, dev, "github", "STATE", "CODE", "")
	if err != nil {
		e := simpleuser.AsError(err) // e.g. 403 OAUTH_STATE, 502 OAUTH_PROVIDER_UNAVAILABLE
		log.Printf("%d %s", e.Status, e.Code)
		return
	}
	fmt.Println(res.UserID, res.Created)
	ids, _ := svc.Identities(ctx, res.UserID) // the user's provider accounts
	_ = ids
}
