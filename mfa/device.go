package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// IDLength is the length of an authenticator or trusted-device id.
const IDLength = 16

// NewID returns a random id of IDLength lower-case Crockford base32
// characters (80 bits).
func NewID() string {
	var b [IDLength]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	for i, c := range b {
		b[i] = crockford[c&31]
	}
	return string(b[:])
}

// deviceVersion is the first byte of a device token.
const deviceVersion = 1

// DeviceToken returns the signed token of trusted device d: base64url (RFC
// 4648 §5, no padding) of
//
//	byte      version (1)
//	[4]byte   key id
//	[8]byte   user id
//	[8]byte   expiry, Unix seconds
//	[16]byte  device id
//	[32]byte  HMAC-SHA-256 of the above, under the current device key
//
// 92 characters. The signature lets a login reject a forged or expired
// token without a store read; the store record (Store.TrustedDevice) makes
// it revocable.
func (kr *Keyring) DeviceToken(d *TrustedDevice) string {
	b := kr.devicePayload(kr.current, d.UserID, d.ExpiresAt.Unix(), d.ID)
	b = append(b, mac(kr.current.device, d.UserID, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (kr *Keyring) devicePayload(k *key, userID, exp int64, id string) []byte {
	b := make([]byte, 0, 1+KeyIDLength+16+IDLength+32)
	b = append(b, deviceVersion)
	b = append(b, k.id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(userID))
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	return append(b, id...)
}

// ParseDeviceToken checks a DeviceToken: its signature under a key of the
// ring and its expiry (after now). It returns the user and device ids;
// ok is false for anything else. The caller still checks that the device
// record exists (it may have been revoked).
func (kr *Keyring) ParseDeviceToken(tok string, now time.Time) (userID int64, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 1+KeyIDLength+16+IDLength+32 || b[0] != deviceVersion {
		return 0, "", false
	}
	k := kr.byID(b[1 : 1+KeyIDLength])
	if k == nil {
		return 0, "", false
	}
	body, sig := b[:len(b)-32], b[len(b)-32:]
	userID = int64(binary.BigEndian.Uint64(body[1+KeyIDLength:]))
	if !hmac.Equal(sig, mac(k.device, userID, body)) {
		return 0, "", false
	}
	exp := int64(binary.BigEndian.Uint64(body[1+KeyIDLength+8:]))
	if now.Unix() >= exp {
		return 0, "", false
	}
	return userID, string(body[1+KeyIDLength+16:]), true
}
