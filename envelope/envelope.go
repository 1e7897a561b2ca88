// Package envelope writes the kit's response envelope, nicot-simple-user's
// wire format, for every answer, errors included:
//
//	{"statusCode":200,"message":"success","success":true,"timestamp":"2026-01-02T03:04:05.678Z","data":{}}
//
// Error maps any error to its status in one place (simpleuser.AsError).
package envelope

import (
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"strconv"
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
func Write(w http.ResponseWriter, status int, message string, data any) {
	env := Envelope{
		StatusCode: status,
		Message:    message,
		Success:    status < 400,
		Timestamp:  Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Data:       data,
	}
	b, err := json.Marshal(env)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"statusCode":500,"message":"Internal server error","success":false,"timestamp":"` + env.Timestamp + `"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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
