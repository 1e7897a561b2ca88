package simpleuser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/logging"
)

// The service wraps its Config.Logger: its own lines carry the request
// id of the context they are logged with.
func TestServiceLogsCarryRequestID(t *testing.T) {
	var buf bytes.Buffer
	svc, err := simpleuser.New(simpleuser.Config{
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) {
			return "", errors.New("smtp down")
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := logging.WithRequestID(context.Background(), "svc-req")
	if err := svc.SendCode(ctx, client("svc-log"), "a@example.com", hooks.PurposeLogin); err == nil {
		t.Fatal("SendCode succeeded with a failing hook")
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) == 0 {
		t.Fatal("the failed delivery was not logged")
	}
	for _, l := range lines {
		if l[logging.KeyRequestID] != "svc-req" {
			t.Errorf("line without the request id: %v", l)
		}
	}
}
