package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// HKDF info strings (RFC 5869 §3.2): one per purpose, so that no key
// derived from the app's secret serves two purposes.
const (
	infoSeal     = "simpleuser/mfa/totp-secret/aes-256-gcm/v1"
	infoKeyID    = "simpleuser/mfa/key-id/v1"
	infoRecovery = "simpleuser/mfa/recovery-code/hmac-sha-256/v1"
	infoDevice   = "simpleuser/mfa/trusted-device/hmac-sha-256/v1"
)

// sealVersion is the first byte of a sealed secret.
const sealVersion = 1

// KeyIDLength is the length of a key id in bytes.
const KeyIDLength = 4

// key is the set of keys derived from one secret.
type key struct {
	id       [KeyIDLength]byte
	aead     cipher.AEAD
	recovery []byte // HMAC key of recovery-code digests
	device   []byte // HMAC key of trusted-device tokens
}

// Keyring holds the keys derived from the app's secrets: the current one,
// which seals, hashes and signs, and older ones, which still open, match
// and verify what they made, so a secret can be rotated without locking
// anyone out. Create it with NewKeyring; it is safe for concurrent use.
type Keyring struct {
	current *key
	all     []*key // current first
}

// NewKeyring derives the keys of current and of each older secret with
// HKDF-SHA-256 (RFC 5869; an info string per purpose, no salt: the
// secrets are high-entropy keys, RFC 5869 §3.1). A key id is 4 bytes
// derived the same way from each secret; two secrets whose ids collide are
// refused (one of them must change). An empty current secret is allowed
// (keys are then public, which only a development setup may accept).
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	kr := &Keyring{}
	for i, secret := range append([][]byte{current}, older...) {
		k, err := deriveKey(secret)
		if err != nil {
			return nil, err
		}
		for _, o := range kr.all {
			if o.id == k.id {
				return nil, fmt.Errorf("mfa: secret %d has the key id of an earlier one (a secret given twice?)", i)
			}
		}
		kr.all = append(kr.all, k)
	}
	kr.current = kr.all[0]
	return kr, nil
}

func deriveKey(secret []byte) (*key, error) {
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, info, n)
	}
	enc, err := derive(infoSeal, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &key{aead: aead}
	id, err := derive(infoKeyID, KeyIDLength)
	if err != nil {
		return nil, err
	}
	copy(k.id[:], id)
	if k.recovery, err = derive(infoRecovery, 32); err != nil {
		return nil, err
	}
	if k.device, err = derive(infoDevice, 32); err != nil {
		return nil, err
	}
	return k, nil
}

// CurrentKeyID returns the id of the key that seals.
func (kr *Keyring) CurrentKeyID() [KeyIDLength]byte { return kr.current.id }

// aad binds a sealed secret to its record: a ciphertext copied into
// another user's or another authenticator's row does not open.
func aad(userID int64, id string) []byte {
	b := make([]byte, 0, 24+8+len(id))
	b = append(b, "simpleuser/mfa/totp\x00"...)
	b = binary.BigEndian.AppendUint64(b, uint64(userID))
	return append(b, id...)
}

// Seal encrypts secret for the authenticator id of userID under the
// current key (AES-256-GCM, a random 96-bit nonce, the user id and
// authenticator id as additional data). The result is
//
//	byte      version (1)
//	[4]byte   key id
//	[12]byte  nonce
//	rest      ciphertext and 16-byte tag
func (kr *Keyring) Seal(userID int64, id string, secret []byte) ([]byte, error) {
	k := kr.current
	ns := k.aead.NonceSize()
	out := make([]byte, 1+KeyIDLength+ns, 1+KeyIDLength+ns+len(secret)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	nonce := out[1+KeyIDLength:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, nonce, secret, aad(userID, id)), nil
}

// Open decrypts what Seal returned for the same user and authenticator,
// with whichever key of the ring it names. ErrUnknownKey when the ring
// holds no such key; ErrBadCiphertext when sealed is malformed, was
// altered, or belongs to another record.
func (kr *Keyring) Open(userID int64, id string, sealed []byte) ([]byte, error) {
	k, body, err := kr.keyOf(sealed)
	if err != nil {
		return nil, err
	}
	ns := k.aead.NonceSize()
	if len(body) < ns+k.aead.Overhead() {
		return nil, ErrBadCiphertext
	}
	plain, err := k.aead.Open(nil, body[:ns], body[ns:], aad(userID, id))
	if err != nil {
		return nil, ErrBadCiphertext
	}
	return plain, nil
}

// NeedsReseal reports whether sealed was made under an older key (a
// caller may seal it again under the current one).
func (kr *Keyring) NeedsReseal(sealed []byte) bool {
	k, _, err := kr.keyOf(sealed)
	return err == nil && k != kr.current
}

func (kr *Keyring) keyOf(sealed []byte) (*key, []byte, error) {
	if len(sealed) < 1+KeyIDLength || sealed[0] != sealVersion {
		return nil, nil, ErrBadCiphertext
	}
	if k := kr.byID(sealed[1 : 1+KeyIDLength]); k != nil {
		return k, sealed[1+KeyIDLength:], nil
	}
	return nil, nil, ErrUnknownKey
}

// byID returns the key of the ring with that id, or nil.
func (kr *Keyring) byID(id []byte) *key {
	for _, k := range kr.all {
		if string(k.id[:]) == string(id) {
			return k
		}
	}
	return nil
}

// mac returns HMAC-SHA-256(k, parts joined by their lengths).
func mac(k []byte, userID int64, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, k)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(userID))
	h.Write(b[:])
	for _, p := range parts {
		binary.BigEndian.PutUint32(b[:4], uint32(len(p)))
		h.Write(b[:4])
		h.Write(p)
	}
	return h.Sum(nil)
}
