package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/user"
)

// DefaultPrefix is the path prefix of the endpoints when Options.Prefix is empty.
const DefaultPrefix = "/api"

// DefaultMaxBodyBytes is the request body cap when Options.MaxBodyBytes is
// zero: 100 KiB, the limit of Express's body parser that nicot-simple-user
// runs behind. The largest body the kit itself takes is a settings patch
// (at most 16 KiB of JSON); a lower cap bounds the memory a burst of
// concurrent requests can hold before any check runs.
const DefaultMaxBodyBytes = 100 << 10

// Options configures New. The zero value serves under /api with a 100 KiB
// body cap, trusting no proxy.
type Options struct {
	// Prefix is the path prefix of every endpoint. Default "/api". "/" or
	// "-" mount the endpoints at the root ("/login"). A missing leading
	// slash is added, and the prefix is cleaned as path.Clean does (no
	// trailing slash, "//", "." or ".."). Only letters, digits, "/" and
	// "-._~!$&'()*+,=:@" may appear (RFC 3986 path characters written as
	// themselves, without ";"); New panics otherwise.
	Prefix string
	// MaxBodyBytes caps request bodies, in bytes (413 beyond). Default
	// DefaultMaxBodyBytes (100 KiB); negative: no cap.
	MaxBodyBytes int64
	// TrustedProxies are passed to middleware.Identity (see
	// middleware.ClientIP) and middleware.RequestID (X-Request-Id is
	// taken from them only).
	TrustedProxies []netip.Prefix
	// Logger receives server-side failures (every 5xx) and recovered
	// panics, each line with its request id (logging.Handler).
	// Default: slog.Default().
	Logger *slog.Logger
	// Title and Version are the OpenAPI document's info. Defaults
	// "simpleuser" and "1.0.0".
	Title   string
	Version string
	// License is the document's info.license: the terms under which the
	// app offers its API. Zero: the document names none.
	License License
	// ErrorCodes are the app's own data.code values (the Code of the
	// hooks.Error values its hooks return), listed in the OpenAPI
	// document's ErrorCode enum after the kit's (simpleuser.Codes).
	ErrorCodes []string

	// OAuthReturnTo is the page a provider sign-in started in redirect mode
	// returns to when its start link named none (returnTo), in cookie mode:
	// the callback answers 303 See Other to it, with the session cookie
	// set (or with error=<data.code> in its query when the sign-in
	// failed). A path on the app's own origin ("/account") or a URL of one
	// of Config.Browser.TrustedOrigins; New panics otherwise. Default
	// DefaultOAuthReturnTo ("/").
	OAuthReturnTo string

	// UserFields and MeFields default to the service's hooks.MeFieldsType
	// and hooks.MeFields.
	//
	// UserFields is a struct value (or pointer to one) whose exported JSON
	// fields the app adds to GET /user-center/me. They are reflected into
	// the OpenAPI User schema (fields tagged json:"-" never appear); their
	// values come from MeFields.
	UserFields any
	// MeFields, when set, returns the app's own fields of u; they are merged
	// into the /me object (the kit's fields win on a name clash). An error
	// fails the request through the envelope (simpleuser.AsError).
	MeFields func(ctx context.Context, u *user.User) (map[string]any, error)
}

// License names the license of an API in its OpenAPI document (OpenAPI
// 3.1 License Object). Name is required; give either an SPDX Identifier
// ("MIT", "Apache-2.0") or the URL of the text, not both (New panics
// otherwise).
type License struct {
	Name       string
	Identifier string
	URL        string
}

// server serves the API.
type server struct {
	svc     *simpleuser.Service
	browser simpleuser.BrowserConfig // svc's, defaults applied
	log     *slog.Logger
	prefix  string
	maxBody int64
	opts    Options
	mux     *http.ServeMux
	allowed map[string][]string // full path pattern -> methods, for 404/405
	// wild lists the patterns of allowed with {wildcards}, matched segment by segment.
	wild []pathPattern
	// docOnce builds doc, the OpenAPI document, at its first request:
	// reflecting the route table is most of New's cost otherwise (see
	// serveOpenAPI); docErr is a failure to build it.
	docOnce sync.Once
	doc     []byte
	docErr  error
	// returnTo is Options.OAuthReturnTo, default applied.
	returnTo string
	// timed: the service has an observer, so requests are measured (metrics.go).
	timed bool
}

