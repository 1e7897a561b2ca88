package mfa_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/mfa"
)

func keyring(t *testing.T, current string, older ...string) *mfa.Keyring {
	t.Helper()
	var old [][]byte
	for _, o := range older {
		old = append(old, []byte(o))
	}
	kr, err := mfa.NewKeyring([]byte(current), old...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpenRotateTamper(t *testing.T) {
	secret := []byte("12345678901234567890")
	oldRing := keyring(t, "secret-2025")
	sealed, err := oldRing.Seal(7, "authid", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the sealed form holds the plain secret")
	}
	if again, _ := oldRing.Seal(7, "authid", secret); bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
	// Rotated: a new current secret, the old one kept for opening.
	rotated := keyring(t, "secret-2026", "secret-2025")
	got, err := rotated.Open(7, "authid", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open after rotation = %q, %v; want the secret", got, err)
	}
	if !rotated.NeedsReseal(sealed) {
		t.Error("NeedsReseal = false for a secret sealed under the old key")
	}
	resealed, _ := rotated.Seal(7, "authid", secret)
	if rotated.NeedsReseal(resealed) {
		t.Error("NeedsReseal = true under the current key")
	}
	// The old key dropped: refused, not garbage.
	if _, err := keyring(t, "secret-2026").Open(7, "authid", sealed); !errors.Is(err, mfa.ErrUnknownKey) {
		t.Errorf("Open without the old key: %v, want ErrUnknownKey", err)
	}
	// Any altered byte (key id aside) is refused.
	for i := 1 + mfa.KeyIDLength; i < len(sealed); i++ {
		bad := bytes.Clone(sealed)
		bad[i] ^= 1
		if _, err := rotated.Open(7, "authid", bad); !errors.Is(err, mfa.ErrBadCiphertext) {
			t.Fatalf("byte %d altered: %v, want ErrBadCiphertext", i, err)
		}
	}
	// Bound to its record: another user or authenticator cannot open it.
	if _, err := rotated.Open(8, "authid", sealed); !errors.Is(err, mfa.ErrBadCiphertext) {
		t.Errorf("opened as another user's: %v", err)
	}
	if _, err := rotated.Open(7, "other", sealed); !errors.Is(err, mfa.ErrBadCiphertext) {
		t.Errorf("opened as another authenticator's: %v", err)
	}
	for _, bad := range [][]byte{nil, {1}, sealed[:10], append([]byte{2}, sealed[1:]...)} {
		if _, err := rotated.Open(7, "authid", bad); err == nil {
			t.Errorf("Open(%x) succeeded", bad)
		}
	}
	if _, err := mfa.NewKeyring([]byte("a"), []byte("a")); err == nil {
		t.Error("a secret given twice was accepted")
	}
}

func TestTOTPWindowAndStep(t *testing.T) {
	secret, err := mfa.NewTOTPSecret()
	if err != nil || len(secret) != 20 {
		t.Fatal(len(secret), err)
	}
	now := time.Unix(1_800_000_015, 0) // mid-step
	cur := mfa.TOTPStep(now)
	if cur != 1_800_000_015/30 {
		t.Fatalf("TOTPStep = %d", cur)
	}
	for delta := int64(-3); delta <= 3; delta++ {
		code, err := mfa.TOTPCode(secret, cur+delta)
		if err != nil || len(code) != 6 {
			t.Fatal(code, err)
		}
		step, ok := mfa.MatchTOTP(secret, code[:3]+" "+code[3:], now)
		want := delta >= -1 && delta <= 1
		if ok != want || (ok && step != cur+delta) {
			t.Errorf("code of step %+d: MatchTOTP = %d, %v; want ok=%v at step %d", delta, step, ok, want, cur+delta)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := mfa.MatchTOTP(secret, bad, now); ok {
			t.Errorf("MatchTOTP(%q) = ok", bad)
		}
	}
	// RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); our 6
	// digits are its last six.
	code, _ := mfa.TOTPCode([]byte("12345678901234567890"), 59/30)
	if code != "287082" {
		t.Errorf("RFC 6238 test vector: %s, want 287082", code)
	}
}

func TestEnrolment(t *testing.T) {
	secret, _ := mfa.NewTOTPSecret()
	e, err := mfa.NewEnrolment("Example App", "ann@example.com", secret)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("URI %q: %v", e.URI, err)
	}
	q := u.Query()
	if q.Get("secret") != e.Secret || q.Get("issuer") != "Example App" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("URI parameters: %v", q)
	}
	if !strings.Contains(u.Path, "Example App:ann@example.com") {
		t.Errorf("URI label: %q", u.Path)
	}
	const pfx = "data:image/png;base64,"
	if !strings.HasPrefix(e.QR, pfx) {
		t.Fatalf("QR is not a PNG data URL: %.40s", e.QR)
	}
	raw, err := base64.StdEncoding.DecodeString(e.QR[len(pfx):])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != mfa.QRSize || b.Dy() != mfa.QRSize {
		t.Errorf("QR is %v, want %d px square", b, mfa.QRSize)
	}
	if _, err := mfa.NewEnrolment("", "x", secret); err == nil {
		t.Error("an empty issuer was accepted")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, err := mfa.NewRecoveryCodes()
	if err != nil || len(codes) != 10 {
		t.Fatal(codes, err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || mfa.NormalizeRecoveryCode(c) == "" {
			t.Errorf("code %q is not two groups of five", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
	}
	c := codes[0]
	typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
	if mfa.NormalizeRecoveryCode(typed) != strings.ReplaceAll(c, "-", "") {
		t.Errorf("typed %q does not normalize to %q", typed, c)
	}
	if mfa.NormalizeRecoveryCode("0o1il-ABCDE") != "00111abcde" {
		t.Errorf("look-alikes: %q", mfa.NormalizeRecoveryCode("0o1il-ABCDE"))
	}
	for _, bad := range []string{"", "short", "abcde-abcdeX", "abcde-abcdu"} {
		if mfa.NormalizeRecoveryCode(bad) != "" {
			t.Errorf("NormalizeRecoveryCode(%q) accepted", bad)
		}
	}
	old := keyring(t, "old")
	d := old.RecoveryDigest(1, c)
	if len(d) != 32 || bytes.Equal(d, old.RecoveryDigest(2, c)) {
		t.Error("the digest is not bound to the user")
	}
	if !bytes.Equal(d, old.RecoveryDigest(1, typed)) {
		t.Error("the digest of the typed form differs")
	}
	if bytes.Equal(d, keyring(t, "other").RecoveryDigest(1, c)) {
		t.Error("the digest does not depend on the secret")
	}
	cands := keyring(t, "new", "old").RecoveryDigests(1, c)
	if len(cands) != 2 || !bytes.Equal(cands[1], d) || bytes.Equal(cands[0], d) {
		t.Error("after rotation the old digest is not among the candidates")
	}
	if old.RecoveryDigest(1, "bad") != nil || old.RecoveryDigests(1, "bad") != nil {
		t.Error("a malformed code has a digest")
	}
}

func TestDeviceToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old := keyring(t, "old")
	d := &mfa.TrustedDevice{UserID: 42, ID: mfa.NewID(), ExpiresAt: now.Add(30 * 24 * time.Hour)}
	tok := old.DeviceToken(d)
	if len(tok) != 92 {
		t.Errorf("token length %d, want 92", len(tok))
	}
	check := func(kr *mfa.Keyring, tok string, at time.Time, want bool) {
		t.Helper()
		uid, id, ok := kr.ParseDeviceToken(tok, at)
		if ok != want || (ok && (uid != 42 || id != d.ID)) {
			t.Errorf("ParseDeviceToken = %d, %q, %v; want ok=%v", uid, id, ok, want)
		}
	}
	check(old, tok, now, true)
	check(keyring(t, "new", "old"), tok, now, true) // rotated
	check(keyring(t, "new"), tok, now, false)       // old key dropped
	check(old, tok, d.ExpiresAt, false)             // expired
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		check(old, base64.RawURLEncoding.EncodeToString(bad), now, false)
	}
	check(old, "", now, false)
	check(old, tok[:40], now, false)
}
