package oauth

import (
	"context"
	"crypto"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksMinRefresh is the shortest time between two fetches of a key set
// triggered by an unknown key id, so a stream of tokens with made-up key ids
// cannot turn into a stream of requests to the provider.
const jwksMinRefresh = 30 * time.Second

// keySet caches a provider's JSON Web Key Set. Unlike go-oidc's
// RemoteKeySet, it fetches with the caller's context and HTTP client and
// reports fetch failures as typed errors, so an unreachable JWKS endpoint
// is ErrProviderUnavailable rather than a bad token.
type keySet struct {
	provider string
	url      string

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

// publicKeys returns the keys that may verify a token with key id kid,
// fetching the set when none is cached for kid.
func (k *keySet) publicKeys(ctx context.Context, kid string) ([]crypto.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pubs := k.match(kid); len(pubs) > 0 {
		return pubs, nil
	}
	if !k.fetched.IsZero() && time.Since(k.fetched) < jwksMinRefresh {
		return nil, nil
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	return k.match(kid), nil
}

// match returns the cached keys for kid (all keys when kid is empty).
// Called with mu held.
func (k *keySet) match(kid string) []crypto.PublicKey {
	var pubs []crypto.PublicKey
	for _, key := range k.keys {
		if kid == "" || key.KeyID == kid {
			pubs = append(pubs, key.Key)
		}
	}
	return pubs
}

// fetch replaces the cached keys by the provider's current set. Keys that
// are not public signing keys of a supported type are skipped. Called with
// mu held.
func (k *keySet) fetch(ctx context.Context) error {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, k.provider, "jwks", k.url, "", nil, &raw); err != nil {
		return err
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(r); err != nil || !key.Valid() || !key.IsPublic() {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return &ProviderError{Provider: k.provider, Op: "jwks", Status: http.StatusOK,
			Kind: ErrProviderUnavailable, Err: errNoKeys}
	}
	k.keys, k.fetched = keys, time.Now()
	return nil
}
