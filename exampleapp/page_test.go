package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The exampleapp's page, driven over HTTP by a client that behaves as a
// browser on the page's origin: it keeps cookies, follows redirects and
// sends the Fetch Metadata header browsers send (Sec-Fetch-Site). The
// real-browser test (browser_e2e_test.go) drives the same page in Chromium.

// pageClient is one browser (one cookie jar) on the page.
type pageClient struct {
	t    *testing.T
	base string
	c    *http.Client
	jar  *cookiejar.Jar
	site string // Sec-Fetch-Site of its requests
}

// fetchMetadata adds Sec-Fetch-Site to every request, as a browser does.
type fetchMetadata struct {
	site *string
	next http.RoundTripper
}

func (f fetchMetadata) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Sec-Fetch-Site", *f.site)
	return f.next.RoundTrip(r)
}

// startPage serves a's handler on a loopback port (the app must run with
// -insecure-cookies: the page is plain http).
func startPage(t *testing.T, a *app) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func newPageClient(t *testing.T, base string) *pageClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &pageClient{t: t, base: base, jar: jar, site: "same-origin"}
	p.c = &http.Client{Jar: jar, Transport: fetchMetadata{site: &p.site, next: http.DefaultTransport}}
	return p
}

// page is an answer of the page: status, final path (after redirects)
// and the parsed document.
type page struct {
	t      *testing.T
	status int
	path   string
	header http.Header
	body   string
	doc    *html.Node
}

func (p *pageClient) do(req *http.Request) *page {
	p.t.Helper()
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	out := &page{t: p.t, status: resp.StatusCode, path: resp.Request.URL.Path, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if out.doc, err = html.Parse(strings.NewReader(out.body)); err != nil {
			p.t.Fatal(err)
		}
	}
	return out
}

