package redisconn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/simpleuser/simpleuser/backend"
	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/redisconn"
)

func TestReadPersistence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want redisconn.Persistence
		none bool
	}{
		{"nothing on disk", nil, redisconn.Persistence{AppendFsync: "everysec"}, true},
		{"AOF", []string{"--appendonly", "yes"}, redisconn.Persistence{AOF: true, AppendFsync: "everysec"}, false},
		{"AOF always", []string{"--appendonly", "yes", "--appendfsync", "always"}, redisconn.Persistence{AOF: true, AppendFsync: "always"}, false},
		{"RDB", []string{"--save", "3600 1 300 100"}, redisconn.Persistence{AppendFsync: "everysec", Save: "3600 1 300 100"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testenv.StartRedisServer(t, tt.args...)
			got, err := redisconn.ReadPersistence(context.Background(), newPool(t, redisconn.Options{URL: srv.URL()}))
			if err != nil || got != tt.want || got.None() != tt.none {
				t.Fatalf("ReadPersistence = %+v (None %v), %v; want %+v (None %v)", got, got.None(), err, tt.want, tt.none)
			}
		})
	}
	t.Run("CONFIG disabled", func(t *testing.T) {
		t.Parallel()
		srv := testenv.StartRedisServer(t, "--rename-command", "CONFIG", "")
		_, err := redisconn.ReadPersistence(context.Background(), newPool(t, redisconn.Options{URL: srv.URL()}))
		if !errors.Is(err, redisconn.ErrPersistenceUnknown) || backend.Name(err) != "" {
			t.Fatalf("err = %v, want ErrPersistenceUnknown", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		srv := testenv.StartRedisServer(t)
		pool := newPool(t, redisconn.Options{URL: srv.URL()})
		srv.Kill()
		_, err := redisconn.ReadPersistence(context.Background(), pool)
		if backend.Name(err) != "redis" || errors.Is(err, redisconn.ErrPersistenceUnknown) {
			t.Fatalf("err = %v, want a redis *backend.Error", err)
		}
	})
}
