package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/internal/testclock"
	"github.com/simpleuser/simpleuser/oauth"
	"github.com/simpleuser/simpleuser/oauth/oauthtest"
)

const device = "ssaid-device-1"

func callbackURL(name string) string { return "https://app.example/auth/callback/" + name }

// env is one Flow wired to fake providers.
type env struct {
	flow  *oauth.Flow
	store *memory.Store
	clock *testclock.Clock
	fakes map[oauthtest.Kind]*oauthtest.Server
}

func newEnv(t *testing.T, kinds ...oauthtest.Kind) *env {
	t.Helper()
	e := &env{store: memory.New(), clock: testclock.New(time.Time{}), fakes: map[oauthtest.Kind]*oauthtest.Server{}}
	var providers []oauth.Provider
	redirects := map[string][]string{}
	for _, k := range kinds {
		f := oauthtest.NewServer(t, k)
		e.fakes[k] = f
		providers = append(providers, f.Provider(t))
		redirects[string(k)] = []string{callbackURL(string(k))}
	}
	flow, err := oauth.NewFlow(e.store, providers, oauth.FlowOptions{
		AllowedRedirects: redirects,
		Now:              e.clock.Now,
		HTTPClient:       &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.flow = flow
	return e
}

// start runs Start for kind on device and returns the authorization URL.
func (e *env) start(t *testing.T, k oauthtest.Kind) string {
	t.Helper()
	authURL, err := e.flow.Start(context.Background(), string(k), device, callbackURL(string(k)))
	if err != nil {
		t.Fatalf("Start(%s): %v", k, err)
	}
	return authURL
}

// consent runs Start and the consent step, returning code and state.
func (e *env) consent(t *testing.T, k oauthtest.Kind) (codeValue, state string) {
	t.Helper()
	codeValue, state, err := e.fakes[k].Authorize(e.start(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return codeValue, state
}

func (e *env) callback(k oauthtest.Kind, ssaid, state, codeValue string) (*oauth.Profile, string, error) {
	return e.flow.Callback(context.Background(), string(k), ssaid, state, codeValue, "")
}

func wantErr(t *testing.T, err, want error, status int) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if got := oauth.HTTPStatus(err); got != status {
		t.Fatalf("HTTPStatus(%v) = %d, want %d", err, got, status)
	}
}

func TestFlowSuccess(t *testing.T) {
	tests := []struct {
		kind         oauthtest.Kind
		subject      string
		email        string
		verified     bool
		pkce, nonce  bool
		scopeSnippet string
	}{
		{oauthtest.Google, "Sub-google-AbC123", "Someone@Example.com", true, true, true, "openid email profile"},
		{oauthtest.GitHub, "583231", "Someone@Example.com", true, true, false, "read:user user:email"},
		{oauthtest.Facebook, "Sub-facebook-AbC123", "Someone@Example.com", true, false, false, "email public_profile"},
		{oauthtest.X, "Sub-x-AbC123", "", false, true, false, "users.read tweet.read"},
		{oauthtest.TikTok, "Sub-tiktok-AbC123", "", false, true, false, "user.info.basic"},
		{oauthtest.LinkedIn, "Sub-linkedin-AbC123", "Someone@Example.com", true, false, true, "openid profile email"},
		{oauthtest.OIDC, "Sub-oidc-AbC123", "Someone@Example.com", true, true, true, "openid email profile"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			e := newEnv(t, tt.kind)
			authURL := e.start(t, tt.kind)
			q := mustQuery(t, authURL)
			if got := q.Get("code_challenge") != ""; got != tt.pkce {
				t.Errorf("code_challenge sent = %v, want %v", got, tt.pkce)
			}
			if tt.pkce && q.Get("code_challenge_method") != "S256" {
				t.Errorf("code_challenge_method = %q", q.Get("code_challenge_method"))
			}
			if got := q.Get("nonce") != ""; got != tt.nonce {
				t.Errorf("nonce sent = %v, want %v", got, tt.nonce)
			}
			if q.Get("scope") != tt.scopeSnippet {
				t.Errorf("scope = %q, want %q", q.Get("scope"), tt.scopeSnippet)
			}
			if len(q.Get("state")) != 43 { // 32 bytes, base64url
				t.Errorf("state %q is not 32 random bytes in base64url", q.Get("state"))
			}
			c, state, err := e.fakes[tt.kind].Authorize(authURL)
			if err != nil {
				t.Fatal(err)
			}
			prof, redirect, err := e.callback(tt.kind, device, state, c)
			if err != nil {
				t.Fatalf("Callback: %v", err)
			}
			want := oauth.Profile{Provider: string(tt.kind), Subject: tt.subject, Email: tt.email, EmailVerified: tt.verified,
				Name: "Some One", AvatarURL: "https://img.example/" + string(tt.kind) + ".png"}
			if *prof != want {
				t.Errorf("profile = %+v\nwant      %+v", *prof, want)
			}
			if redirect != callbackURL(string(tt.kind)) {
				t.Errorf("redirect = %q", redirect)
			}
		})
	}
}

func TestTikTokScopesCommaSeparated(t *testing.T) {
	f := oauthtest.NewServer(t, oauthtest.TikTok)
	cfg := f.Config()
	cfg.Scopes = []string{"user.info.basic", "user.info.profile"}
	p, err := oauth.NewTikTok(cfg)
	if err != nil {
		t.Fatal(err)
	}
	q := mustQuery(t, p.AuthCodeURL("st", "n", "ch", callbackURL("tiktok")))
	if q.Get("scope") != "user.info.basic,user.info.profile" || q.Get("client_key") != f.ClientID || q.Has("client_id") {
		t.Errorf("query = %v", q)
	}
}

func TestDenied(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	c, state := e.consent(t, oauthtest.Google)
	_, _, err := e.flow.Callback(context.Background(), "google", device, state, "", "access_denied")
	wantErr(t, err, oauth.ErrDenied, http.StatusForbidden)
	// The denied flow is over: its state cannot be used any more.
	_, _, err = e.callback(oauthtest.Google, device, state, c)
	wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
}

func TestBadCode(t *testing.T) {
	for _, k := range oauthtest.Kinds {
		t.Run(string(k), func(t *testing.T) {
			e := newEnv(t, k)
			_, state := e.consent(t, k)
			_, _, err := e.callback(k, device, state, "not-a-code-the-provider-issued")
			wantErr(t, err, oauth.ErrExchange, http.StatusForbidden)
		})
	}
}

func TestMissingCode(t *testing.T) {
	e := newEnv(t, oauthtest.X)
	_, state := e.consent(t, oauthtest.X)
	_, _, err := e.callback(oauthtest.X, device, state, "")
	wantErr(t, err, oauth.ErrExchange, http.StatusForbidden)
}

func TestBadState(t *testing.T) {
	e := newEnv(t, oauthtest.GitHub)
	c, state := e.consent(t, oauthtest.GitHub)
	for _, s := range []string{"", "unknown-state", state + "x", strings.Repeat("a", 1000)} {
		_, _, err := e.callback(oauthtest.GitHub, device, s, c)
		wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
	}
	// None of that spent the real state.
	if _, _, err := e.callback(oauthtest.GitHub, device, state, c); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredState(t *testing.T) {
	t.Run("flow clock", func(t *testing.T) {
		e := newEnv(t, oauthtest.Google)
		c, state := e.consent(t, oauthtest.Google)
		e.clock.Advance(oauth.DefaultStateTTL)
		_, _, err := e.callback(oauthtest.Google, device, state, c)
		wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
	})
	t.Run("store TTL", func(t *testing.T) {
		e := newEnv(t, oauthtest.Google)
		e.store.Now = e.clock.Now
		c, state := e.consent(t, oauthtest.Google)
		e.clock.Advance(oauth.DefaultStateTTL - time.Second)
		e2c, e2state := e.consent(t, oauthtest.Google)
		e.clock.Advance(time.Second)
		_, _, err := e.callback(oauthtest.Google, device, state, c)
		wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
		if _, _, err := e.callback(oauthtest.Google, device, e2state, e2c); err != nil {
			t.Fatalf("younger state: %v", err)
		}
	})
}

func TestStateBoundToDevice(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	c, state := e.consent(t, oauthtest.Google)
	for _, other := range []string{"ssaid-device-2", "", strings.ToUpper(device)} {
		_, _, err := e.callback(oauthtest.Google, other, state, c)
		wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
	}
	// The other device's attempt did not burn the state.
	if _, _, err := e.callback(oauthtest.Google, device, state, c); err != nil {
		t.Fatal(err)
	}
}

// TestStateBoundToProvider: a state started for google is refused at
// github's callback (code or error parameter) without being burnt, and
// still works at google's.
func TestStateBoundToProvider(t *testing.T) {
	e := newEnv(t, oauthtest.Google, oauthtest.GitHub)
	c, state := e.consent(t, oauthtest.Google)
	_, _, err := e.callback(oauthtest.GitHub, device, state, c)
	wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
	_, _, err = e.flow.Callback(context.Background(), "github", device, state, "", "access_denied")
	wantErr(t, err, oauth.ErrDenied, http.StatusForbidden)
	prof, redirect, err := e.callback(oauthtest.Google, device, state, c)
	if err != nil {
		t.Fatal(err)
	}
	if prof.Provider != "google" || redirect != callbackURL("google") {
		t.Fatalf("profile of %q, redirect %q", prof.Provider, redirect)
	}
}

// TestStateRedirectNoLongerAllowed: a flow started by an instance that
// allowed its redirect URI is refused by one that does not (another
// instance's config, or a config change), before the code is exchanged.
func TestStateRedirectNoLongerAllowed(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	c, state := e.consent(t, oauthtest.Google)
	other, err := oauth.NewFlow(e.store, []oauth.Provider{e.fakes[oauthtest.Google].Provider(t)}, oauth.FlowOptions{
		AllowedRedirects: map[string][]string{"google": {"https://app.example/elsewhere/google"}},
		Now:              e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = other.Callback(context.Background(), "google", device, state, c, "")
	wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
	if !strings.Contains(err.Error(), "redirect URI") {
		t.Fatalf("err = %v, want it to name the redirect URI", err)
	}
}

func TestReplay(t *testing.T) {
	for _, k := range oauthtest.Kinds {
		t.Run(string(k), func(t *testing.T) {
			e := newEnv(t, k)
			c, state := e.consent(t, k)
			if _, _, err := e.callback(k, device, state, c); err != nil {
				t.Fatal(err)
			}
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrBadState, http.StatusForbidden)
		})
	}
}

func TestConcurrentCallbacksConsumeOnce(t *testing.T) {
	e := newEnv(t, oauthtest.OIDC)
	c, state := e.consent(t, oauthtest.OIDC)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := e.callback(oauthtest.OIDC, device, state, c)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, oauth.ErrBadState):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d callbacks succeeded, want 1", ok)
	}
}

func TestStateStoredByHash(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	state := oauthtest.StateOf(e.start(t, oauthtest.Google))
	ctx := context.Background()
	sum := sha256.Sum256([]byte(state))
	rec, err := e.store.Get(ctx, "oauth:"+base64.RawURLEncoding.EncodeToString(sum[:]))
	if err != nil {
		t.Fatalf("record under oauth:sha256(state): %v", err)
	}
	if strings.Contains(string(rec), state) {
		t.Error("record contains the raw state")
	}
	for _, k := range []string{state, "oauth:" + state} {
		if _, err := e.store.Get(ctx, k); !errors.Is(err, code.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want not found", k, err)
		}
	}
}

func TestNonceMismatch(t *testing.T) {
	for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.LinkedIn, oauthtest.OIDC} {
		t.Run(string(k), func(t *testing.T) {
			e := newEnv(t, k)
			e.fakes[k].SetIDTokenNonce("a-nonce-from-another-flow")
			c, state := e.consent(t, k)
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrBadToken, http.StatusForbidden)
		})
	}
}

