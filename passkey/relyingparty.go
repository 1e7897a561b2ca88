package passkey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/simpleuser/simpleuser/code"
	"github.com/simpleuser/simpleuser/internal/textcheck"
)

// DefaultChallengeTTL is how long a begun ceremony waits for its finish
// when Config.ChallengeTTL is zero: 5 minutes, the upper end of the
// timeouts WebAuthn L3 §15.1 recommends for a ceremony.
const DefaultChallengeTTL = 5 * time.Minute

// DefaultMaxPerUser is Config.MaxPerUser's default.
const DefaultMaxPerUser = 20

// DefaultName names a passkey registered without a name.
const DefaultName = "Passkey"

// Errors of the ceremonies (besides the Store's ErrNotFound, ErrExists and
// ErrCounter, and *backend.Error). Each may be wrapped with a detail for
// logs: test them with errors.Is.
var (
	// ErrChallenge: the challenge id is unknown, used, expired, or was
	// begun by another device, another user or another kind of ceremony.
	// A challenge works once: begin again.
	ErrChallenge = errors.New("passkey: unknown, used or expired challenge")
	// ErrInvalidResponse: the client's response is not a WebAuthn
	// credential response (JSON of a PublicKeyCredential) at all.
	ErrInvalidResponse = errors.New("passkey: malformed credential response")
	// ErrRefused: the response does not verify (WebAuthn L3 §7.1, §7.2):
	// another origin or relying party id, a bad signature or attestation,
	// no user verification where it is required, another challenge...
	ErrRefused = errors.New("passkey: credential response refused")
	// ErrUnknownCredential: the assertion names a credential that is not
	// registered (removed, or never registered here), or not the user's.
	ErrUnknownCredential = errors.New("passkey: unknown credential")
	// ErrNoPasskey: the user has no passkey to sign in with.
	ErrNoPasskey = errors.New("passkey: the user has no passkey")
	// ErrTooMany: the user has Config.MaxPerUser passkeys already.
	ErrTooMany = errors.New("passkey: too many passkeys")
	// ErrInvalidName: a passkey name that is too long or not text.
	ErrInvalidName = errors.New("passkey: invalid name")
	// ErrDisabled: passkeys are off (Options.Enabled false); no
	// RelyingParty exists.
	ErrDisabled = errors.New("passkey: passkeys are not enabled")
)

// Config configures a RelyingParty. RPID, RPName and Origins are required.
type Config struct {
	// RPID is the relying party id (WebAuthn L3 §5.1.2): the app's domain,
	// without scheme or port, e.g. "example.com". Passkeys are bound to it
	// for good: changing it orphans every registered passkey.
	RPID string
	// RPName is the name authenticators show for the app ("Example").
	RPName string
	// Origins are the exact origins the app's pages are served from, e.g.
	// "https://example.com" or "https://app.example.com" (scheme, host,
	// optional port; no path). Each host must be RPID or a subdomain of
	// it (§5.1.4.1), and the scheme https, or http for localhost only
	// (development; browsers treat it as a secure context). An assertion
	// made on any other origin is refused.
	Origins []string
	// ChallengeTTL is how long a ceremony may take from begin to finish
	// (default DefaultChallengeTTL, 5 minutes); it is also the timeout
	// sent to the client, in ms.
	ChallengeTTL time.Duration
	// MaxPerUser caps the passkeys of one user (default DefaultMaxPerUser,
	// 20): a registration beyond it is refused with ErrTooMany.
	MaxPerUser int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Check reports the first problem of c, starting with the name of the
// field at fault ("RPID ...", "Origins: ..."), or nil.
func (c Config) Check() error {
	if err := protocol.ValidateRPID(c.RPID); c.RPID == "" || err != nil || strings.ContainsAny(c.RPID, ":/") {
		return fmt.Errorf("RPID %q is not a domain name", c.RPID)
	}
	if strings.TrimSpace(c.RPName) == "" {
		return errors.New("RPName is required")
	}
	if len(c.Origins) == 0 {
		return errors.New("Origins needs at least one origin")
	}
	for _, o := range c.Origins {
		if err := checkOrigin(o, c.RPID); err != nil {
			return fmt.Errorf("Origins: %q: %w", o, err)
		}
	}
	if c.ChallengeTTL < 0 {
		return errors.New("ChallengeTTL is negative")
	}
	if c.MaxPerUser < 0 {
		return errors.New("MaxPerUser is negative")
	}
	return nil
}

func checkOrigin(o, rpID string) error {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("not an origin (scheme://host[:port])")
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "localhost" || strings.HasSuffix(host, ".localhost")):
	default:
		return errors.New("the scheme must be https (http only for localhost)")
	}
	rp := strings.ToLower(rpID)
	if host != rp && !strings.HasSuffix(host, "."+rp) {
		return fmt.Errorf("the host is neither the relying party id %q nor a subdomain of it", rpID)
	}
	return nil
}

// RelyingParty runs the WebAuthn ceremonies of one app. Create it with New;
// it is safe for concurrent use.
type RelyingParty struct {
	// OnChange, when set, is called after a passkey was stored by
	// FinishRegistration (added) or deleted by Remove (!added), with the
	// context of the call: the service emits its PasskeyAdded and
	// PasskeyRemoved events from it. Set it before the first use.
	OnChange func(ctx context.Context, c *Credential, added bool)

	wa         *webauthn.WebAuthn
	store      Store
	challenges code.Store
	ttl        time.Duration
	max        int
	now        func() time.Time
}

