package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestDocsUI: Swagger UI is served at {prefix}/docs from assets embedded in
// the binary, under every prefix: the page and every file it loads come
// from {prefix}/docs/ on this origin (none from a CDN; its
// Content-Security-Policy lets a browser load nothing from elsewhere), and
// it reads the document at {prefix}/openapi.json.
func TestDocsUI(t *testing.T) {
	attr := regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	for _, tc := range []struct{ option, prefix string }{
		{"", "/api"},
		{"/", ""},
		{"/auth/v1/", "/auth/v1"},
	} {
		t.Run("prefix "+tc.option, func(t *testing.T) {
			e := newEnv(t, withOptions(func(o *Options) { o.Prefix = tc.option }))
			for _, page := range []string{tc.prefix + "/docs", tc.prefix + "/docs/"} {
				w := get(e.h, "GET", page)
				if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
					t.Fatalf("GET %s: %d %q", page, w.Code, w.Header().Get("Content-Type"))
				}
				if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "http") {
					t.Fatalf("GET %s: Content-Security-Policy %q", page, csp)
				}
				body := w.Body.String()
				if !strings.Contains(body, `"swaggerJsonUrl":"`+tc.prefix+`/openapi.json"`) {
					t.Fatalf("GET %s: the page does not read %s/openapi.json:\n%s", page, tc.prefix, body)
				}
				loads := attr.FindAllStringSubmatch(body, -1)
				if len(loads) < 4 {
					t.Fatalf("GET %s: %d src/href attributes", page, len(loads))
				}
				for _, m := range loads {
					u := m[1]
					if !strings.HasPrefix(u, tc.prefix+"/docs/") || strings.HasPrefix(u, "//") {
						t.Fatalf("GET %s loads %q, not from %s/docs/ on this origin", page, u, tc.prefix)
					}
					a := get(e.h, "GET", u)
					if a.Code != 200 || a.Body.Len() < 100 || a.Header().Get("Content-Security-Policy") == "" {
						t.Fatalf("GET %s: %d, %d bytes, %v", u, a.Code, a.Body.Len(), a.Header())
					}
					if strings.HasSuffix(u, ".js") && !strings.Contains(a.Header().Get("Content-Type"), "javascript") ||
						strings.HasSuffix(u, ".css") && !strings.HasPrefix(a.Header().Get("Content-Type"), "text/css") {
						t.Fatalf("GET %s: Content-Type %q", u, a.Header().Get("Content-Type"))
					}
				}
			}

			bundle := tc.prefix + "/docs/swagger-ui-bundle.js"
			plain := get(e.h, "GET", bundle)
			if !strings.Contains(plain.Body.String(), "SwaggerUIBundle") || plain.Header().Get("Content-Encoding") != "" {
				t.Fatalf("GET %s without Accept-Encoding: not the plain bundle (%v)", bundle, plain.Header())
			}
			gz := get(e.h, "GET", bundle, "Accept-Encoding", "gzip")
			if gz.Header().Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(gz.Body.Bytes(), []byte{0x1f, 0x8b}) || gz.Body.Len() >= plain.Body.Len() {
				t.Fatalf("GET %s with gzip: %v, %d bytes", bundle, gz.Header(), gz.Body.Len())
			}
			if w := get(e.h, "HEAD", tc.prefix+"/docs"); w.Code != 200 {
				t.Fatalf("HEAD docs: %d", w.Code)
			}

			// The document the page reads, and its server, follow the prefix.
			w := get(e.h, "GET", tc.prefix+"/openapi.json")
			var doc struct {
				OpenAPI string `json:"openapi"`
				Servers []struct{ URL string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" {
				t.Fatalf("GET %s/openapi.json: %d %v %.100s", tc.prefix, w.Code, err, w.Body)
			}
			server := tc.prefix
			if server == "" {
				server = "/"
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != server {
				t.Fatalf("servers %+v, want %q", doc.Servers, server)
			}

			// Anything else under docs is the API's own 404/405 envelope.
			doOn(t, e.h, tc.prefix, rq{method: "GET", path: "/docs/nope.js"}).want(t, 404, "NOT_FOUND")
			for _, p := range []string{"/docs/swagger-ui.css/x", "/docs/./swagger-ui.css", "/docs//swagger-ui.css", "/x/../docs", "/docs/.", "/docs//"} {
				doOn(t, e.h, tc.prefix, rq{method: "GET", path: p}).want(t, 404, "NOT_FOUND")
			}
			r := doOn(t, e.h, tc.prefix, rq{method: "POST", path: "/docs"}).want(t, 405, "METHOD_NOT_ALLOWED")
			if r.header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

func TestDocsAssetsListed(t *testing.T) {
	names := docsAssets()
	for _, want := range []string{"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("asset %s not served (have %v)", want, names)
		}
	}
}
