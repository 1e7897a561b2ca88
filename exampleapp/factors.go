package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/simpleuser/simpleuser"
)

// factorSettings are the flags of second factors and passkeys
// (simpleuser.Config.MFA and Config.Passkeys; docs/factors.md,
// docs/passkeys.md).
type factorSettings struct {
	// secret is Config.Secret: it keys the stored codes' HMAC and derives
	// the keys that seal TOTP secrets and sign trusted-device tokens.
	secret    string
	mfaIssuer string
	passkeys  bool
	rpID      string
	rpName    string
	origins   string
}

func defineFactorFlags(fs *flag.FlagSet, f *factorSettings) {
	fs.StringVar(&f.secret, "secret", getenv("SIMPLEUSER_SECRET"), "the app's secret (at least 32 random bytes; the same on every instance and across restarts): it keys stored codes and seals TOTP secrets; empty: an empty key, for development only (SIMPLEUSER_SECRET)")
	fs.StringVar(&f.mfaIssuer, "mfa-issuer", envOr("SIMPLEUSER_MFA_ISSUER", "simpleuser example"), "the issuer authenticator apps show beside the account (SIMPLEUSER_MFA_ISSUER)")
	fs.BoolVar(&f.passkeys, "passkeys", envBool("SIMPLEUSER_PASSKEYS", true), "turn passkeys (WebAuthn) on (SIMPLEUSER_PASSKEYS)")
	fs.StringVar(&f.rpID, "passkey-rp-id", getenv("SIMPLEUSER_PASSKEY_RP_ID"), "the passkeys' relying party id, the site's domain (example.com); default: the host of -passkey-origins, or localhost when -addr is a loopback or all-interfaces address (SIMPLEUSER_PASSKEY_RP_ID)")
	fs.StringVar(&f.rpName, "passkey-rp-name", envOr("SIMPLEUSER_PASSKEY_RP_NAME", "simpleuser example"), "the app's name as authenticators show it (SIMPLEUSER_PASSKEY_RP_NAME)")
	fs.StringVar(&f.origins, "passkey-origins", getenv("SIMPLEUSER_PASSKEY_ORIGINS"), "comma-separated origins of the pages that use passkeys (https://example.com); default: https://RP_ID, or http://localhost:PORT with -addr's port for localhost (SIMPLEUSER_PASSKEY_ORIGINS)")
}

// configureFactors sets cfg.Secret, cfg.MFA and cfg.Passkeys from the
// flags. Passkeys need a relying party id and origins: without
// -passkey-rp-id and -passkey-origins they default to localhost and
// http://localhost:PORT when the server listens on loopback or on every
// interface (the page is then opened at http://localhost:PORT, a secure
// context for WebAuthn); on another address they must be given.
// cfg.Passkeys.Store and cfg.MFA.Store are set by configureBackends.
func configureFactors(s settings, cfg *simpleuser.Config, log *slog.Logger) error {
	f := s.factors
	cfg.Secret = []byte(f.secret)
	if f.secret == "" && s.databaseURL != "" {
		log.Warn("no -secret: stored codes and TOTP secrets are keyed by an empty secret; set SIMPLEUSER_SECRET to 32 random bytes outside development")
	}
	cfg.MFA.Issuer = f.mfaIssuer
	if !f.passkeys {
		return nil
	}
	rpID, origins, err := passkeyParty(s.addr, f.rpID, f.origins)
	if err != nil {
		return err
	}
	cfg.Passkeys.Enabled, cfg.Passkeys.RPID, cfg.Passkeys.RPName, cfg.Passkeys.Origins = true, rpID, f.rpName, origins
	log.Info("passkeys on", slog.String("rpID", rpID), slog.Any("origins", origins))
	return nil
}

// passkeyParty returns the relying party id and origins of the flags,
// filling in what is left empty (see configureFactors).
func passkeyParty(addr, rpID, originList string) (string, []string, error) {
	var origins []string
	for _, o := range strings.Split(originList, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			origins = append(origins, o)
		}
	}
	switch {
	case rpID != "" && len(origins) == 0:
		origins = []string{"https://" + rpID}
	case rpID == "" && len(origins) > 0:
		u, err := url.Parse(origins[0])
		if err != nil || u.Hostname() == "" {
			return "", nil, fmt.Errorf("-passkey-origins: %q is not an origin (scheme://host[:port])", origins[0])
		}
		rpID = u.Hostname()
	case rpID == "":
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !localAddr(host) {
			return "", nil, fmt.Errorf("passkeys need -passkey-rp-id and -passkey-origins when -addr %q is not a loopback address (or -passkeys=false)", addr)
		}
		rpID, origins = "localhost", []string{"http://localhost:" + port}
	}
	return rpID, origins, nil
}

// localAddr reports whether a listen host serves http://localhost: a
// loopback name or address, or every interface ("", 0.0.0.0, ::).
func localAddr(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.Unmap().IsLoopback() || ip.IsUnspecified())
}