// New returns a RelyingParty keeping credentials in store and challenges in
// challenges (the kit's code.Store). It fails with an error naming the
// Config field at fault.
func New(cfg Config, store Store, challenges code.Store) (*RelyingParty, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("passkey: Config.%w", err)
	}
	if store == nil || challenges == nil {
		return nil, errors.New("passkey: New needs a Store and a code.Store")
	}
	rp := &RelyingParty{store: store, challenges: challenges, ttl: cfg.ChallengeTTL, max: cfg.MaxPerUser, now: cfg.Now}
	if rp.ttl == 0 {
		rp.ttl = DefaultChallengeTTL
	}
	if rp.max == 0 {
		rp.max = DefaultMaxPerUser
	}
	if rp.now == nil {
		rp.now = time.Now
	}
	timeout := webauthn.TimeoutConfig{Timeout: rp.ttl, TimeoutUVD: rp.ttl}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             append([]string{}, cfg.Origins...),
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	rp.wa = wa
	return rp, nil
}

// Store returns the credential store (nil on a nil RelyingParty: passkeys off).
func (rp *RelyingParty) Store() Store {
	if rp == nil {
		return nil
	}
	return rp.store
}

// Challenge is a begun ceremony, for the client.
type Challenge struct {
	// ID names the ceremony: the client sends it back with its response.
	// 43 characters of base64url (32 random bytes).
	ID string
	// Options is the JSON the client hands to the browser: an object with
	// "publicKey", the PublicKeyCredentialCreationOptionsJSON or
	// PublicKeyCredentialRequestOptionsJSON (WebAuthn L3 §5.1.8, §5.1.9),
	// for navigator.credentials.create / .get (after
	// PublicKeyCredential.parseCreationOptionsFromJSON /
	// parseRequestOptionsFromJSON).
	Options json.RawMessage
	// ExpiresAt is when the challenge stops being accepted.
	ExpiresAt time.Time
}

// Ceremony kinds, recorded with a challenge.
const (
	kindRegister  = "register"
	kindSignIn    = "signin" // discoverable: no user known
	kindUserLogin = "user"   // a known user's passkey (second factor)
)

// challengeRecord is what a begin stores; the finish reads it back.
type challengeRecord struct {
	Kind    string               `json:"k"`
	UserID  int64                `json:"u,omitempty"`
	Bind    string               `json:"b"`
	Session webauthn.SessionData `json:"s"`
	Expires int64                `json:"e"` // unix ms
}

const challengeKeyPrefix = "passkey:"

// challengeKey is the code.Store key of a challenge id: only a hash of the
// id is stored, so a dump of the store yields no usable id.
func challengeKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return challengeKeyPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// begin stores a ceremony's record under a fresh challenge id.
func (rp *RelyingParty) begin(ctx context.Context, kind string, userID int64, bind string, options any, sd *webauthn.SessionData) (*Challenge, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(raw)
	exp := rp.now().Add(rp.ttl)
	rec, err := json.Marshal(challengeRecord{Kind: kind, UserID: userID, Bind: bind, Session: *sd, Expires: exp.UnixMilli()})
	if err != nil {
		return nil, err
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	if err := rp.challenges.Set(ctx, challengeKey(id), rec, rp.ttl); err != nil {
		return nil, err
	}
	return &Challenge{ID: id, Options: opts, ExpiresAt: exp.UTC()}, nil
}

// take loads the ceremony id, checks it is of kind, user and binding and
// unexpired, and consumes it (compare-and-delete: of concurrent finishes,
// one gets it). A challenge that does not match is left alone.
func (rp *RelyingParty) take(ctx context.Context, id, kind string, userID int64, bind string) (*challengeRecord, error) {
	if id == "" || len(id) > 128 || !textcheck.String(id) {
		return nil, ErrChallenge
	}
	key := challengeKey(id)
	raw, err := rp.challenges.Get(ctx, key)
	if errors.Is(err, code.ErrNotFound) {
		return nil, ErrChallenge
	}
	if err != nil {
		return nil, err
	}
	var rec challengeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("%w: unreadable record", ErrChallenge)
	}
	if rec.Kind != kind || rec.UserID != userID || rec.Bind != bind {
		return nil, fmt.Errorf("%w: begun for another ceremony, user or device", ErrChallenge)
	}
	if rp.now().UnixMilli() >= rec.Expires {
		return nil, fmt.Errorf("%w: expired", ErrChallenge)
	}
	_, ok, err := rp.challenges.Consume(ctx, key, raw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: used concurrently", ErrChallenge)
	}
	return &rec, nil
}

// CheckName returns name trimmed, or DefaultName for an empty one;
// ErrInvalidName when it is longer than MaxNameLen characters or holds
// invalid UTF-8, control or invisible characters (textcheck.Name).
func CheckName(name string) (string, error) {
	name, ok := textcheck.Name(name, MaxNameLen)
	if !ok {
		return "", fmt.Errorf("%w: at most %d characters, without control or invisible characters", ErrInvalidName, MaxNameLen)
	}
	if name == "" {
		return DefaultName, nil
	}
	return name, nil
}

// EncodeID returns a credential id as clients write it: unpadded base64url
// (the id and rawId of a PublicKeyCredential's JSON).
func EncodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// DecodeID parses a credential id written by EncodeID, or ErrNotFound when
// s is not one (no credential has it).
func DecodeID(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > MaxCredentialIDLen {
		return nil, ErrNotFound
	}
	return b, nil
}
