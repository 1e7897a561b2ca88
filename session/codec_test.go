package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() Data {
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 123000000, time.UTC)
	return Data{UserID: 42, CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour), LastSeen: t0.Add(time.Minute),
		IP: "2001:db8::7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", UserData: json.RawMessage(`{"nickname":"neo"}`)}
}

func TestCodecRoundTrip(t *testing.T) {
	for name, d := range map[string]Data{
		"full":       sample(),
		"ipv4":       {UserID: 1, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, IP: "198.51.100.9"},
		"no ip":      {UserID: 1 << 40, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt},
		"odd ip":     {UserID: 7, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, IP: "fe80::1%eth0"},
		"not an ip":  {UserID: 7, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, IP: "unix"},
		"mapped ip4": {UserID: 7, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, IP: "::ffff:1.2.3.4"},
		"zero times": {UserID: 7, IP: "192.0.2.1"},
		"only later": {UserID: 7, ExpiresAt: sample().ExpiresAt, LastSeen: sample().LastSeen},
		"before 1970": {UserID: 7, CreatedAt: time.Date(1969, 7, 20, 20, 17, 40, 5e6, time.UTC),
			ExpiresAt: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
		"browser ua":   {UserID: 7, CreatedAt: sample().CreatedAt, UserAgent: chromeUA},
		"unknown ua":   {UserID: 7, CreatedAt: sample().CreatedAt, UserAgent: "SomeInternalTool/3.2 (build 20261125; +https://tools.example.net)"},
		"short ua":     {UserID: 7, CreatedAt: sample().CreatedAt, UserAgent: "curl/8.5.0"},
		"very long ua": {UserID: 7, CreatedAt: sample().CreatedAt, UserAgent: strings.Repeat(chromeUA, 50)},
		"binary ua":    {UserID: 7, CreatedAt: sample().CreatedAt, UserAgent: "\x00\xff\xfe Mozilla/5.0 (Windows NT 10.0; Win64; x64)\x80"},
		"factors": func() Data {
			d := sample()
			d.Stage, d.AuthAt, d.MFA = StageMFA, d.CreatedAt.Add(-time.Second), true
			d.AMR, d.Factors = []string{"pwd", "otp", "mfa"}, []string{"totp", "recovery"}
			return d
		}(),
		"auth at only":              {UserID: 7, CreatedAt: sample().CreatedAt, AuthAt: sample().CreatedAt},
		"mfa flag only":             {UserID: 7, MFA: true},
		"email verified only":       {UserID: 7, EmailVerified: true},
		"both flags":                {UserID: 7, MFA: true, EmailVerified: true, AMR: []string{"sms"}},
		"must change password only": {UserID: 7, MustChangePassword: true},
		"all flags":                 {UserID: 7, MFA: true, EmailVerified: true, MustChangePassword: true},
	} {
		var got Data
		if err := Decode(Encode(&d), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, got, d)
		}
	}
}

// A body without factor state is written as version 2, as before; one
// with it as version 3.
func TestCodecVersion3OnlyWhenNeeded(t *testing.T) {
	d := sample()
	if b := Encode(&d); b[0] != codecV2 {
		t.Errorf("a session without factor state is version %d", b[0])
	}
	d.AMR = []string{"pwd"}
	b := Encode(&d)
	if b[0] != codecV3 {
		t.Errorf("a session with an AMR is version %d", b[0])
	}
	for i := 1; i < len(b)-len(d.UserData); i++ { // every truncation is refused
		var got Data
		if err := Decode(b[:i], &got); err == nil {
			t.Fatalf("a body cut at %d decoded: %+v", i, got)
		}
	}
}

// chromeUA is a browser user agent whose version is not the one in the
// dictionary.
const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

func TestCodecIsCompact(t *testing.T) {
	d := sample()
	js, _ := json.Marshal(d)
	if b := Encode(&d); len(b) > len(js)/2 {
		t.Fatalf("binary body %d bytes, JSON %d: want at most half", len(b), len(js))
	}
	// A browser's user agent is packed against the dictionary: the body
	// without user data is at most 40 bytes, where the raw UA alone is 111.
	d = Data{UserID: 123456, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, IP: "198.51.100.9", UserAgent: chromeUA}
	if b := Encode(&d); len(b) > 40 {
		t.Fatalf("body with a %d-byte browser user agent: %d bytes, want <= 40", len(chromeUA), len(b))
	}
	// Other user agents never grow: at most the raw bytes and their length.
	for _, ua := range []string{"curl/8.5.0", "SomeInternalTool/3.2 (build 20261125)", strings.Repeat("z", 300)} {
		var raw Data
		raw.UserAgent = ua
		if b := Encode(&raw); len(b) > 8+len(ua)+2 {
			t.Errorf("user agent %q: body %d bytes, raw %d", ua, len(b), len(ua))
		}
	}
}

// The dictionary is part of the stored format: changing it would make every
// stored session with a packed user agent decode wrongly.
func TestUADictIsFrozen(t *testing.T) {
	const want = "b24569c04ea4927523a773d6cdfbfbeff5fc1ed689c274d4f18dca68ca190e7b"
	if h := sha256.Sum256([]byte(uaDict1)); hex.EncodeToString(h[:]) != want {
		t.Fatalf("dictionary 1 changed (sha256 %x): add a new dictionary and body version instead", h)
	}
}

