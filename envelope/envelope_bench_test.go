package envelope_test

// Benchmarks of the envelope encoder: a success with small data (the
// whoami answer), with a user object (the /me answer), and errors.
//
//	go test -run '^$' -bench . -benchmem ./envelope

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
)

type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(int)             {}

// benchMe has the shape of handlers' /me data.
type benchMe struct {
	ID          int64          `json:"id"`
	Email       *string        `json:"email"`
	Registered  bool           `json:"registered"`
	PasswordSet bool           `json:"passwordSet"`
	Metadata    map[string]any `json:"metadata"`
	CreatedAt   string         `json:"createdAt"`
}

func BenchmarkOK(b *testing.B) {
	email := "ada@example.com"
	for _, tc := range []struct {
		name string
		data any
	}{
		{"nil", nil},
		{"whoami-map", map[string]any{"userId": int64(123456)}},
		{"me-struct", &benchMe{ID: 123456, Email: &email, Registered: true, Metadata: map[string]any{},
			CreatedAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				envelope.OK(w, tc.data)
			}
		})
	}
}

func BenchmarkError(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/api/user-center/me", nil)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"401", simpleuser.ErrInvalidToken},
		{"429-wait", &simpleuser.Error{Status: 429, Code: simpleuser.CodeCooldown, Message: "wait", Wait: 42 * time.Second}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				envelope.Error(w, r, nil, tc.err)
			}
		})
	}
}

// BenchmarkTimestamp compares the hand-written timestamp with AppendFormat.
func BenchmarkTimestamp(b *testing.B) {
	ts := time.Date(2026, 11, 25, 18, 52, 14, 55_000_000, time.UTC)
	buf := make([]byte, 0, 32)
	b.Run("AppendTimestamp", func(b *testing.B) {
		for b.Loop() {
			buf = envelope.AppendTimestamp(buf[:0], ts)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = ts.AppendFormat(buf[:0], envelope.TimestampLayout)
		}
	})
}
