package admin_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/admin"
)

// The document lists every admin route with an operation id, its 200 and
// its error answers, and is served only to an authorized caller.
func TestDocument(t *testing.T) {
	e := newEnv(t, false)
	r := httptest.NewRequest("GET", "/openapi.json", nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("document without credentials: %d, want 401", w.Code)
	}
	r.Header.Set("Authorization", "Bearer "+e.admin)
	r.Header.Set("X-Forwarded-Prefix", "/ops/admin")
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	var doc struct {
		Servers []struct{ URL string }
		Paths   map[string]map[string]struct {
			OperationID string              `json:"operationId"`
			Responses   map[string]struct{} `json:"responses"`
			Security    []map[string][]string
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Code != 200 {
		t.Fatalf("document: %d %v", w.Code, err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/ops/admin/" {
		t.Errorf("servers %v", doc.Servers)
	}
	want := []string{"get /users", "post /users", "get /users/{id}", "patch /users/{id}/metadata", "post /users/{id}/disable",
		"post /users/{id}/enable", "post /users/{id}/must-change-password", "delete /users/{id}/must-change-password", "delete /users/{id}", "get /users/{id}/sessions", "delete /users/{id}/sessions",
		"delete /users/{id}/sessions/{sid}", "get /users/{id}/identities", "delete /users/{id}/identities/{provider}/{subject}",
		"delete /users/{id}/factors", "get /audit", "get /keys", "post /keys", "delete /keys/{id}",
		"get /tenants", "post /tenants", "get /tenants/{tid}", "patch /tenants/{tid}", "delete /tenants/{tid}",
		"get /tenants/{tid}/members", "get /users/{id}/memberships", "put /tenants/{tid}/members/{id}",
		"delete /tenants/{tid}/members/{id}", "get /roles", "put /roles/{name}", "delete /roles/{name}"}
	n := 0
	for path, ops := range doc.Paths {
		for m, op := range ops {
			n++
			key := m + " " + path
			if !contains(want, key) {
				t.Errorf("unexpected operation %s", key)
			}
			if op.OperationID == "" || len(op.Security) == 0 {
				t.Errorf("%s: no operation id or security", key)
			}
			for _, st := range []string{"200", "400", "401", "403"} {
				if _, ok := op.Responses[st]; !ok {
					t.Errorf("%s: no %s answer", key, st)
				}
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d operations, want %d", n, len(want))
	}
	if b, err := admin.Document("/admin"); err != nil || !strings.Contains(string(b), `"url": "/admin"`) {
		t.Errorf("Document(/admin): %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
