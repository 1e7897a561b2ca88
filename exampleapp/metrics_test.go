package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsEndpoint: with metrics on (the default), GET /metrics serves
// the kit's families, counting the flow just run, beside the Go runtime's
// and the process's; -metrics=false (or SIMPLEUSER_METRICS=false) turns it
// off, and /metrics falls to the page's 404.
func TestMetricsEndpoint(t *testing.T) {
	s, err := parseFlags(nil)
	if err != nil || !s.metrics.enabled {
		t.Fatalf("metrics off by default (%v)", err)
	}
	if s, _ := parseFlags([]string{"-metrics=false"}); s.metrics.enabled {
		t.Fatal("-metrics=false left metrics on")
	}
	t.Setenv("SIMPLEUSER_METRICS", "false")
	if s, _ := parseFlags(nil); s.metrics.enabled {
		t.Fatal("SIMPLEUSER_METRICS=false left metrics on")
	}

	h := newHarness(t, settings{metrics: metricsSettings{enabled: true}})
	if code, data := h.signup("dev-m", "mia@example.com", nil); code != 200 {
		t.Fatalf("signup: %d %v", code, data)
	}
	body := scrape(t, h)
	for _, want := range []string{
		`simpleuser_logins_total{method="code",provider="",result="success"} 1`,
		`simpleuser_code_sends_total{purpose="Login",result="sent"} 1`,
		`simpleuser_sessions_created_total 1`,
		`simpleuser_http_request_duration_seconds_count{route="POST /api/login",status="200"} 1`,
		`simpleuser_backend_errors_total{backend="redis"} 0`,
		"\ngo_goroutines ",
		"\nprocess_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "mia@example.com") || strings.Contains(body, "dev-m") {
		t.Error("/metrics holds an address or an ssaid")
	}

	off := newHarness(t, settings{})
	w := httptest.NewRecorder()
	off.app.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 404 {
		t.Fatalf("GET /metrics with metrics off: %d", w.Code)
	}
}

func scrape(t *testing.T, h *harness) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.app.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	return string(b)
}
