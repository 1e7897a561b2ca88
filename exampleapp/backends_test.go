package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

// syncBuffer is a log destination safe for the app's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRedisPersistenceWarning: the app warns at start when its Redis keeps
// nothing on disk, or does not say; not when it has AOF or RDB.
func TestRedisPersistenceWarning(t *testing.T) {
	t.Parallel()
	const nothing, unknown = "Redis keeps nothing on disk", "could not tell whether Redis keeps its data on disk"
	tests := []struct {
		name string
		args []string
		want string // "" for no warning
	}{
		{"no persistence", nil, nothing},
		{"AOF", []string{"--appendonly", "yes"}, ""},
		{"RDB", []string{"--save", "900 1"}, ""},
		{"CONFIG disabled", []string{"--rename-command", "CONFIG", ""}, unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testenv.StartRedisServer(t, tt.args...)
			var logs syncBuffer
			a, err := newApp(context.Background(), settings{redisURL: srv.URL()},
				slog.New(slog.NewTextHandler(&logs, nil)), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			out := logs.String()
			for _, w := range []string{nothing, unknown} {
				if got := strings.Contains(out, w); got != (w == tt.want) {
					t.Errorf("warning %q logged: %v, want %v; logs:\n%s", w, got, w == tt.want, out)
				}
			}
			if tt.want != "" && !strings.Contains(out, "level=WARN") {
				t.Errorf("the warning is not at level WARN:\n%s", out)
			}
		})
	}
}
