// Package logging carries the request id in a context and adds it to every
// log line logged with that context: middleware.RequestID puts the id in,
// Handler writes it out. The kit logs through Logger; an app wraps its own
// logger with Handler so that its lines of a request carry the same id.
// See docs/operations.md ("Logs").
package logging

import (
	"context"
	"log/slog"
)

// KeyRequestID is the attribute under which Handler writes the
// request id of a log record's context.
const KeyRequestID = "request_id"

type requestIDKey struct{}

// WithRequestID returns a copy of ctx carrying the request id id
// (middleware.RequestID sets it for every HTTP request).
func WithRequestID(ctx context.Context, id string) context.Context {
	return requestIDContext{ctx, id}
}

// requestIDContext is ctx carrying a request id: one allocation, where
// context.WithValue makes two (the context and the boxed string).
type requestIDContext struct {
	context.Context
	id string
}

// Value returns the id for requestIDKey and asks the parent otherwise.
func (c requestIDContext) Value(key any) any {
	if _, ok := key.(requestIDKey); ok {
		return c.id
	}
	return c.Context.Value(key)
}

// RequestID returns the request id carried by ctx, or "" when there is
// none (outside a request, or without middleware.RequestID).
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Handler returns a slog.Handler that adds the request id of the
// context a record is logged with (RequestID) as the attribute
// KeyRequestID ("request_id"), then passes the record to h. A record
// logged without a context, or with one carrying no id, passes unchanged,
// as does one that already has a request_id attribute.
//
// Every log line of the kit goes through it (see Logger): log calls pass
// the request's context (slog.Logger.ErrorContext...), so each line of a
// request carries its id. An app can wrap its own logger the same way so
// that its lines of a request carry the same id:
//
//	log := slog.New(logging.Handler(slog.NewJSONHandler(os.Stderr, nil)))
//
// The attribute goes where h puts a record's attributes: inside the
// groups of a logger made with WithGroup.
func Handler(h slog.Handler) slog.Handler {
	if lh, ok := h.(*logHandler); ok {
		return lh
	}
	return &logHandler{h: h}
}

// Logger returns l with its handler wrapped by Handler; a nil l means
// slog.Default() (as it is when Logger is called). A logger already
// wrapped is returned as it is.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	if _, ok := l.Handler().(*logHandler); ok {
		return l
	}
	return slog.New(&logHandler{h: l.Handler()})
}

// logHandler is Handler's handler.
type logHandler struct{ h slog.Handler }

// Enabled reports whether h handles records of level.
func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

// Handle adds the request id of ctx to r, unless r has one, and passes r on.
func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasAttr(r, KeyRequestID) {
		r = r.Clone() // r's attributes may be shared with the caller's other handlers
		r.AddAttrs(slog.String(KeyRequestID, id))
	}
	return l.h.Handle(ctx, r)
}

// WithAttrs returns the handler with attrs added, still adding request ids.
func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{h: l.h.WithAttrs(attrs)}
}

// WithGroup returns the handler with the group opened, still adding request ids.
func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h: l.h.WithGroup(name)}
}

// hasAttr reports whether r has a top-level attribute named key.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
