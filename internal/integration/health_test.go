package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/internal/testenv"
)

// lockedBuffer is a log sink the handler writes and the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the JSON lines written since the last take.
func (b *lockedBuffer) take(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	b.buf.Reset()
	return out
}

// probes serves the liveness and readiness probes of an instance.
type probes struct {
	*httptest.Server
	logs *lockedBuffer
}

func probeServer(t *testing.T, in *instance) *probes {
	t.Helper()
	logs := &lockedBuffer{}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handlers.Healthz())
	mux.Handle("GET /readyz", handlers.Readyz(in.svc, handlers.ReadyOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &probes{Server: srv, logs: logs}
}

// probeGet asks a probe and checks its envelope; backends is data.backends.
func probeGet(t *testing.T, srv *probes, path string) (r *reply, backends map[string]string) {
	t.Helper()
	start := time.Now()
	resp, err := client.Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r = &reply{status: resp.StatusCode, header: resp.Header, raw: raw, elapsed: time.Since(start)}
	if err := r.check(); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
	var data struct {
		Backends map[string]string `json:"backends"`
	}
	if err := json.Unmarshal(raw, &struct {
		Data *struct {
			Backends map[string]string `json:"backends"`
		} `json:"data"`
	}{&data}); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return r, data.Backends
}

// wantReady polls /readyz until it answers 200 with every backend ok,
// failing after maxWait: the pools recover by themselves once a server is
// back.
func wantReady(t *testing.T, srv *probes) {
	t.Helper()
	deadline := time.Now().Add(maxWait)
	for {
		r, b := probeGet(t, srv, "/readyz")
		if r.status == 200 && b["postgres"] == "ok" && b["redis"] == "ok" && len(b) == 2 {
			srv.logs.take(t) // the failures while recovering
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready %v after the backends came back: %v", maxWait, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantNotReady asserts a 503 naming exactly the failing backends (in
// message and data), answered within maxWait, and /healthz still 200.
func wantNotReady(t *testing.T, srv *probes, message string, failing ...string) {
	t.Helper()
	srv.logs.take(t)
	r, b := probeGet(t, srv, "/readyz")
	r.want(t, 503, "BACKEND_UNAVAILABLE")
	if r.message != message || r.elapsed > maxWait {
		t.Fatalf("readyz: %v, want message %q within %v", r, message, maxWait)
	}
	want := map[string]string{"postgres": "ok", "redis": "ok"}
	for _, f := range failing {
		want[f] = "unavailable"
	}
	if fmt.Sprint(b) != fmt.Sprint(want) {
		t.Fatalf("readyz backends %v, want %v", b, want)
	}
	lines := srv.logs.take(t)
	if len(lines) != len(failing) {
		t.Fatalf("logged %v, want one line per failing backend %v", lines, failing)
	}
	for i, l := range lines {
		if l["level"] != "ERROR" || l["backend"] != failing[i] || l["status"] != float64(503) {
			t.Fatalf("log line %v, want an ERROR naming %s", l, failing[i])
		}
	}
	if r, _ := probeGet(t, srv, "/healthz"); r.status != 200 {
		t.Fatalf("healthz while %v is down: %v", failing, r)
	}
}

// TestReadyzWithBackendCut: /readyz answers 503 naming the backend that is
// refused (proxy stopped) or silent (proxy frozen), for each backend and
// both, within the readiness timeout; /healthz stays 200, since it calls no
// backend; /readyz is 200 again once the backend is back.
func TestReadyzWithBackendCut(t *testing.T) {
	p := newProxied(t)
	p.prepare(t) // the pools hold live connections, as in service
	srv := probeServer(t, p.in)
	wantReady(t, srv)

	for _, tc := range []struct {
		name    string
		proxies []*testenv.Proxy
		failing []string
		message string
	}{
		{"postgres", []*testenv.Proxy{p.pgp}, []string{"postgres"}, "postgres unavailable"},
		{"redis", []*testenv.Proxy{p.rdp}, []string{"redis"}, "redis unavailable"},
		{"both", []*testenv.Proxy{p.pgp, p.rdp}, []string{"postgres", "redis"}, "postgres, redis unavailable"},
	} {
		t.Run(tc.name+" refused", func(t *testing.T) {
			for _, px := range tc.proxies {
				px.Stop()
			}
			wantNotReady(t, srv, tc.message, tc.failing...)
			for _, px := range tc.proxies {
				px.Start()
			}
			wantReady(t, srv)
		})
		t.Run(tc.name+" silent", func(t *testing.T) {
			for _, px := range tc.proxies {
				px.Freeze()
			}
			wantNotReady(t, srv, tc.message, tc.failing...)
			for _, px := range tc.proxies {
				px.Thaw()
			}
			wantReady(t, srv)
		})
	}
	p.fullFlow(t) // and the API works again
}
