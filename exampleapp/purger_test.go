package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// The exampleapp runs the purger by default (hourly, anonymous users idle
// for 30 days), so rotating ssaids cannot grow its users table without
// bound; -purge-interval 0 turns it off.
func TestPurgerOnByDefault(t *testing.T) {
	s, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.purgeInterval != time.Hour || s.anonymousTTL != 30*24*time.Hour {
		t.Fatalf("defaults: -purge-interval %v, -anonymous-ttl %v; want 1h and 720h", s.purgeInterval, s.anonymousTTL)
	}
	off, err := parseFlags([]string{"-purge-interval", "0"})
	if err != nil || off.purgeInterval != 0 {
		t.Fatalf("-purge-interval 0: %v, %v", off.purgeInterval, err)
	}

	// The purger the app starts deletes idle anonymous users.
	s.purgeInterval, s.anonymousTTL = 20*time.Millisecond, time.Millisecond
	h := newHarness(t, s)
	code, me := h.call("GET", "/api/user-center/me", "idle-device", "", nil)
	if code != 200 {
		t.Fatalf("me: %d %v", code, me)
	}
	id := int64(me["id"].(float64))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.app.startPurger(ctx, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := h.app.Service.GetUser(ctx, id)
		if errors.Is(err, user.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the idle anonymous user %d is still there after 10 s: %v", id, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
