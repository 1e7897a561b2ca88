package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/simpleuser/simpleuser/code"
)

// DefaultStateTTL is how long a started flow may wait for its callback.
const DefaultStateTTL = 10 * time.Minute

// stateKeyPrefix starts every state record's key in the code.Store.
const stateKeyPrefix = "oauth:"

// FlowOptions configures a Flow. Zero values mean the documented defaults.
type FlowOptions struct {
	// StateTTL is how long a state stays valid (default DefaultStateTTL).
	StateTTL time.Duration
	// AllowedRedirects maps each provider's name to the exact redirect URIs
	// a flow with that provider may use: the callback URLs registered with
	// that provider (RFC 6749 §3.1.2, "redirection endpoint"), e.g.
	//
	//	map[string][]string{
	//		"google": {"https://app.example/auth/callback/google"},
	//		"github": {"https://app.example/auth/callback/github"},
	//	}
	//
	// Matching is exact string comparison (no prefix, no normalisation: the
	// rule RFC 9700 §2.1 sets for authorization servers), and
	// per provider: a Start for google with github's URI fails with
	// ErrRedirectNotAllowed. Every provider needs at least one URI, every
	// key must name a provider, and every URI must be an absolute http(s)
	// URL without fragment (RFC 6749 §3.1.2); NewFlow fails otherwise,
	// naming the provider. One URI may be listed under several providers
	// (a single client-side callback page): the state still binds the flow
	// to its provider.
	AllowedRedirects map[string][]string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient makes every call to the providers (default: a client with
	// DefaultTimeout). Its Timeout must be set: a provider that hangs must
	// not hold the request forever.
	HTTPClient *http.Client
}

// Flow runs the server side of an authorization code login: Start makes the
// authorization URL and remembers the flow under a random state; Callback
// checks and consumes that state, then exchanges the code for a Profile.
//
// Unlike a cookie-free encrypted state, the state here is a random handle
// to a server-side record that is single-use, expires, and is bound to the
// provider and to the device (ssaid) that started the flow, so a callback
// URL replayed, or forwarded to another device (login CSRF), fails. Only
// sha256(state) is used as the store key. A Flow is safe for concurrent
// use.
type Flow struct {
	store      code.Store
	providers  map[string]Provider
	ttl        time.Duration
	redirects  map[string]map[string]bool // provider -> allowed redirect URIs
	now        func() time.Time
	httpClient *http.Client
}

// stateRecord is what Start stores; Callback reads it back.
type stateRecord struct {
	Provider    string `json:"p"`
	SSAID       string `json:"s"`
	Verifier    string `json:"v"`
	Nonce       string `json:"n"`
	RedirectURI string `json:"r"`
	Expires     int64  `json:"e"` // unix milliseconds
}

// NewFlow returns a Flow keeping its states in store for the given
// providers (names must be distinct).
func NewFlow(store code.Store, providers []Provider, opts FlowOptions) (*Flow, error) {
	if store == nil {
		return nil, errors.New("oauth: NewFlow: store is nil")
	}
	f := &Flow{
		store:      store,
		providers:  make(map[string]Provider, len(providers)),
		ttl:        opts.StateTTL,
		redirects:  make(map[string]map[string]bool, len(providers)),
		now:        opts.Now,
		httpClient: opts.HTTPClient,
	}
	for _, p := range providers {
		if p == nil {
			return nil, errors.New("oauth: NewFlow: nil provider")
		}
		if !validName(p.Name()) {
			return nil, fmt.Errorf("oauth: NewFlow: invalid provider name %q", p.Name())
		}
		if f.providers[p.Name()] != nil {
			return nil, fmt.Errorf("oauth: NewFlow: provider %q given twice", p.Name())
		}
		f.providers[p.Name()] = p
	}
	for _, name := range slices.Sorted(maps.Keys(opts.AllowedRedirects)) {
		if f.providers[name] == nil {
			return nil, fmt.Errorf("oauth: NewFlow: FlowOptions.AllowedRedirects[%q]: no provider of that name", name)
		}
		set := make(map[string]bool, len(opts.AllowedRedirects[name]))
		for _, r := range opts.AllowedRedirects[name] {
			u, err := url.Parse(r)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
				return nil, fmt.Errorf("oauth: NewFlow: FlowOptions.AllowedRedirects[%q]: %q is not an absolute http(s) URL without fragment", name, r)
			}
			set[r] = true
		}
		f.redirects[name] = set
	}
	for _, p := range providers {
		if len(f.redirects[p.Name()]) == 0 {
			return nil, fmt.Errorf("oauth: NewFlow: provider %q has no redirect URI in FlowOptions.AllowedRedirects", p.Name())
		}
	}
	if f.ttl < 0 {
		return nil, errors.New("oauth: NewFlow: FlowOptions.StateTTL is negative")
	}
	if f.ttl == 0 {
		f.ttl = DefaultStateTTL
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.httpClient == nil {
		f.httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	if f.httpClient.Timeout <= 0 {
		return nil, errors.New("oauth: NewFlow: FlowOptions.HTTPClient.Timeout must be set")
	}
	return f, nil
}

// Provider returns the configured provider named name, or nil.
func (f *Flow) Provider(name string) Provider { return f.providers[name] }

// Start begins a login with provider for the device ssaid, to come back to
// redirectURI (which must be one of FlowOptions.AllowedRedirects[provider]).
// It returns the provider's authorization URL to send the browser to.
//
// Errors: ErrUnknownProvider, ErrRedirectNotAllowed, ErrSSAIDRequired, or a
// store error.
func (f *Flow) Start(ctx context.Context, provider, ssaid, redirectURI string) (string, error) {
	p := f.providers[provider]
	if p == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	if !f.redirects[provider][redirectURI] {
		return "", ErrRedirectNotAllowed
	}
	if ssaid == "" {
		return "", ErrSSAIDRequired
	}
	state, err := randomString(32)
	if err != nil {
		return "", err
	}
	nonce, err := randomString(32)
	if err != nil {
		return "", err
	}
	verifier := oauth2.GenerateVerifier()
	rec, err := json.Marshal(stateRecord{
		Provider: provider, SSAID: ssaid, Verifier: verifier, Nonce: nonce,
		RedirectURI: redirectURI, Expires: f.now().Add(f.ttl).UnixMilli(),
	})
	if err != nil {
		return "", err
	}
	if err := f.store.Set(ctx, stateKey(state), rec, f.ttl); err != nil {
		return "", fmt.Errorf("oauth: saving state: %w", err)
	}
	return p.AuthCodeURL(state, nonce, oauth2.S256ChallengeFromVerifier(verifier), redirectURI), nil
}

// Callback finishes a login: provider is the one named by the callback
// route, ssaid the device calling back, and state, code and errParam the
// callback's "state", "code" and "error" query parameters. On success it
// returns the user's profile and the redirect URI the flow was started
// with.
//
// The state is checked (known, unexpired, same provider, same ssaid, its
// redirect URI still allowed for provider) and consumed atomically before
// the code is exchanged, so it works once. A state started for one
// provider is refused (ErrBadState) at another's callback and stays
// usable at its own.
//
// Errors: ErrUnknownProvider, ErrDenied, ErrBadState, ErrExchange,
// ErrBadToken, ErrProviderUnavailable, or a store error; see HTTPStatus.
func (f *Flow) Callback(ctx context.Context, provider, ssaid, state, code, errParam string) (*Profile, string, error) {
	p := f.providers[provider]
	if p == nil {
		return nil, "", fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	if errParam != "" {
		// Burn the flow if it is this device's; ignore failures.
		if key, raw, _, err := f.load(ctx, provider, ssaid, state); err == nil {
			_, _, _ = f.store.Consume(ctx, key, raw)
		}
		return nil, "", fmt.Errorf("%w: %.100q", ErrDenied, errParam)
	}
	key, raw, rec, err := f.load(ctx, provider, ssaid, state)
	if err != nil {
		return nil, "", err
	}
	_, ok, err := f.store.Consume(ctx, key, raw)
	if err != nil {
		return nil, "", fmt.Errorf("oauth: consuming state: %w", err)
	}
	if !ok {
		return nil, "", ErrBadState // consumed concurrently
	}
	if code == "" {
		return nil, "", fmt.Errorf("%w: callback has no code", ErrExchange)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.httpClient)
	prof, err := p.Exchange(ctx, code, rec.Verifier, rec.Nonce, rec.RedirectURI)
	if err != nil {
		return nil, "", err
	}
	prof.Provider = provider
	return prof, rec.RedirectURI, nil
}

// load returns the live state record for state, checked against provider
// and ssaid, with its key and raw bytes for Consume.
func (f *Flow) load(ctx context.Context, provider, ssaid, state string) (string, []byte, *stateRecord, error) {
	if state == "" || len(state) > 512 {
		return "", nil, nil, ErrBadState
	}
	key := stateKey(state)
	raw, err := f.store.Get(ctx, key)
	if errors.Is(err, code.ErrNotFound) {
		return "", nil, nil, ErrBadState
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("oauth: reading state: %w", err)
	}
	var rec stateRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", nil, nil, fmt.Errorf("%w: unreadable record", ErrBadState)
	}
	switch {
	case f.now().UnixMilli() >= rec.Expires:
		return "", nil, nil, fmt.Errorf("%w: expired", ErrBadState)
	case rec.Provider != provider:
		return "", nil, nil, fmt.Errorf("%w: started for another provider", ErrBadState)
	case rec.SSAID != ssaid:
		return "", nil, nil, fmt.Errorf("%w: started on another device", ErrBadState)
	case !f.redirects[provider][rec.RedirectURI]:
		// Started by an instance configured otherwise (or before a change):
		// never exchange a code for a redirect URI this one does not allow.
		return "", nil, nil, fmt.Errorf("%w: redirect URI no longer allowed", ErrBadState)
	}
	return key, raw, &rec, nil
}

// stateKey is the store key for state: the raw state is never stored.
func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return stateKeyPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