func (p *pageClient) get(path string) *page {
	p.t.Helper()
	req, err := http.NewRequest("GET", p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.do(req)
}

// post submits a form as a browser does (same origin).
func (p *pageClient) post(path string, form url.Values) *page {
	p.t.Helper()
	req, err := http.NewRequest("POST", p.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.base)
	return p.do(req)
}

// cookie returns the value of the client's cookie name ("" when none).
func (p *pageClient) cookie(name string) string {
	u, _ := url.Parse(p.base)
	for _, c := range p.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// want asserts status and final path, and that the answer is an HTML
// page (never the API's JSON).
func (pg *page) want(status int, path string) *page {
	pg.t.Helper()
	if pg.status != status || pg.path != path || pg.doc == nil {
		pg.t.Fatalf("got %d at %s (%s), want %d at %s: %.400s", pg.status, pg.path, pg.header.Get("Content-Type"), status, path, pg.body)
	}
	return pg
}

// text is the text of the element with id ("" when none).
func (pg *page) text(id string) string {
	n := find(pg.doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if n == nil {
		return ""
	}
	return textOf(n)
}

// notice and problem are the page's status and alert messages.
func (pg *page) notice() string  { return pg.text("notice") }
func (pg *page) problem() string { return pg.text("error") }

// wantError asserts an error page: status, the alert holding want.
func (pg *page) wantError(status int, want string) *page {
	pg.t.Helper()
	if pg.status != status || pg.doc == nil || !strings.Contains(pg.problem(), want) {
		pg.t.Fatalf("got %d with alert %q, want %d with %q: %.600s", pg.status, pg.problem(), status, want, pg.body)
	}
	return pg
}

// all returns the elements f matches, in document order.
func all(n *html.Node, f func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && f(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func find(n *html.Node, f func(*html.Node) bool) *html.Node {
	if l := all(n, f); len(l) > 0 {
		return l[0]
	}
	return nil
}

func attr(n *html.Node, k string) string {
	for _, a := range n.Attr {
		if a.Key == k {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, k string) bool {
	for _, a := range n.Attr {
		if a.Key == k {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkAccessible asserts the page's accessibility basics: a language, a
// title, one h1, a main landmark, a label for every visible form control,
// a name for every button and link, and every form posting to this
// origin.
func (pg *page) checkAccessible() {
	pg.t.Helper()
	t := pg.t
	if h := find(pg.doc, func(n *html.Node) bool { return n.Data == "html" }); h == nil || attr(h, "lang") == "" {
		t.Errorf("%s: <html> without lang", pg.path)
	}
	if ti := find(pg.doc, func(n *html.Node) bool { return n.Data == "title" }); ti == nil || textOf(ti) == "" {
		t.Errorf("%s: no title", pg.path)
	}
	if n := len(all(pg.doc, func(n *html.Node) bool { return n.Data == "h1" })); n != 1 {
		t.Errorf("%s: %d h1", pg.path, n)
	}
	if find(pg.doc, func(n *html.Node) bool { return n.Data == "main" }) == nil {
		t.Errorf("%s: no <main>", pg.path)
	}
	labels := map[string]bool{}
	for _, l := range all(pg.doc, func(n *html.Node) bool { return n.Data == "label" }) {
		labels[attr(l, "for")] = true
	}
	for _, in := range all(pg.doc, func(n *html.Node) bool {
		return (n.Data == "input" && attr(n, "type") != "hidden") || n.Data == "select" || n.Data == "textarea"
	}) {
		if id := attr(in, "id"); id == "" || !labels[id] {
			t.Errorf("%s: %s %q has no label", pg.path, in.Data, attr(in, "name"))
		}
	}
	for _, b := range all(pg.doc, func(n *html.Node) bool { return n.Data == "button" || n.Data == "a" }) {
		if textOf(b) == "" && attr(b, "aria-label") == "" {
			t.Errorf("%s: a %s without a name", pg.path, b.Data)
		}
	}
	for _, f := range all(pg.doc, func(n *html.Node) bool { return n.Data == "form" }) {
		if a := attr(f, "action"); attr(f, "method") != "post" || !strings.HasPrefix(a, "/") || strings.HasPrefix(a, "//") {
			t.Errorf("%s: form method %q action %q", pg.path, attr(f, "method"), a)
		}
	}
}

// providerButtons are the page's provider buttons: name, label, href.
func (pg *page) providerButtons() (names, labels, hrefs []string) {
	for _, a := range all(pg.doc, func(n *html.Node) bool { return n.Data == "a" && strings.Contains(attr(n, "class"), "provider") }) {
		names, labels, hrefs = append(names, attr(a, "data-provider")), append(labels, textOf(a)), append(hrefs, attr(a, "href"))
	}
	return names, labels, hrefs
}

// sessionRows are the rows of the account page's session table: id and
// whether it is this browser's.
func (pg *page) sessionRows() (ids []string, current []bool) {
	for _, tr := range all(pg.doc, func(n *html.Node) bool { return n.Data == "tr" && hasAttr(n, "data-session") }) {
		ids, current = append(ids, attr(tr, "data-session")), append(current, strings.Contains(attr(tr, "class"), "current"))
	}
	return ids, current
}

// profile is the account page's profile list, name → value.
func (pg *page) profile() map[string]string {
	out := map[string]string{}
	for _, d := range all(pg.doc, func(n *html.Node) bool { return n.Data == "dt" }) {
		if dd := d.NextSibling; dd != nil {
			for dd != nil && dd.Data != "dd" {
				dd = dd.NextSibling
			}
			if dd != nil {
				out[textOf(d)] = textOf(dd)
			}
		}
	}
	return out
}

// htmlNode is a parsed element.
type htmlNode = html.Node

// stopAtProvider stops a client's redirects at the sign-in provider
// (whose consent the fake plays out of band), following those of the app.
func stopAtProvider(issuer string) func(*http.Request, []*http.Request) error {
	iss, _ := url.Parse(issuer)
	return func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == iss.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}
}
