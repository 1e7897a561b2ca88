package envelope_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/envelope"
)

// selfEncoded writes its own JSON.
type selfEncoded struct {
	json string
	err  error
}

func (s selfEncoded) AppendJSON(b []byte) ([]byte, error) {
	if s.err != nil {
		return append(b, "garbage"...), s.err // must not reach the body
	}
	return append(b, s.json...), nil
}

func TestAppenderData(t *testing.T) {
	w := httptest.NewRecorder()
	envelope.OK(w, selfEncoded{json: `{"id":7,"email":null}`})
	var env struct {
		StatusCode int
		Data       map[string]any
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.StatusCode != 200 || env.Data["id"] != float64(7) {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if !strings.HasSuffix(w.Body.String(), `,"data":{"id":7,"email":null}}`) {
		t.Fatalf("body %s", w.Body)
	}

	w = httptest.NewRecorder()
	envelope.OK(w, selfEncoded{err: errors.New("cannot encode")})
	if w.Code != 500 || strings.Contains(w.Body.String(), "garbage") || !json.Valid(w.Body.Bytes()) {
		t.Fatalf("failing Appender: %d %s", w.Code, w.Body)
	}
}

// AppendTimestamp writes what time.Time.AppendFormat writes with
// TimestampLayout, for times spread over the years it formats by hand and
// past them (where it falls back to AppendFormat).
func TestAppendTimestampMatchesAppendFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	east := time.FixedZone("east", 5*3600+30*60)
	times := []time.Time{
		{}, time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, east), time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, east),
	}
	// Unix seconds from about year -5900 to 11000; nearer times weigh more.
	span := time.Date(11000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		times = append(times, time.Unix(rng.Int64N(2*span)-span, rng.Int64N(1e9)).In(east))
		times = append(times, time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)))
	}
	for _, tm := range times {
		want := tm.UTC().AppendFormat([]byte("x"), envelope.TimestampLayout)
		if got := envelope.AppendTimestamp([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("AppendTimestamp(%v) = %q, want %q", tm, got, want)
		}
	}
}
