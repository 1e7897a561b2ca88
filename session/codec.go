package session

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/netip"
	"time"
)

// The session body format. Resolving a token decodes one body per request
// and Redis holds one per session, so the body is a small binary record
// rather than JSON: several times smaller and faster to decode.
//
//	byte     version (2)
//	uvarint  user id
//	varint   created: Unix milliseconds (0: zero time)
//	uvarint  expires, then last seen: 0 for the zero time, else
//	         zigzag(milliseconds since created) + 1
//	byte     IP: 0 none, 4 or 16 raw address bytes follow, 255 a string follows (uvarint length)
//	uvarint  user agent: n<<1 | packed, then n bytes: the user agent, or
//	         when packed an S2 block of it against dictionary 1 (uadict.go)
//	rest     the app's user data (a JSON object), if any
//
// Version 3 is version 2 with the factor state between the user agent
// and the user data: the stage (uvarint length and bytes), AuthAt
// (relative, as expires), a flags byte (bit 0: MFA, bit 1: EmailVerified,
// bit 2: MustChangePassword), then AMR and Factors,
// each a uvarint count of strings (uvarint length and bytes). A session
// with none of them set is written as version 2.
//
// Version 4 is version 3 followed by the tenant: its id (uvarint), then
// Roles and Permissions as string lists. A session in no tenant is
// written as version 3 (or 2).
//
// Version 1 (the same record with the three times as Unix microseconds and
// the user agent always raw) and the JSON rendering of Data, both written
// by older versions of the kit, are still read.
const (
	codecV1 = 1
	codecV2 = 2
	codecV3 = 3
	codecV4 = 4
)

var errBadBody = errors.New("session: malformed body")

// Encode returns the stored form of d. Times keep millisecond precision.
func Encode(d *Data) []byte {
	v4 := d.TenantID != 0 || len(d.Roles) > 0 || len(d.Permissions) > 0
	v3 := v4 || d.Stage != "" || !d.AuthAt.IsZero() || d.MFA || d.EmailVerified || d.MustChangePassword || len(d.AMR) > 0 || len(d.Factors) > 0
	b := make([]byte, 0, 56+len(d.UserAgent)/4+len(d.UserData))
	if v4 {
		b = append(b, codecV4)
	} else if v3 {
		b = append(b, codecV3)
	} else {
		b = append(b, codecV2)
	}
	b = binary.AppendUvarint(b, uint64(d.UserID))
	base := unixMilli(d.CreatedAt)
	b = binary.AppendVarint(b, base)
	b = appendRel(b, d.ExpiresAt, base)
	b = appendRel(b, d.LastSeen, base)
	switch ip, err := netip.ParseAddr(d.IP); {
	case d.IP == "":
		b = append(b, 0)
	case err == nil && ip.Zone() == "" && ip.String() == d.IP:
		raw := ip.AsSlice()
		b = append(b, byte(len(raw)))
		b = append(b, raw...)
	default:
		b = append(b, 255)
		b = appendString(b, d.IP)
	}
	b = appendUA(b, d.UserAgent)
	if v3 {
		b = appendString(b, d.Stage)
		b = appendRel(b, d.AuthAt, base)
		flags := byte(0)
		if d.MFA {
			flags |= 1
		}
		if d.EmailVerified {
			flags |= 2
		}
		if d.MustChangePassword {
			flags |= 4
		}
		b = append(b, flags)
		b = appendStrings(b, d.AMR)
		b = appendStrings(b, d.Factors)
	}
	if v4 {
		b = binary.AppendUvarint(b, uint64(d.TenantID))
		b = appendStrings(b, d.Roles)
		b = appendStrings(b, d.Permissions)
	}
	return append(b, d.UserData...)
}

