package envelope_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

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
