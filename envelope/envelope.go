// Package envelope writes the kit's response envelope, nicot-simple-user's
// wire format, for every answer, errors included:
//
//	{"statusCode":200,"message":"success","success":true,"timestamp":"2026-01-02T03:04:05.678Z","data":{}}
//
// Error maps any error to its status in one place (simpleuser.AsError).
package envelope

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/simpleuser/simpleuser"
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
}

// Now is the clock of the timestamp field (replaceable in tests).
var Now = time.Now

// Write sends an envelope with status, message and data (nil: no data field).
//
// The body is exactly json.Marshal(Envelope{...}); it is assembled by hand
// around json's encoding of data (the frame has a fixed shape), in a pooled
// buffer, since every response of the kit goes through here.
func Write(w http.ResponseWriter, status int, message string, data any) {
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
	if data != nil {
		buf.WriteString(`,"data":`)
		if err := encodeData(buf, data); err != nil {
			status = http.StatusInternalServerError
			buf.Reset()
			buf.WriteString(`{"statusCode":500,"message":"Internal server error","success":false,"timestamp":"`)
			buf.Write(AppendTimestamp(buf.AvailableBuffer(), ts))
			buf.WriteByte('"')
		}
	}
	buf.WriteByte('}')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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

// OK sends a 200 success envelope carrying data (nil: no data field).
func OK(w http.ResponseWriter, data any) { Write(w, http.StatusOK, "success", data) }

// Error sends the envelope of err: its status and message, data.code, and for
// 429 and 503 with a wait, data.waitTimeMs and a Retry-After header. 5xx
// errors are logged (with their cause) to log, which may be nil.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := simpleuser.AsError(err)
	data := ErrorData{Code: e.Code}
	if e.Wait > 0 {
		ms := e.Wait.Milliseconds()
		if ms < 1 {
			ms = 1
		}
		data.WaitTimeMs = &ms
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.Wait.Seconds())), 10))
	}
	if e.Status >= 500 && log != nil {
		attrs := []any{slog.Int("status", e.Status), slog.String("code", e.Code)}
		if r != nil {
			attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("cause", e.Err.Error()))
		}
		log.Error("simpleuser: request failed", attrs...)
	}
	Write(w, e.Status, e.Message, data)
}
