package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		prefix, server string
		app            bool
	}{
		{"", "/api", false},
		{"/", "/", true},
		{"/auth", "/auth", false},
	} {
		out := filepath.Join(t.TempDir(), "doc.json")
		if err := run(tc.prefix, tc.app, out); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Servers []struct{ URL string }
			Info    struct{ License *struct{ Identifier string } }
			Comps   struct {
				Schemas map[string]struct {
					Properties map[string]any
				}
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Servers) != 1 || doc.Servers[0].URL != tc.server {
			t.Errorf("prefix %q: servers %+v", tc.prefix, doc.Servers)
		}
		_, nick := doc.Comps.Schemas["User"].Properties["nickname"]
		if nick != tc.app || (doc.Info.License != nil) != tc.app {
			t.Errorf("prefix %q app=%v: nickname %v, license %+v", tc.prefix, tc.app, nick, doc.Info.License)
		}
	}
}
