package mfa

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters: RFC 6238's defaults, which every authenticator app
// reads (Google Authenticator ignores any other).
const (
	// TOTPPeriod is the time step, in seconds (RFC 6238 §4.1 X = 30).
	TOTPPeriod = 30
	// TOTPDigits is the number of digits of a code (RFC 4226 §5.3).
	TOTPDigits = 6
	// TOTPSecretBytes is the size of a secret: 160 bits, the length RFC
	// 4226 §4 (R6) recommends for HMAC-SHA-1.
	TOTPSecretBytes = 20
	// TOTPSkew is how many steps before and after the current one a code
	// may belong to: one (RFC 6238 §5.2 recommends at most one step of
	// network delay), so a code is good for up to 90 seconds, each time
	// step at most once.
	TOTPSkew = 1
	// QRSize is the width and height of the QR code image, in pixels.
	QRSize = 256
)

// b32 is the secret's text form: RFC 4648 base32 without padding, as the
// otpauth URI and authenticator apps write it.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh random secret of TOTPSecretBytes bytes.
func NewTOTPSecret() ([]byte, error) {
	b := make([]byte, TOTPSecretBytes)
	_, err := rand.Read(b)
	return b, err
}

// Enrolment is what a user needs to add an authenticator to an app.
type Enrolment struct {
	// Secret is the secret in base32 (RFC 4648, no padding), for typing it in.
	Secret string
	// URI is the otpauth:// key URI (the Key Uri Format of Google
	// Authenticator): issuer, account name, secret, SHA1, 6 digits, 30 s.
	URI string
	// QR is a PNG image of the URI as a QR code (QRSize pixels square), as
	// a data URL (RFC 2397): "data:image/png;base64,...".
	QR string
}

// NewEnrolment renders secret for issuer (the app's name, shown in the
// authenticator app) and account (the user's address or another label).
// Both must be non-empty. The result holds the plain secret: show it to
// the user once, never log or store it.
func NewEnrolment(issuer, account string, secret []byte) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Secret: secret,
		Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: otpauth URI: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return &Enrolment{
		Secret: b32.EncodeToString(secret),
		URI:    key.URL(),
		QR:     "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// TOTPStep returns the RFC 6238 time step of t: floor(Unix seconds / 30).
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode returns the code of secret for time step step (for tests and
// tools; a server only checks codes, with MatchTOTP).
func TOTPCode(secret []byte, step int64) (string, error) {
	return hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// NormalizeCode strips the spaces and dashes people type into a code
// ("123 456").
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// MatchTOTP reports whether code is secret's code for the time step of now
// or one step before or after it (TOTPSkew), and for which step: the
// caller then accepts that step atomically (Store.AcceptStep), which
// refuses a replay. Codes are compared in constant time, every candidate
// step computed, so the time taken says nothing about which step matched.
func MatchTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = NormalizeCode(code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	cur := TOTPStep(now)
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		want, err := TOTPCode(secret, s)
		if err != nil {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > step {
			step, ok = s, true
		}
	}
	return step, ok
}
