package handlers

import (
	"net/http"

	"bytes"
	"encoding/json"
	"github.com/simpleuser/simpleuser/envelope"
	"strings"
	"testing"
)

// plainMe has meUser's fields and tags but none of its methods: what
// encoding/json writes for a meUser.
type plainMe meUser

// AppendJSON must write byte for byte what encoding/json writes.
func TestMeAppendJSONMatchesEncodingJSON(t *testing.T) {
	email, odd := "ann@example.com", "a\"<b>&\\c\u2028é@example.com"
	users := map[string]*meUser{
		"registered": {ID: 42, Email: &email, Registered: true, PasswordSet: true, Metadata: map[string]any{},
			Settings: map[string]any{}, CreatedAt: "2026-11-25T15:00:00.123Z"},
		"anonymous": {ID: 7, CreatedAt: "2026-11-25T15:00:00.000Z"},
		"full": {ID: -1, Email: &odd, Metadata: map[string]any{"z": 1.5, "a": []any{"x", nil, true}, "<": map[string]any{}},
			Settings: map[string]any{"theme": "dark", "n": int64(1) << 60}, CreatedAt: "\x01"},
	}
	for name, u := range users {
		want, err := json.Marshal((*plainMe)(u))
		if err != nil {
			t.Fatal(err)
		}
		got, err := u.AppendJSON([]byte("prefix"))
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%s: AppendJSON\n got %s (%v)\nwant prefix%s", name, got, err, want)
		}
	}
}

// The merged object is the kit's fields in order, then the app's other
// fields sorted by name, each value as encoding/json writes it; the kit's
// fields win a clash.
func TestMeMergedJSON(t *testing.T) {
	email := "ann@example.com"
	kit := &meUser{ID: 42, Email: &email, Registered: true, Metadata: map[string]any{}, Settings: map[string]any{}, CreatedAt: "2026-11-25T15:00:00.123Z"}
	type inner struct {
		A int    `json:"a"`
		B string `json:"-"`
	}
	extra := map[string]any{
		"nickname": "Ann <3", "credits": 3, "big": int64(1) << 62, "ratio": 0.1, "ok": false, "none": nil,
		"id": 999, "email": "spoof", "tags": []string{"x"}, "obj": inner{A: 1, B: "hidden"}, "raw": json.RawMessage(` { "k" : 1 } `),
		"empty": map[string]any{}, "ü": "x",
	}
	got, err := (&meMerged{kit: kit, extra: extra}).AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	kitJSON, _ := json.Marshal((*plainMe)(kit))
	rest := map[string]any{}
	for k, v := range extra {
		if k != "id" && k != "email" {
			rest[k] = v
		}
	}
	restJSON, _ := json.Marshal(rest)
	want := string(kitJSON[:len(kitJSON)-1]) + "," + string(restJSON[1:])
	if string(got) != want {
		t.Fatalf("merged\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) || strings.Contains(string(got), "spoof") || strings.Contains(string(got), "hidden") {
		t.Fatalf("merged output %s", got)
	}
	// A value encoding/json refuses fails the whole encoding.
	if _, err := (&meMerged{kit: kit, extra: map[string]any{"f": func() {}}}).AppendJSON(nil); err == nil {
		t.Fatal("a func value encoded")
	}
	// No extra fields: the kit's object alone.
	if got, _ := (&meMerged{kit: kit, extra: map[string]any{"id": 1}}).AppendJSON(nil); string(got) != string(kitJSON) {
		t.Fatalf("only clashing extras: %s", got)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkMeEnvelope is the /me answer of the example app (the kit's
// fields and three app fields) through envelope.OK: "appender" is what the
// handler sends, "reflection" the same data through encoding/json.
//
//	go test -run '^$' -bench MeEnvelope -benchmem ./handlers
func BenchmarkMeEnvelope(b *testing.B) {
	email := "u123457@bench.example.com"
	kit := &meUser{ID: 123457, Email: &email, Registered: true, Metadata: map[string]any{}, Settings: map[string]any{}, CreatedAt: "2026-11-25T15:00:00.123Z"}
	extra := map[string]any{"nickname": "u123457", "referralCode": "R123457", "credits": 0}
	merged := &meMerged{kit: kit, extra: extra}
	for name, data := range map[string]any{"appender": merged, "reflection": json.Marshaler(reflected{merged})} {
		b.Run(name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				envelope.OK(w, data)
			}
		})
	}
}

// reflected encodes a meMerged the way the handler did before AppendJSON:
// json.Marshal of the kit's struct and of the app's map, spliced.
type reflected struct{ m *meMerged }

func (r reflected) MarshalJSON() ([]byte, error) {
	k, err := json.Marshal((*plainMe)(r.m.kit))
	if err != nil {
		return nil, err
	}
	e, err := json.Marshal(r.m.extra)
	if err != nil {
		return nil, err
	}
	k[len(k)-1] = ','
	return append(k, e[1:]...), nil
}
