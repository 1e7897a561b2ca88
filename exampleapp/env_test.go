package main

import (
	"os"
	"testing"
)

// The kit's test command exports DATABASE_URL and REDIS_URL for the
// integration tests. The exampleapp's tests choose their backends
// explicitly (testenv gives each a schema or key prefix of its own), so
// parseFlags must not pick those two up: on the shared database and the
// default "simpleuser:" prefix, runs would share the per-address send
// budgets and fail with 429 when repeated.
func init() {
	lookupEnv = func(name string) (string, bool) {
		switch name {
		case "DATABASE_URL", "REDIS_URL", "SIMPLEUSER_REDIS_PREFIX":
			return "", false
		}
		return os.LookupEnv(name)
	}
}

func TestParseFlagsIgnoresBackendEnv(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nowhere.invalid/x")
	t.Setenv("REDIS_URL", "redis://nowhere.invalid:1/0")
	s, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.databaseURL != "" || s.redisURL != "" {
		t.Fatalf("test flags picked up the environment: %q %q", s.databaseURL, s.redisURL)
	}
	t.Setenv("SIMPLEUSER_FIXED_CODE", "424242")
	if s, _ := parseFlags(nil); s.fixedCode != "424242" {
		t.Fatalf("other environment twins must still be read: %q", s.fixedCode)
	}
}
