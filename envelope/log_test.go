package envelope_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
)

// captureDefault points slog.Default() at a buffer for the test.
func captureDefault(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	return &buf
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// A 5xx is logged even when Error is given no logger: to slog.Default(),
// at level ERROR, with the request's id, method, path, status, code and
// cause. A 4xx is not logged.
func TestErrorLogs5xxWithNilLogger(t *testing.T) {
	def := captureDefault(t)
	r := httptest.NewRequest("POST", "/api/login", nil)
	r = r.WithContext(logging.WithRequestID(r.Context(), "rid-5xx"))
	envelope.Error(httptest.NewRecorder(), r, nil, simpleuser.ErrInvalidCode)
	if def.Len() != 0 {
		t.Fatalf("a 4xx was logged: %s", def)
	}
	w := httptest.NewRecorder()
	envelope.Error(w, r, nil, backend.Unavailable("redis", errors.New("dial tcp: connection refused")))
	got := lines(t, def)
	if w.Code != 503 || len(got) != 1 {
		t.Fatalf("status %d, lines %v", w.Code, got)
	}
	l := got[0]
	for k, want := range map[string]any{
		"level": "ERROR", "request_id": "rid-5xx", "method": "POST", "path": "/api/login",
		"status": float64(503), "code": simpleuser.CodeUnavailable,
	} {
		if l[k] != want {
			t.Errorf("%s = %v, want %v (line %v)", k, l[k], want, l)
		}
	}
	if c, _ := l["cause"].(string); !strings.Contains(c, "connection refused") {
		t.Errorf("cause %q", c)
	}

	// A given logger gets the line instead, with the id too.
	var own bytes.Buffer
	envelope.Error(httptest.NewRecorder(), r, slog.New(slog.NewJSONHandler(&own, nil)), errors.New("unexpected"))
	if got := lines(t, &own); len(got) != 1 || got[0]["request_id"] != "rid-5xx" || got[0]["status"] != float64(500) {
		t.Fatalf("own logger got %v", got)
	}
	if len(lines(t, def)) != 1 {
		t.Fatalf("slog.Default() got a line meant for the given logger: %s", def)
	}
}

// Data that cannot be encoded turns the answer into a 500 INTERNAL and is
// returned, for LogEncodeFailure to log like any 5xx.
func TestWriteReturnsEncodeFailure(t *testing.T) {
	def := captureDefault(t)
	w := httptest.NewRecorder()
	err := envelope.OK(w, map[string]any{"ratio": math.NaN()})
	var env struct {
		StatusCode int
		Data       map[string]any
	}
	if err == nil || w.Code != 500 || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.StatusCode != 500 || env.Data["code"] != simpleuser.CodeInternal {
		t.Fatalf("err %v, answer %d %s", err, w.Code, w.Body)
	}
	r := httptest.NewRequest("GET", "/api/user-center/me", nil)
	r = r.WithContext(logging.WithRequestID(r.Context(), "rid-enc"))
	envelope.LogEncodeFailure(r, nil, err)
	envelope.LogEncodeFailure(r, nil, nil)
	got := lines(t, def)
	if len(got) != 1 || got[0]["request_id"] != "rid-enc" || got[0]["status"] != float64(500) || got[0]["code"] != simpleuser.CodeInternal || got[0]["level"] != "ERROR" {
		t.Fatalf("lines %v", got)
	}
	if err := envelope.OK(httptest.NewRecorder(), map[string]any{"ok": 1}); err != nil {
		t.Fatalf("OK of encodable data: %v", err)
	}
}