// New returns the handler of the JSON API (see the package documentation
// for the endpoints and how to mount it). It wraps middleware.RequestID,
// middleware.Recover and middleware.Identity around its routes, so it
// works alone; when the app already wraps everything in RequestID and
// Identity, the inner ones pass through. In
// cookie mode (svc's Config.Browser.CookieMode) it also checks
// state-changing requests with middleware.CSRF, and with trusted origins
// (Config.Browser.TrustedOrigins) it answers CORS with middleware.CORS,
// outside Identity.
//
// The OpenAPI document is generated once, at its first request (a route
// table that cannot be reflected, a programming error caught by the
// tests, then answers 500 and is logged). New panics if
// Options.UserFields is not a struct, if Options.Prefix holds a
// character it does not allow, if Options.OAuthReturnTo is neither a path
// nor a URL of a trusted origin, or if Options.License sets Identifier or
// URL without Name, or both.
func New(svc *simpleuser.Service, opts Options) http.Handler {
	if svc == nil {
		panic("handlers: New needs a *simpleuser.Service")
	}
	s := &server{
		svc:     svc,
		browser: svc.Config().Browser,
		log:     opts.Logger,
		prefix:  normalizePrefix(opts.Prefix),
		maxBody: opts.MaxBodyBytes,
		opts:    opts,
		mux:     http.NewServeMux(),
		allowed: map[string][]string{},
	}
	s.log = logging.Logger(s.log) // nil: slog.Default(); lines carry the request id
	_, nop := svc.Metrics().(metrics.Nop)
	s.timed = !nop
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.returnTo = opts.OAuthReturnTo
	if s.returnTo == "" {
		s.returnTo = DefaultOAuthReturnTo
	}
	if err := checkReturnTo(s.returnTo, s.browser.TrustedOrigins); err != nil {
		panic(fmt.Sprintf("handlers: Options.OAuthReturnTo %q: %s", s.returnTo, simpleuser.AsError(err).Message))
	}
	if h := svc.Hooks(); s.opts.MeFields == nil {
		s.opts.MeFields = h.MeFields
		if s.opts.UserFields == nil {
			s.opts.UserFields = h.MeFieldsType
		}
	}
	for _, rt := range routes {
		s.handle(rt.method, rt.path, s.wrap(rt))
	}
	if err := s.checkDocOptions(); err != nil {
		panic("handlers: OpenAPI document: " + err.Error())
	}
	s.handle(http.MethodGet, "/openapi.json", http.HandlerFunc(s.serveOpenAPI))
	s.mountDocs()

	var h http.Handler = s
	if svc.Config().Browser.CookieMode {
		h = middleware.CSRF(svc)(h)
	}
	h = middleware.Identity(svc, middleware.Options{TrustedProxies: opts.TrustedProxies, Logger: s.log})(h)
	h = middleware.CORS(svc)(h)
	h = middleware.Recover(s.log)(h)
	h = middleware.RequestID(opts.TrustedProxies)(h)
	if s.timed {
		h = s.measure(svc.Metrics(), h)
	}
	return h
}

// checkDocOptions checks the Options the document is built from, so New
// can refuse them at once though the document is built later.
func (s *server) checkDocOptions() error {
	if l := s.opts.License; l != (License{}) && (l.Name == "" || (l.Identifier != "" && l.URL != "")) {
		return fmt.Errorf("Options.License %+v: Name is required, and only one of Identifier and URL", l)
	}
	if s.opts.UserFields != nil {
		t := reflect.TypeOf(s.opts.UserFields)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("Options.UserFields must be a struct, not %s", t)
		}
	}
	return nil
}

// normalizePrefix turns Options.Prefix into "" (root) or a clean "/x/y"
// (path.Clean: no empty, "." or ".." segment, which ServeMux never routes
// as such). It panics when the prefix holds a byte that is not an RFC 3986
// §3.3 path character written as itself (ALPHA, DIGIT, "-._~!$&'()*+,=:@"
// and "/"): a '%', '{', ';', space... would be read differently by the
// mux, by browsers, or dropped from the cookie Path by net/http.
func normalizePrefix(p string) string {
	p = strings.TrimSpace(p)
	switch p {
	case "":
		return DefaultPrefix
	case "-", "/":
		return ""
	}
	if i := strings.IndexFunc(p, func(r rune) bool { return !isPathChar(r) }); i >= 0 {
		panic(fmt.Sprintf("handlers: Options.Prefix %q: %q is not allowed (only letters, digits, \"/-._~!$&'()*+,=:@\")", p, p[i:i+1]))
	}
	p = path.Clean("/" + p)
	if p == "/" {
		return ""
	}
	return p
}

