package handlers

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
)

// docsCSP is the Content-Security-Policy of the Swagger UI page and its
// assets: everything from this origin, nothing from elsewhere (the page
// must work offline, and a browser then refuses any third-party load). The
// page's inline bootstrap script and Swagger UI's inline styles need
// 'unsafe-inline'; images may be data: URLs.
const docsCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

// mountDocs serves Swagger UI at {prefix}/docs (and {prefix}/docs/), with
// its assets under {prefix}/docs/, reading {prefix}/openapi.json. The UI
// is github.com/swaggest/swgui's v5emb: Swagger UI 5 with its assets
// embedded in the binary (go:embed), so the page loads nothing from a CDN.
// Each asset is routed by its exact path, so any other path under
// {prefix}/docs/ is the usual 404 envelope.
func (s *server) mountDocs() {
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       s.title(),
		SwaggerJSON: s.prefix + "/openapi.json",
		BasePath:    s.prefix + "/docs/",
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", docsCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		if p := r.URL.Path; p == s.prefix+"/docs" || p == s.prefix+"/docs/" {
			hd.Set("Cache-Control", "no-cache") // the page names the document, which may change with the app
		}
		ui.ServeHTTP(w, r)
	})
	s.handle(http.MethodGet, "/docs", h)
	s.handle(http.MethodGet, "/docs/", h)
	for _, name := range docsAssets() {
		s.handle(http.MethodGet, "/docs/"+name, h)
	}
}

// docsAssets lists the file names of the embedded Swagger UI assets as
// they are served: a gzipped file ("swagger-ui.css.gz") under its own name
// ("swagger-ui.css"), decompressed for a client that does not accept gzip.
func docsAssets() []string {
	entries, err := fs.ReadDir(static.FS, ".")
	if err != nil {
		panic("handlers: Swagger UI assets: " + err.Error()) // an embed.FS root always reads
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, strings.TrimSuffix(e.Name(), ".gz"))
		}
	}
	return names
}
