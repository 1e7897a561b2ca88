package middleware

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
)

// Recover returns middleware that turns a panic in next into a 500 envelope
// ("Internal server error", data.code INTERNAL) when nothing was written
// yet, and logs it to log with the request's context, so with its request
// id (method, path, panic value and stack; never headers or bodies). A nil
// log means slog.Default().
//
// http.ErrAbortHandler is re-panicked, so net/http aborts the response
// silently as it intends.
func Recover(log *slog.Logger) func(http.Handler) http.Handler {
	log = logging.Logger(log) // nil: slog.Default(); lines carry the request id
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tw := &trackingWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.ErrorContext(r.Context(), "simpleuser: panic serving request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())),
				)
				if !tw.wrote { // logged above: not through envelope.Error, which would log it twice
					_ = envelope.Write(w, http.StatusInternalServerError, "Internal server error",
						envelope.ErrorData{Code: simpleuser.CodeInternal})
				}
			}()
			next.ServeHTTP(tw, r)
		})
	}
}

// trackingWriter records whether the response was started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

// WriteHeader records that the response started (1xx other than 101 do not count).
func (t *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

// Write records that the response started.
func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Flush implements http.Flusher when the underlying writer does.
func (t *trackingWriter) Flush() {
	t.wrote = true
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the underlying writer does.
func (t *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	t.wrote = true
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
