package handlers

import (
	"net/http"
	"time"

	"github.com/simpleuser/simpleuser/metrics"
)

// Request metrics. With an observer (simpleuser.Config.Metrics other than
// metrics.Nop), New wraps everything it serves in measure, and every route's
// handler in noteRoute: each request is reported once, when New's handler
// returns, with its route pattern ("POST /api/login"), its status and its
// duration (metrics.Observer.Request). A request no route took is reported
// with the pattern the mux would route it to when it was refused before
// routing (a CSRF refusal, a malformed ssaid), else metrics.RouteUnmatched
// (unknown path, wrong method, unclean path) or metrics.RouteOptions: the
// route label never holds a raw path, so its values are bounded by the
// route table. Without an observer none of this is mounted.

// statusWriter records the status of the answer and the route that served it.
type statusWriter struct {
	http.ResponseWriter
	status int
	route  string
}

// WriteHeader records the first final status.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records 200 when no status was written first.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// measure reports every request served by next to obs.
func (s *server) measure(obs metrics.Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK // net/http's answer to a handler that wrote nothing
			}
			route := sw.route
			if route == "" {
				route = s.routeOf(r)
			}
			obs.Request(route, status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

// routeOf is the route label of a request no route took.
func (s *server) routeOf(r *http.Request) string {
	if r.Method == http.MethodOptions {
		return metrics.RouteOptions
	}
	if p := r.URL.EscapedPath(); p == cleanPath(p) {
		if _, pattern := s.mux.Handler(r); pattern != "" {
			return pattern // refused before routing (CSRF, a bad ssaid...)
		}
	}
	return metrics.RouteUnmatched
}

// noteRoute wraps a route's handler so that it records pattern on the
// request's statusWriter (found through the writers' Unwrap chain, so
// no context value or request copy is made).
func noteRoute(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for u := w; u != nil; {
			if sw, ok := u.(*statusWriter); ok {
				sw.route = pattern
				break
			}
			uw, ok := u.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				break
			}
			u = uw.Unwrap()
		}
		h.ServeHTTP(w, r)
	})
}
