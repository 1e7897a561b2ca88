package mfa

import (
	"crypto/rand"
	"strings"
)

// Recovery codes: RecoveryCodeCount single-use codes of RecoveryCodeLength
// Crockford base32 characters (50 bits each), written in two groups of
// five ("7kq2m-x9d4c"). They are shown once, when generated, and stored as
// HMAC-SHA-256 digests keyed by the keyring (see Keyring.RecoveryDigest).
const (
	RecoveryCodeCount  = 10
	RecoveryCodeLength = 10
)

// crockford is Crockford's base32 alphabet, lower-case: no i, l, o or u,
// so a code read aloud or from paper is not mistyped.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, formatted for
// display. The codes are secrets: show them once, never log them.
func NewRecoveryCodes() ([]string, error) {
	out := make([]string, RecoveryCodeCount)
	buf := make([]byte, RecoveryCodeLength)
	for i := range out {
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		var b strings.Builder
		for j, c := range buf {
			if j == RecoveryCodeLength/2 {
				b.WriteByte('-')
			}
			b.WriteByte(crockford[c&31]) // 256 is a multiple of 32: no bias
		}
		out[i] = b.String()
	}
	return out, nil
}

// NormalizeRecoveryCode returns the canonical form of a typed code: case
// folded, spaces and dashes dropped, the look-alikes Crockford's base32
// reads (i and l as 1, o as 0) replaced. "" when what remains is not
// RecoveryCodeLength characters of the alphabet.
func NormalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'i', 'l':
			r = '1'
		case 'o':
			r = '0'
		}
		if !strings.ContainsRune(crockford, r) {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != RecoveryCodeLength {
		return ""
	}
	return b.String()
}

// RecoveryDigest is the stored form of recovery code of userID under the
// current key: HMAC-SHA-256 over the user id and the normalized code, with
// a key derived from the app's secret. A keyed hash rather than a plain
// one because a code carries 50 bits, few enough that a stolen table of
// plain SHA-256 digests could be searched offline; without the app's
// secret these digests cannot be. It is deterministic (no salt: the user
// id and the key play that part), so a code is found and deleted by one
// atomic statement. nil for a code that does not normalize.
func (kr *Keyring) RecoveryDigest(userID int64, code string) []byte {
	c := NormalizeRecoveryCode(code)
	if c == "" {
		return nil
	}
	return mac(kr.current.recovery, userID, []byte(c))
}

// RecoveryDigests returns the digest of code under every key of the ring,
// the current one first: the candidates Store.UseRecoveryCode matches, so
// codes generated before a rotation stay usable. nil for a code that does
// not normalize.
func (kr *Keyring) RecoveryDigests(userID int64, code string) [][]byte {
	c := NormalizeRecoveryCode(code)
	if c == "" {
		return nil
	}
	out := make([][]byte, len(kr.all))
	for i, k := range kr.all {
		out[i] = mac(k.recovery, userID, []byte(c))
	}
	return out
}
