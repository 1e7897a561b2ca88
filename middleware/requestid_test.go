package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
)

// seenID serves a request through RequestID(trusted) and returns the id
// the handler saw in its context and the X-Request-Id of the response.
func seenID(t *testing.T, trusted []netip.Prefix, peer, header string) (ctxID, respID string) {
	t.Helper()
	h := RequestID(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctxID = logging.RequestID(r.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = peer
	if header != "" {
		req.Header.Set(HeaderRequestID, header)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return ctxID, w.Header().Get(HeaderRequestID)
}

func TestRequestID(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	long := strings.Repeat("a", MaxRequestIDLength)
	for _, tc := range []struct {
		name, peer, header string
		trusted            []netip.Prefix
		kept               bool
	}{
		{"trusted proxy", "10.1.2.3:5555", "proxy-id-1", trusted, true},
		{"trusted proxy, mapped IPv6 peer", "[::ffff:10.1.2.3]:5555", "0f8fad5b-d9cb-469f-a165-70867728950e", trusted, true},
		{"trusted proxy, longest id", "10.1.2.3:5555", long, trusted, true},
		{"spoofed by an untrusted peer", "203.0.113.9:5555", "chosen-by-client", trusted, false},
		{"no trusted proxy configured", "10.1.2.3:5555", "chosen-by-client", nil, false},
		{"too long", "10.1.2.3:5555", long + "a", trusted, false},
		{"space", "10.1.2.3:5555", "two words", trusted, false},
		{"control character", "10.1.2.3:5555", "id\x01", trusted, false},
		{"non-ASCII", "10.1.2.3:5555", "idé", trusted, false},
		{"absent", "10.1.2.3:5555", "", trusted, false},
		{"unix socket peer", "@", "proxy-id", trusted, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxID, respID := seenID(t, tc.trusted, tc.peer, tc.header)
			if ctxID == "" || ctxID != respID {
				t.Fatalf("context id %q, response header %q: want the same, non-empty", ctxID, respID)
			}
			if tc.kept {
				if ctxID != tc.header {
					t.Fatalf("id %q, want the proxy's %q", ctxID, tc.header)
				}
				return
			}
			if ctxID == tc.header || len(ctxID) != 26 || strings.Trim(ctxID, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("id %q, want a generated one (26 base32 characters)", ctxID)
			}
		})
	}
	a, _ := seenID(t, nil, "192.0.2.1:1", "")
	b, _ := seenID(t, nil, "192.0.2.1:1", "")
	if a == b {
		t.Fatalf("two requests got the same generated id %q", a)
	}
}

// An inner RequestID (handlers.New mounts one) keeps the outer one's id.
func TestRequestIDStacked(t *testing.T) {
	var inner string
	h := RequestID(nil)(RequestID(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = logging.RequestID(r.Context())
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if inner == "" || w.Header().Get(HeaderRequestID) != inner || len(w.Header().Values(HeaderRequestID)) != 1 {
		t.Fatalf("inner id %q, response %v", inner, w.Header().Values(HeaderRequestID))
	}
}

// Every line the middleware logs for a request carries the request id:
// a recovered panic (logged once, not again as a 5xx), and a 5xx answered
// by RequireUser, which has no logger of its own and so logs to
// slog.Default().
func TestMiddlewareLogLinesCarryRequestID(t *testing.T) {
	var logs, def bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewJSONHandler(&def, nil)))
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	e := newService(t)
	panicky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := RequestID(nil)(Recover(log)(Identity(e.svc, Options{Logger: log})(panicky)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
	id := w.Header().Get(HeaderRequestID)
	lines := decodeLines(t, &logs)
	if w.Code != 500 || len(lines) != 1 || lines[0][logging.KeyRequestID] != id || id == "" {
		t.Fatalf("panic: status %d, id %q, lines %v", w.Code, id, lines)
	}

	down := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		envelope.Error(w, r, nil, backend.Unavailable("postgres", errors.New("connection refused")))
	})
	w = httptest.NewRecorder()
	RequestID(nil)(down).ServeHTTP(w, httptest.NewRequest("GET", "/d", nil))
	id = w.Header().Get(HeaderRequestID)
	lines = decodeLines(t, &def)
	if w.Code != 503 || len(lines) != 1 || lines[0][logging.KeyRequestID] != id || lines[0]["path"] != "/d" {
		t.Fatalf("503 with no logger: status %d, id %q, slog.Default() got %v", w.Code, id, lines)
	}
}

func decodeLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
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

func TestValidRequestID(t *testing.T) {
	for s, want := range map[string]bool{
		"":                                      false,
		"a":                                     true,
		"a b":                                   false,
		"a\tb":                                  false,
		"a\x7f":                                 false,
		"~!*'()=":                               true,
		strings.Repeat("x", MaxRequestIDLength): true,
		strings.Repeat("x", MaxRequestIDLength+1): false,
	} {
		if got := ValidRequestID(s); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", s, got, want)
		}
	}
}
