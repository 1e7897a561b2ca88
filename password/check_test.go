package password_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/risk"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
)

// TestChecker: wrong passwords count against the account's limit until it
// blocks (BlockedError, no verification), an empty one spends nothing, a
// right one releases its attempt, and the length bounds answer LengthError.
func TestChecker(t *testing.T) {
	ctx := context.Background()
	h := password.New(password.Params{Memory: 64, Time: 1, Threads: 1}, 2, time.Second)
	hash, err := h.Hash(ctx, "right-password")
	if err != nil {
		t.Fatal(err)
	}
	c := &password.Checker{Hasher: h, MinLength: 8, MaxLength: 20, Limits: &risk.Policy{
		Store: riskmemory.New(), PasswordMaxAttempts: 3, PasswordWindow: time.Minute,
		PasswordAddressMaxAttempts: 100, PasswordAddressWindow: time.Minute, Log: slog.Default(), Now: time.Now}}
	check := func(pw string) error {
		_, err := c.Check(ctx, 1, "device", "bucket", "password", pw, hash)
		return err
	}
	for range 5 {
		if err := check(""); !errors.Is(err, password.ErrWrong) {
			t.Fatalf("empty: %v", err)
		}
	}
	if err := check("right-password"); err != nil { // the empty ones spent nothing; this releases its own
		t.Fatalf("right: %v", err)
	}
	for i := range 3 {
		if err := check("wrong-password"); !errors.Is(err, password.ErrWrong) {
			t.Fatalf("wrong #%d: %v", i+1, err)
		}
	}
	var be *password.BlockedError
	if err := check("right-password"); !errors.As(err, &be) || be.Wait <= 0 {
		t.Fatalf("after 3 wrong: %v, want BlockedError with a wait", err)
	}
	var le *password.LengthError
	if err := c.CheckLength("password", "short"); !errors.As(err, &le) || le.Error() != "password must be at least 8 characters" {
		t.Fatalf("short: %v", err)
	}
	if err := check("a-password-over-twenty-bytes"); !errors.As(err, &le) || le.Error() != "password must be at most 20 characters" {
		t.Fatalf("long: %v", err)
	}
	if err := c.CheckLength("password", "just-right"); err != nil {
		t.Fatalf("in bounds: %v", err)
	}
}