func appendStrings(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// Decode reads a body written by Encode (or, from older versions of the
// kit, a version 1 body or the JSON rendering of Data) into d.
func Decode(b []byte, d *Data) error {
	*d = Data{}
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, d)
	}
	r := reader{b: b}
	v := r.byte()
	if v < codecV1 || v > codecV4 {
		return errBadBody
	}
	d.UserID = int64(r.uvarint())
	var base int64
	if v == codecV1 {
		d.CreatedAt, d.ExpiresAt, d.LastSeen = r.time(), r.time(), r.time()
	} else {
		base = r.varint()
		d.CreatedAt, d.ExpiresAt, d.LastSeen = fromMilli(base), r.rel(base), r.rel(base)
	}
	switch n := r.byte(); n {
	case 0:
	case 4, 16:
		if a, ok := netip.AddrFromSlice(r.bytes(int(n))); ok {
			d.IP = a.String()
		}
	case 255:
		d.IP = r.string()
	default:
		return errBadBody
	}
	if v == codecV1 {
		d.UserAgent = r.string()
	} else {
		d.UserAgent = r.ua()
	}
	if v >= codecV3 {
		d.Stage = r.string()
		d.AuthAt = r.rel(base)
		flags := r.byte()
		d.MFA, d.EmailVerified, d.MustChangePassword = flags&1 != 0, flags&2 != 0, flags&4 != 0
		d.AMR, d.Factors = r.strings(), r.strings()
	}
	if v == codecV4 {
		d.TenantID = int64(r.uvarint())
		d.Roles, d.Permissions = r.stringList(), r.stringList()
	}
	if r.err {
		return errBadBody
	}
	if rest := r.b[r.i:]; len(rest) > 0 {
		if rest[0] != '{' || !json.Valid(rest) {
			return errBadBody
		}
		d.UserData = append(json.RawMessage(nil), rest...)
	}
	return nil
}

// unixMilli is t in Unix milliseconds, 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// appendRel appends t relative to base (Unix ms): 0 for the zero time, else
// zigzag(t - base) + 1, so a 30-day expiry takes 5 bytes.
func appendRel(b []byte, t time.Time, base int64) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	delta := t.UnixMilli() - base
	return binary.AppendUvarint(b, uint64(delta<<1^delta>>63)+1)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader reads a body; any overrun sets err and yields zero values.
type reader struct {
	b   []byte
	i   int
	err bool
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.err = true
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.err = true
		return 0
	}
	r.i += n
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.err = true
		return 0
	}
	r.i += n
	return v
}

// rel reads what appendRel wrote.
func (r *reader) rel(base int64) time.Time {
	z := r.uvarint()
	if z == 0 {
		return time.Time{}
	}
	z--
	return fromMilli(base + (int64(z>>1) ^ -int64(z&1)))
}

// time reads a version 1 time (Unix microseconds, 0 for the zero time).
func (r *reader) time() time.Time {
	if v := r.varint(); v != 0 {
		return time.UnixMicro(v).UTC()
	}
	return time.Time{}
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b)-r.i < n {
		r.err = true
		return nil
	}
	r.i += n
	return r.b[r.i-n : r.i]
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = true
		return ""
	}
	return string(r.bytes(int(n)))
}

// strings reads what appendStrings wrote (nil for none). The AMR and
// factor values the kit writes are returned as constants, not copies: a
// request decodes them on every session read.
func (r *reader) strings() []string {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.i) { // each string takes a byte at least
		r.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		l := r.uvarint()
		if l > uint64(len(r.b)-r.i) {
			r.err = true
			return nil
		}
		out = append(out, intern(r.bytes(int(l))))
	}
	return out
}

// stringList reads what appendStrings wrote (nil for none) with one
// string allocation for the whole list: the bytes the list spans become
// one string and each value a substring of it (the length varints between
// values are skipped). Roles and permissions are decoded on every
// session read, so this keeps a tenant session's claims at two
// allocations per list whatever their number.
func (r *reader) stringList() []string {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.i) {
		r.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	start := r.i
	for range n { // validate and find the end
		l := r.uvarint()
		if l > uint64(len(r.b)-r.i) {
			r.err = true
			return nil
		}
		r.i += int(l)
	}
	if r.err {
		return nil
	}
	all := string(r.b[start:r.i])
	out := make([]string, 0, n)
	sub := reader{b: r.b[:r.i], i: start}
	for range n {
		l := int(sub.uvarint())
		off := sub.i - start
		out = append(out, all[off:off+l])
		sub.i += l
	}
	return out
}

// intern returns the well-known value b spells without allocating, else a copy.
func intern(b []byte) string {
	switch string(b) { // compiled without a conversion
	case "pwd":
		return "pwd"
	case "otp":
		return "otp"
	case "mfa":
		return "mfa"
	case "email":
		return "email"
	case "fed":
		return "fed"
	case "hwk":
		return "hwk"
	case "swk":
		return "swk"
	case "totp":
		return "totp"
	case "recovery":
		return "recovery"
	case "passkey":
		return "passkey"
	}
	return string(b)
}
