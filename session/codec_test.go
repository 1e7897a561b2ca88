package session

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func sample() Data {
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 123456000, time.UTC)
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

func TestCodecIsCompact(t *testing.T) {
	d := sample()
	js, _ := json.Marshal(d)
	if b := Encode(&d); len(b) > len(js)/2 {
		t.Fatalf("binary body %d bytes, JSON %d: want at most half", len(b), len(js))
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
		// Whatever decodes re-encodes to something that decodes the same.
		var again Data
		if err := Decode(Encode(&d), &again); err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-encode of %+v: %+v, %v", d, again, err)
		}
	})
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

func (*nopIndex) Add(context.Context, int64, string, time.Time) error { return nil }
func (i *nopIndex) Remove(context.Context, int64, string) error       { i.removed++; return nil }
func (*nopIndex) List(context.Context, int64, time.Time) ([]string, error) {
	return nil, nil
}
func (*nopIndex) PopAll(context.Context, int64) ([]string, error) { return nil, nil }
