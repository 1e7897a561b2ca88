package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/user"
)

// logLines decodes JSON log lines.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
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

// Every line the kit logs while serving a request, the service's and the
// handler's, carries that request's id, the one answered in X-Request-Id;
// a client cannot choose it, a trusted proxy can.
func TestLogLinesCarryRequestID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	e := newEnv(t,
		withConfig(func(c *simpleuser.Config) { c.Logger = log }),
		withOptions(func(o *Options) {
			o.Logger = log
			o.TrustedProxies = []netip.Prefix{proxy}
			o.MeFields = func(context.Context, *user.User) (map[string]any, error) {
				return map[string]any{"score": math.NaN()}, nil // encoding/json refuses NaN: a 500
			}
		}))

	// A failed delivery: the service logs it, the handler logs the 502.
	e.failSend.Store(true)
	r := e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid("d"), ip: "203.0.113.7",
		header: map[string]string{"X-Request-Id": "client-chosen"},
		body:   map[string]any{"email": e.email("a"), "codePurpose": "Login"}}).want(t, 502, "SEND_FAILED")
	id := r.header.Get("X-Request-Id")
	if id == "" || id == "client-chosen" {
		t.Fatalf("X-Request-Id %q: want a generated id, not the untrusted client's", id)
	}
	lines := logLines(t, &logs)
	if len(lines) < 2 {
		t.Fatalf("want the service's and the handler's lines, got %v", lines)
	}
	for _, l := range lines {
		if l[logging.KeyRequestID] != id {
			t.Errorf("line without the request id %q: %v", id, l)
		}
	}

	// Data the API cannot encode: a 500, logged with the id a trusted proxy gave.
	logs.Reset()
	r = e.do(rq{method: "GET", path: "/user-center/me", ssaid: e.ssaid("d"), ip: "10.1.1.1",
		header: map[string]string{"X-Request-Id": "proxy-abc-123"}}).want(t, 500, "INTERNAL")
	if got := r.header.Get(middleware.HeaderRequestID); got != "proxy-abc-123" {
		t.Fatalf("X-Request-Id %q, want the trusted proxy's", got)
	}
	lines = logLines(t, &logs)
	if len(lines) != 1 || lines[0][logging.KeyRequestID] != "proxy-abc-123" || lines[0]["status"] != float64(500) || lines[0]["path"] != "/api/user-center/me" {
		t.Fatalf("500 lines %v", lines)
	}

	// Every answer carries an id, a 4xx and a 404 too.
	for _, q := range []rq{{method: "GET", path: "/user-center/me"}, {method: "GET", path: "/nowhere"}} {
		if r := e.do(q); r.header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: %d without X-Request-Id", q.method, q.path, r.code)
		}
	}
}
