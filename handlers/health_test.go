package handlers

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// On in-memory stores the service has nothing to lose: both probes 200.
func TestHealthzReadyzMemory(t *testing.T) {
	e := newEnv(t)
	alive := doOn(t, Healthz(), "", rq{method: "GET", path: "/healthz"}).want(t, 200, "")
	if alive.data["status"] != "alive" {
		t.Fatalf("healthz data %v", alive.data)
	}
	ready := doOn(t, Readyz(e.svc, ReadyOptions{}), "", rq{method: "GET", path: "/readyz"}).want(t, 200, "")
	if ready.data["status"] != "ready" || !strings.Contains(string(ready.raw), `"backends":{}`) {
		t.Fatalf("readyz answer %s", ready.raw)
	}
}

// On PostgreSQL and Redis each server is pinged once and listed.
func TestReadyzReal(t *testing.T) {
	e := newEnv(t, withBackend(backendSets[1]))
	w := httptest.NewRecorder()
	Readyz(e.svc, ReadyOptions{}).ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	r := checkEnvelope(t, w.Code, w.Header(), w.Body.Bytes(), "GET /readyz").want(t, 200, "")
	if !bytes.Contains(r.raw, []byte(`"data":{"status":"ready","backends":{"postgres":"ok","redis":"ok"}}`)) {
		t.Fatalf("readyz answer %s", r.raw)
	}
}
