// Package softauthn is a software WebAuthn authenticator for tests, on
// github.com/descope/virtualwebauthn: it answers registration and sign-in
// options as a browser's navigator.credentials.create and .get would, for
// a page of a given origin.
//
// It works around one flaw of virtualwebauthn v1.0.3: it writes an EC2
// public key's coordinates with big.Int.Bytes, which drops leading zero
// bytes, so about one key in 128 has a coordinate shorter than the 32
// bytes RFC 9053 §7.1.1 requires and go-webauthn rightly refuses it. New
// keys here are drawn until both coordinates are 32 bytes long.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// Options are the authenticator's behaviour (user handle, flags).
type Options = virtualwebauthn.AuthenticatorOptions

// Page is where the browser runs the ceremony: the relying party id it
// asserts and the origin of the page.
type Page = virtualwebauthn.RelyingParty

// Authenticator holds one credential (a passkey) and its signature
// counter. Change Options or Counter between ceremonies to simulate a
// user who is not verified, a synced passkey, a cloned authenticator...
type Authenticator struct {
	virtualwebauthn.Authenticator
	Cred virtualwebauthn.Credential
}

// New returns an authenticator with a fresh P-256 credential.
func New(opts Options) *Authenticator {
	return &Authenticator{
		Authenticator: virtualwebauthn.NewAuthenticatorWithOptions(opts),
		Cred:          virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, p256Key()),
	}
}

// p256Key returns a PKCS #8 P-256 private key whose public coordinates are
// both 32 bytes as big-endian integers without leading zeros.
func p256Key() []byte {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
}

// Clone returns a copy sharing the credential's key: a cloned
// authenticator, whose counter moves apart from the original's.
func (a *Authenticator) Clone() *Authenticator {
	c := *a
	return &c
}

// Attest answers registration options (the JSON of
// PublicKeyCredentialCreationOptions, with or without a "publicKey"
// wrapper) made on page, and keeps the user handle as an authenticator
// does for a discoverable credential. It returns the JSON of the
// PublicKeyCredential.
func (a *Authenticator) Attest(t testing.TB, page Page, options []byte) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("softauthn: registration options do not parse: %v\n%s", err, options)
	}
	a.Options.UserHandle = []byte(opts.UserID)
	return []byte(virtualwebauthn.CreateAttestationResponse(page, a.Authenticator, a.Cred, *opts))
}

// Assert answers sign-in options (PublicKeyCredentialRequestOptions JSON)
// made on page, signing with the current Counter. It returns the JSON of
// the PublicKeyCredential.
func (a *Authenticator) Assert(t testing.TB, page Page, options []byte) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("softauthn: sign-in options do not parse: %v\n%s", err, options)
	}
	return []byte(virtualwebauthn.CreateAssertionResponse(page, a.Authenticator, a.Cred, *opts))
}

// AllowCredentials returns the credential ids (base64url) that sign-in
// options allow, and ExcludeCredentials those registration options exclude.
func AllowCredentials(t testing.TB, options []byte) []string {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	return opts.AllowCredentials
}

// ExcludeCredentials returns the credential ids registration options
// exclude.
func ExcludeCredentials(t testing.TB, options []byte) []string {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	return opts.ExcludeCredentials
}