func TestNonceRequiredExceptLinkedIn(t *testing.T) {
	// The LinkedIn fake, like LinkedIn, never echoes the nonce (covered by
	// TestFlowSuccess). Google and generic OIDC must carry it.
	for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.OIDC} {
		t.Run(string(k), func(t *testing.T) {
			e := newEnv(t, k)
			e.fakes[k].SetIDTokenNonce("")
			c, state := e.consent(t, k)
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrBadToken, http.StatusForbidden)
		})
	}
}

func TestWrongPKCEVerifier(t *testing.T) {
	// An attacker injects a code obtained with their own challenge: the
	// verifier stored for this flow does not match it.
	for _, k := range []oauthtest.Kind{oauthtest.Google, oauthtest.GitHub, oauthtest.X, oauthtest.TikTok, oauthtest.OIDC} {
		t.Run(string(k), func(t *testing.T) {
			e := newEnv(t, k)
			authURL := e.start(t, k)
			u, _ := url.Parse(authURL)
			q := u.Query()
			q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
			u.RawQuery = q.Encode()
			c, state, err := e.fakes[k].Authorize(u.String())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrExchange, http.StatusForbidden)
		})
	}
}

func TestProviderDown(t *testing.T) {
	for _, k := range oauthtest.Kinds {
		t.Run(string(k)+"/closed", func(t *testing.T) {
			e := newEnv(t, k)
			c, state := e.consent(t, k)
			e.fakes[k].Close()
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusServiceUnavailable)
		})
		t.Run(string(k)+"/token 500", func(t *testing.T) {
			e := newEnv(t, k)
			c, state := e.consent(t, k)
			e.fakes[k].FailToken(http.StatusInternalServerError)
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusBadGateway)
		})
		t.Run(string(k)+"/token 429", func(t *testing.T) {
			e := newEnv(t, k)
			c, state := e.consent(t, k)
			e.fakes[k].FailToken(http.StatusTooManyRequests)
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusServiceUnavailable)
		})
		t.Run(string(k)+"/userinfo or jwks 503", func(t *testing.T) {
			e := newEnv(t, k)
			c, state := e.consent(t, k)
			e.fakes[k].FailUserInfo(http.StatusServiceUnavailable)
			_, _, err := e.callback(k, device, state, c)
			wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusBadGateway)
		})
	}
}

func TestProviderTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := newHangingServer(t, hang)
	p, err := oauth.NewX(oauth.Config{ClientID: "id", ClientSecret: "secret", TokenURL: srv.URL, AuthURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := oauth.NewFlow(memory.New(), []oauth.Provider{p}, oauth.FlowOptions{
		AllowedRedirects: map[string][]string{"x": {callbackURL("x")}},
		HTTPClient:       &http.Client{Timeout: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := flow.Start(context.Background(), "x", device, callbackURL("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = flow.Callback(context.Background(), "x", device, oauthtest.StateOf(authURL), "code", "")
	wantErr(t, err, oauth.ErrProviderUnavailable, http.StatusServiceUnavailable)
	close(hang)
}

func TestRedirectNotAllowed(t *testing.T) {
	e := newEnv(t, oauthtest.Google, oauthtest.GitHub)
	for _, r := range []string{
		"", "https://evil.example/auth/callback/google",
		callbackURL("google") + "/", callbackURL("google") + "?x=1",
		strings.ToUpper(callbackURL("google")), callbackURL("github"),
	} {
		_, err := e.flow.Start(context.Background(), "google", device, r)
		wantErr(t, err, oauth.ErrRedirectNotAllowed, http.StatusBadRequest)
	}
}

// TestRedirectsPerProvider: each provider accepts its own URIs only, even
// when the other provider's are configured; one URI may serve several.
func TestRedirectsPerProvider(t *testing.T) {
	g := oauthtest.NewServer(t, oauthtest.Google).Provider(t)
	h := oauthtest.NewServer(t, oauthtest.GitHub).Provider(t)
	const shared = "https://app.example/auth/callback"
	flow, err := oauth.NewFlow(memory.New(), []oauth.Provider{g, h}, oauth.FlowOptions{
		AllowedRedirects: map[string][]string{
			"google": {callbackURL("google"), shared},
			"github": {callbackURL("github"), shared},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		provider, redirect string
		ok                 bool
	}{
		{"google", callbackURL("google"), true},
		{"google", shared, true},
		{"google", callbackURL("github"), false},
		{"github", callbackURL("github"), true},
		{"github", shared, true},
		{"github", callbackURL("google"), false},
	} {
		_, err := flow.Start(context.Background(), tt.provider, device, tt.redirect)
		if tt.ok && err != nil {
			t.Errorf("Start(%s, %s): %v", tt.provider, tt.redirect, err)
		} else if !tt.ok {
			wantErr(t, err, oauth.ErrRedirectNotAllowed, http.StatusBadRequest)
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	_, err := e.flow.Start(context.Background(), "myspace", device, callbackURL("google"))
	wantErr(t, err, oauth.ErrUnknownProvider, http.StatusNotFound)
	_, err = e.flow.Start(context.Background(), "Google", device, callbackURL("google"))
	wantErr(t, err, oauth.ErrUnknownProvider, http.StatusNotFound)
	_, _, err = e.flow.Callback(context.Background(), "myspace", device, "s", "c", "")
	wantErr(t, err, oauth.ErrUnknownProvider, http.StatusNotFound)
}

func TestSSAIDRequired(t *testing.T) {
	e := newEnv(t, oauthtest.Google)
	_, err := e.flow.Start(context.Background(), "google", "", callbackURL("google"))
	wantErr(t, err, oauth.ErrSSAIDRequired, http.StatusBadRequest)
}

func TestNewFlowValidation(t *testing.T) {
	g := oauthtest.NewServer(t, oauthtest.Google).Provider(t)
	h := oauthtest.NewServer(t, oauthtest.GitHub).Provider(t)
	ok := map[string][]string{"google": {callbackURL("google")}}
	tests := []struct {
		name      string
		store     code.Store
		providers []oauth.Provider
		opts      oauth.FlowOptions
		want      string // in the error
	}{
		{"nil store", nil, []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: ok}, "store is nil"},
		{"duplicate provider", memory.New(), []oauth.Provider{g, g}, oauth.FlowOptions{AllowedRedirects: ok}, `"google" given twice`},
		{"nil provider", memory.New(), []oauth.Provider{nil}, oauth.FlowOptions{}, "nil provider"},
		{"relative redirect", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: map[string][]string{"google": {"/auth/callback/google"}}}, `AllowedRedirects["google"]: "/auth/callback/google"`},
		{"redirect with fragment", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: map[string][]string{"google": {"https://a.example/cb#x"}}}, `AllowedRedirects["google"]: "https://a.example/cb#x"`},
		{"no redirects at all", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{}, `provider "google" has no redirect URI`},
		{"a provider without redirects", memory.New(), []oauth.Provider{g, h}, oauth.FlowOptions{AllowedRedirects: ok}, `provider "github" has no redirect URI`},
		{"empty list", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: map[string][]string{"google": {}}}, `provider "google" has no redirect URI`},
		{"redirects of an unknown provider", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: map[string][]string{"google": {callbackURL("google")}, "gogle": {callbackURL("gogle")}}}, `AllowedRedirects["gogle"]: no provider of that name`},
		{"negative TTL", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: ok, StateTTL: -time.Second}, "StateTTL is negative"},
		{"client without timeout", memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: ok, HTTPClient: &http.Client{}}, "Timeout must be set"},
	}
	for _, tt := range tests {
		_, err := oauth.NewFlow(tt.store, tt.providers, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewFlow error %v, want one containing %s", tt.name, err, tt.want)
		}
	}
	if _, err := oauth.NewFlow(memory.New(), []oauth.Provider{g}, oauth.FlowOptions{AllowedRedirects: ok}); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{oauth.ErrRedirectNotAllowed, 400},
		{oauth.ErrSSAIDRequired, 400},
		{oauth.ErrUnknownProvider, 404},
		{oauth.ErrDenied, 403},
		{oauth.ErrBadState, 403},
		{oauth.ErrExchange, 403},
		{oauth.ErrBadToken, 403},
		{oauth.ErrProviderUnavailable, 503},
		{&oauth.ProviderError{Provider: "x", Op: "token", Status: 502, Kind: oauth.ErrProviderUnavailable}, 502},
		{&oauth.ProviderError{Provider: "x", Op: "token", Kind: oauth.ErrProviderUnavailable}, 503},
		{errors.New("store down"), 500},
	}
	for _, tt := range tests {
		if got := oauth.HTTPStatus(tt.err); got != tt.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func mustQuery(t *testing.T, rawURL string) url.Values {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