// isPathChar reports whether r is "/" or an RFC 3986 pchar other than
// pct-encoded and ";" (unreserved, sub-delims, ":", "@").
func isPathChar(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("/-._~!$&'()*+,=:@", r)
}

func (s *server) handle(method, path string, h http.Handler) {
	full := s.prefix + path
	if s.timed {
		h = noteRoute(method+" "+full, h)
	}
	s.mux.Handle(method+" "+full, h)
	if _, seen := s.allowed[full]; !seen && strings.Contains(full, "{") {
		s.wild = append(s.wild, newPathPattern(full))
	}
	s.allowed[full] = append(s.allowed[full], method)
	if method == http.MethodGet {
		s.allowed[full] = append(s.allowed[full], http.MethodHead)
	}
}

// methodsFor returns the methods served on the request's path: those of
// the exact path, else of the first wildcard pattern matching it.
func (s *server) methodsFor(r *http.Request) ([]string, bool) {
	if methods, ok := s.allowed[r.URL.Path]; ok {
		return methods, true
	}
	for _, p := range s.wild {
		if p.match(r.URL.EscapedPath()) {
			return s.allowed[p.full], true
		}
	}
	return nil, false
}

// ServeHTTP routes r, answering unknown paths with a 404 envelope and a
// wrong method with a 405 envelope carrying Allow, so the mux's own
// text/plain answers never reach a client. OPTIONS on a known path is
// answered 204 No Content with Allow (its methods and OPTIONS).
//
// A path that is not clean (an empty, "." or ".." segment: "//", "/./",
// "/../", a trailing "/." or "/..") is a 404 NOT_FOUND envelope too, as
// nicot (Express) answers it, where ServeMux would answer a bare 307 to
// the cleaned path. No route has such a path, and redirecting a client to
// a path it did not ask for (a "/x/../login" into "/login") is never what
// a JSON API wants. Escaped dots and slashes (%2e%2e, %2F) are not path
// structure: they stay inside their segment, and reach the route as a
// wildcard's value (a provider named "..", answered 404
// UNKNOWN_PROVIDER).
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); p != cleanPath(p) {
		s.notFound(w, r)
		return
	}
	methods, known := s.methodsFor(r)
	if !known {
		s.notFound(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		// RFC 9110 §9.3.7: the methods of the resource. A CORS preflight
		// gets the same answer when middleware.CORS is not mounted (no
		// trusted origin): no CORS header, which the browser takes as a
		// refusal. No body, so no envelope.
		w.Header().Set("Allow", allowHeader(methods, http.MethodOptions))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", allowHeader(methods))
		envelope.Error(w, r, s.log, &simpleuser.Error{
			Status: http.StatusMethodNotAllowed, Code: simpleuser.CodeMethodNotAllowed,
			Message: "Method " + r.Method + " not allowed on " + r.URL.Path,
		})
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" { // e.g. an escaped path the mux reads differently
		s.notFound(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowHeader is the Allow header of a path serving methods (and extra).
func allowHeader(methods []string, extra ...string) string {
	allow := slices.Concat(methods, extra)
	slices.Sort(allow)
	return strings.Join(allow, ", ")
}

// cleanPath is the canonical form of p, as net/http's ServeMux computes
// it before routing: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	envelope.Error(w, r, s.log, &simpleuser.Error{
		Status: http.StatusNotFound, Code: simpleuser.CodeNotFound,
		Message: "Cannot " + r.Method + " " + r.URL.Path,
	})
}

func (s *server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.docOnce.Do(func() { s.doc, s.docErr = s.openAPI() })
	if s.docErr != nil {
		envelope.Error(w, r, s.log, simpleuser.AsError(fmt.Errorf("OpenAPI document: %w", s.docErr)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(s.doc)
}