// A version 1 body, as the previous version of the kit wrote it (sample()
// with microsecond times), still decodes.
func TestCodecReadsVersion1(t *testing.T) {
	b, _ := hex.DecodeString("012a80d9a3f9acc6b00680d98ded9cddb10680f5bfb2adc6b0061020010db80000000000000000000000071f4d6f7a696c6c612f352e3020285831313b204c696e7578207838365f3634297b226e69636b6e616d65223a226e656f227d")
	var got Data
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 123456000, time.UTC)
	want := sample()
	want.CreatedAt, want.ExpiresAt, want.LastSeen = t0, t0.Add(30*24*time.Hour), t0.Add(time.Minute)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("version 1 body\n got %+v\nwant %+v", got, want)
	}
}

func TestCodecReadsLegacyJSON(t *testing.T) {
	d := sample()
	js, _ := json.Marshal(d)
	var got Data
	if err := Decode(js, &got); err != nil || got.UserID != 42 || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Fatalf("legacy JSON: %+v, %v", got, err)
	}
}

func TestCodecRejectsMalformed(t *testing.T) {
	good := Encode(&Data{UserID: 3, CreatedAt: sample().CreatedAt, ExpiresAt: sample().ExpiresAt, UserAgent: "ua", UserData: json.RawMessage(`{"a":1}`)})
	for name, b := range map[string][]byte{
		"empty":        nil,
		"version":      append([]byte{9}, good[1:]...),
		"truncated":    good[:5],
		"bad ip tag":   {1, 1, 0, 0, 0, 7},
		"data not obj": append(Encode(&Data{UserID: 1}), '['),
		"huge length":  {1, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"v2 huge ua":   {2, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"v2 bad pack":  {2, 1, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff},
		"v2 pack > 4k": append([]byte{2, 1, 0, 0, 0, 0, 7}, 0x80, 0x40, 'a'), // claims 8192 bytes
		"v2 truncated": good[:len(good)-9],
	} {
		var d Data
		if err := Decode(b, &d); err == nil {
			t.Errorf("%s: accepted %v as %+v", name, b, d)
		}
	}
}

func FuzzDecode(f *testing.F) {
	d := sample()
	f.Add(Encode(&d))
	js, _ := json.Marshal(d)
	f.Add(js)
	f.Add([]byte{1, 0, 0, 0, 0, 255, 3, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Data
		if Decode(b, &d) != nil || len(b) == 0 || b[0] == '{' {
			return
		}
		if b[0] == codecV1 { // re-encoded as version 2: milliseconds
			d.CreatedAt, d.ExpiresAt, d.LastSeen = truncMilli(d.CreatedAt), truncMilli(d.ExpiresAt), truncMilli(d.LastSeen)
		}
		// Whatever decodes re-encodes to something that decodes the same.
		var again Data
		if err := Decode(Encode(&d), &again); err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-encode of %+v: %+v, %v", d, again, err)
		}
	})
}

// truncMilli is t as a version 2 body keeps it (the Unix epoch reads as the zero time).
func truncMilli(t time.Time) time.Time {
	if t.IsZero() || t.UnixMilli() == 0 {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func TestEndReturnsWhatItEnded(t *testing.T) {
	st := &mapStore{m: map[string][]byte{}}
	idx := &nopIndex{}
	clock := time.Now()
	m := &Manager{Store: st, Index: idx, Now: func() time.Time { return clock }}
	tok, err := m.Create(t.Context(), Data{UserID: 9, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.End(t.Context(), tok)
	if err != nil || d == nil || d.UserID != 9 || d.IP != "192.0.2.1" {
		t.Fatalf("End = %+v, %v", d, err)
	}
	if d, err := m.End(t.Context(), tok); d != nil || err != nil {
		t.Fatalf("second End = %+v, %v; want nil, nil", d, err)
	}
	if _, err := m.Get(t.Context(), tok); err != ErrNotFound {
		t.Fatalf("Get after End: %v", err)
	}
	if idx.removed != 1 {
		t.Fatalf("index removals %d, want 1", idx.removed)
	}
	// An expired body still in the store is deleted but reported as no live session.
	tok2, _ := m.Create(t.Context(), Data{UserID: 9})
	clock = clock.Add(DefaultLifetime + time.Second)
	if d, err := m.End(t.Context(), tok2); d != nil || err != nil {
		t.Fatalf("End of an expired session = %+v, %v", d, err)
	}
	if len(st.m) != 0 {
		t.Fatal("the expired body was left in the store")
	}
}

type mapStore struct{ m map[string][]byte }

func (s *mapStore) Find(k string) ([]byte, bool, error) { b, ok := s.m[k]; return b, ok, nil }
func (s *mapStore) Commit(k string, b []byte, _ time.Time) error {
	s.m[k] = b
	return nil
}
func (s *mapStore) Delete(k string) error { delete(s.m, k); return nil }

type nopIndex struct{ removed int }

func (*nopIndex) Add(context.Context, int64, string, time.Time, int) ([]string, error) {
	return nil, nil
}
func (i *nopIndex) Remove(context.Context, int64, ...string) error { i.removed++; return nil }
func (*nopIndex) List(context.Context, int64, time.Time) ([]string, error) {
	return nil, nil
}
func (*nopIndex) PopAll(context.Context, int64) ([]string, error) { return nil, nil }
