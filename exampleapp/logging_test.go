package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestLogFlags(t *testing.T) {
	s, err := parseFlags(nil)
	if err != nil || s.log != (logSettings{level: "info", format: "json"}) {
		t.Fatalf("defaults %+v, %v", s.log, err)
	}
	t.Setenv("SIMPLEUSER_LOG_LEVEL", "warn")
	t.Setenv("SIMPLEUSER_LOG_FORMAT", "text")
	if s, _ = parseFlags(nil); s.log != (logSettings{level: "warn", format: "text"}) {
		t.Fatalf("from the environment %+v", s.log)
	}
	if s, _ = parseFlags([]string{"-log-level", "debug", "-log-format", "json"}); s.log != (logSettings{level: "debug", format: "json"}) {
		t.Fatalf("flags over the environment %+v", s.log)
	}

	var buf bytes.Buffer
	log, err := newLogger(logSettings{level: "debug", format: "text"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("d")
	if l := buf.String(); !strings.HasPrefix(l, "time=") || !strings.Contains(l, "level=DEBUG msg=d") {
		t.Fatalf("debug, text: %q", l)
	}
	buf.Reset()
	log, _ = newLogger(logSettings{level: "WARN", format: "json"}, &buf)
	log.Info("dropped")
	log.Warn("kept")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "kept" || line["level"] != "WARN" {
		t.Fatalf("warn, json: %q (%v)", buf.String(), err)
	}
	for _, bad := range []logSettings{{level: "verbose", format: "json"}, {level: "info", format: "xml"}} {
		if _, err := newLogger(bad, io.Discard); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// The exampleapp mounts /healthz and /readyz, and each request's log lines
// carry its X-Request-Id: here Redis is gone, so /readyz and a request
// that needs Redis answer 503, each logged with the id of its request.
func TestProbesAndRequestLogs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	var buf lockedBuffer
	log, err := newLogger(logSettings{level: "info", format: "json"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), settings{redisURL: "redis://" + dead + "/0", allowAnonymous: true}, log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	buf.take() // start-up lines

	get := func(path string, header map[string]string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		a.Handler.ServeHTTP(w, req)
		return w.Code, w.Header().Get("X-Request-Id")
	}
	if code, id := get("/healthz", nil); code != 200 || id == "" {
		t.Fatalf("healthz %d, X-Request-Id %q", code, id)
	}
	for _, path := range []string{"/readyz", "/api/user-center/me"} {
		code, id := get(path, map[string]string{"x-client-ssaid": "dev-1", "X-Request-Id": "spoofed"})
		if code != 503 || id == "" || id == "spoofed" {
			t.Fatalf("%s: %d, X-Request-Id %q", path, code, id)
		}
		lines := buf.take()
		if len(lines) == 0 {
			t.Fatalf("%s: the 503 was not logged", path)
		}
		for _, l := range lines {
			if l["request_id"] != id || l["level"] != "ERROR" {
				t.Errorf("%s: line %v, want ERROR with request_id %s", path, l, id)
			}
		}
	}
}

// lockedBuffer collects JSON log lines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines written since the last take.
func (b *lockedBuffer) take() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	b.buf.Reset()
	return out
}
