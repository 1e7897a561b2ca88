package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/logging"
)

// jsonLines decodes the JSON log lines in buf.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
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

// LogHandler adds the context's request id to every record logged with
// it, once, through loggers derived with With and WithGroup too.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logging.Handler(slog.NewJSONHandler(&buf, nil)))
	ctx := logging.WithRequestID(context.Background(), "req-1")
	if got := logging.RequestID(ctx); got != "req-1" {
		t.Fatalf("RequestID = %q", got)
	}
	if got := logging.RequestID(context.Background()); got != "" {
		t.Fatalf("RequestID of a bare context = %q", got)
	}

	log.InfoContext(ctx, "with id")
	log.Info("without context")
	log.InfoContext(context.Background(), "without id")
	log.With("k", "v").WarnContext(ctx, "derived")
	log.InfoContext(ctx, "own id", slog.String(logging.KeyRequestID, "given"))
	logging.Logger(log).ErrorContext(ctx, "wrapped twice")
	slog.New(logging.Handler(logging.Handler(log.Handler()))).InfoContext(ctx, "handler wrapped twice")
	log.WithGroup("g").InfoContext(ctx, "grouped", "a", 1)

	lines := jsonLines(t, &buf)
	want := []struct {
		msg string
		id  any
	}{
		{"with id", "req-1"}, {"without context", nil}, {"without id", nil},
		{"derived", "req-1"}, {"own id", "given"}, {"wrapped twice", "req-1"},
		{"handler wrapped twice", "req-1"},
	}
	if len(lines) != len(want)+1 {
		t.Fatalf("%d lines, want %d: %s", len(lines), len(want)+1, buf.String())
	}
	for i, w := range want {
		if lines[i]["msg"] != w.msg || lines[i][logging.KeyRequestID] != w.id {
			t.Errorf("line %d = %v, want msg %q request_id %v", i, lines[i], w.msg, w.id)
		}
	}
	if lines[3]["k"] != "v" {
		t.Errorf("With lost its attribute: %v", lines[3])
	}
	if n := strings.Count(buf.String(), `"request_id"`); n != 6 {
		t.Errorf("%d request_id attributes, want 6 (one per line with an id): %s", n, buf.String())
	}
	g, _ := lines[len(lines)-1]["g"].(map[string]any)
	if g == nil || g[logging.KeyRequestID] != "req-1" {
		t.Errorf("grouped line = %v, want request_id inside group g", lines[len(lines)-1])
	}
}

// Logger(nil) is slog.Default() as it is at the call, wrapped; a wrapped
// logger is returned as it is.
func TestLoggerDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))

	l := logging.Logger(nil)
	if logging.Logger(l) != l {
		t.Fatal("Logger wrapped an already wrapped logger again")
	}
	l.WarnContext(logging.WithRequestID(context.Background(), "abc"), "hello")
	lines := jsonLines(t, &buf)
	if len(lines) != 1 || lines[0]["msg"] != "hello" || lines[0][logging.KeyRequestID] != "abc" {
		t.Fatalf("lines %v", lines)
	}
}
