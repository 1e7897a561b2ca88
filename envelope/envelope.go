// Package envelope writes the kit's response envelope, nicot-simple-user's
// wire format, for every answer, errors included:
//
//	{"statusCode":200,"message":"success","success":true,"timestamp":"2026-01-02T03:04:05.678Z","data":{}}
//
// Error maps any error to its status in one place (simpleuser.AsError).
package envelope

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/logging"
)

// Envelope is the body of every response.
type Envelope struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Success    bool   `json:"success"`
	Timestamp  string `json:"timestamp"`
	Data       any    `json:"data,omitempty"`
}

// ErrorData is the data of an error envelope.
type ErrorData struct {
	Code       string `json:"code,omitempty"`
	WaitTimeMs *int64 `json:"waitTimeMs,omitempty"`
	// Factors are the factor kinds a client may use (MFA_REQUIRED,
	// REAUTH_REQUIRED); nil: no field, [] an empty list.
	Factors []string `json:"factors,omitzero"`
}

// Now is the clock of the timestamp field (replaceable in tests).
var Now = time.Now

// Write sends an envelope with status, message and data (nil: no data field).
//
// The body is exactly json.Marshal(Envelope{...}); it is assembled by hand
// around json's encoding of data (the frame has a fixed shape), in a pooled
// buffer, since every response of the kit goes through here.
//
// When data cannot be encoded (a value encoding/json refuses: a channel,
// a NaN, a failing Marshaler or Appender) Write answers 500 "Internal
// server error" (data.code INTERNAL) instead and returns the encoding
// error, for the caller to log with the request (LogEncodeFailure;
// handlers does, as Error logs every 5xx); it returns nil otherwise.
func Write(w http.ResponseWriter, status int, message string, data any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooled {
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	ts := Now().UTC()
	b := buf.AvailableBuffer()
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = AppendString(b, message)
	if status < 400 {
		b = append(b, `,"success":true,"timestamp":"`...)
	} else {
		b = append(b, `,"success":false,"timestamp":"`...)
	}
	b = AppendTimestamp(b, ts)
	b = append(b, '"')
	buf.Write(b)
	var failed error
	if data != nil {
		buf.WriteString(`,"data":`)
		if err := encodeData(buf, data); err != nil {
			failed = err
			status = http.StatusInternalServerError
			buf.Reset()
			buf.WriteString(`{"statusCode":500,"message":"Internal server error","success":false,"timestamp":"`)
			buf.Write(AppendTimestamp(buf.AvailableBuffer(), ts))
			buf.WriteString(`","data":{"code":"` + simpleuser.CodeInternal + `"}`)
		}
	}
	buf.WriteByte('}')
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return failed
}

// TimestampLayout is the wire format of times: what JavaScript's
// Date.prototype.toISOString writes (UTC, milliseconds).
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// AppendTimestamp appends t in UTC in TimestampLayout: the same bytes as
// t.UTC().AppendFormat(b, TimestampLayout), without interpreting the
// layout on every call (every response carries a timestamp).
func AppendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, TimestampLayout)
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// The values of the headers every envelope carries, shared by all
// responses (as Gin does): Header.Set would allocate a slice for each, on
// every response. net/http only reads them; a handler that changes one
// replaces the slice (Set, Add, Del never write into it).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
)

// bufPool holds response buffers; buffers grown past maxPooled are dropped.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooled = 64 << 10

// Appender is data that encodes itself: AppendJSON appends to b exactly
// what json.Marshal would write for it. Write uses it instead of
// encoding/json's reflection, for the responses of hot paths.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// encodeData appends json.Marshal(data) to buf (nothing on error).
func encodeData(buf *bytes.Buffer, data any) error {
	if a, ok := data.(Appender); ok {
		b, err := a.AppendJSON(buf.AvailableBuffer())
		if err != nil {
			return err
		}
		buf.Write(b)
		return nil
	}
	if e, ok := data.(ErrorData); ok { // every error envelope: no reflection
		b := append(buf.AvailableBuffer(), '{')
		if e.Code != "" {
			b = append(b, `"code":`...)
			b = AppendString(b, e.Code)
		}
		if e.WaitTimeMs != nil {
			if e.Code != "" {
				b = append(b, ',')
			}
			b = append(b, `"waitTimeMs":`...)
			b = strconv.AppendInt(b, *e.WaitTimeMs, 10)
		}
		if e.Factors != nil {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, `"factors":[`...)
			for i, f := range e.Factors {
				if i > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, f)
			}
			b = append(b, ']')
		}
		buf.Write(append(b, '}'))
		return nil
	}
	n := buf.Len()
	if err := json.NewEncoder(buf).Encode(data); err != nil {
		buf.Truncate(n)
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// AppendString appends s as encoding/json writes a string (HTML-safe).
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // escapes, invalid UTF-8, U+2028/9: json's own rules
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// OK sends a 200 success envelope carrying data (nil: no data field). Its
// error is Write's: data could not be encoded and a 500 was sent instead.
func OK(w http.ResponseWriter, data any) error { return Write(w, http.StatusOK, "success", data) }

// LogEncodeFailure logs, as Error logs a 5xx, the 500 that Write or OK
// answered to r because data could not be encoded (err is what they
// returned; nil logs nothing). A nil log means slog.Default().
func LogEncodeFailure(r *http.Request, log *slog.Logger, err error) {
	if err != nil {
		logFailure(r, log, http.StatusInternalServerError, simpleuser.CodeInternal, fmt.Errorf("encoding the response data: %w", err))
	}
}

// Error sends the envelope of err: its status and message, data.code, and for
// 429 and 503 with a wait, data.waitTimeMs and a Retry-After header.
//
// A 5xx is always logged, at level Error, with its status, data.code,
// method, path and cause, and the request id (see logging.Handler):
// to log, or to slog.Default() when log is nil, with r's context. An error
// a backend caused is counted in the metrics of the request's service
// (simpleuser.ObserveError).
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := simpleuser.AsError(err)
	if r != nil && e.Status == http.StatusServiceUnavailable {
		simpleuser.ObserveError(r.Context(), err)
	}
	data := ErrorData{Code: e.Code, Factors: e.Factors}
	if e.Wait > 0 {
		ms := e.Wait.Milliseconds()
		if ms < 1 {
			ms = 1
		}
		data.WaitTimeMs = &ms
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.Wait.Seconds())), 10))
	}
	if e.Status >= 500 {
		logFailure(r, log, e.Status, e.Code, e.Err)
	}
	Write(w, e.Status, e.Message, data)
}

// logFailure logs a 5xx answer to r (see Error).
func logFailure(r *http.Request, log *slog.Logger, status int, code string, cause error) {
	attrs := []slog.Attr{slog.Int("status", status), slog.String("code", code)}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	if cause != nil {
		attrs = append(attrs, slog.String("cause", cause.Error()))
	}
	logging.Logger(log).LogAttrs(ctx, slog.LevelError, "simpleuser: request failed", attrs...)
}
