package code_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	codememory "github.com/simpleuser/simpleuser/code/memory"
	"github.com/simpleuser/simpleuser/risk"
	riskmemory "github.com/simpleuser/simpleuser/risk/memory"
)

// TestFlow: a code sent is checked, spent once, given back when the
// change it authorised fails; the send cooldown and the attempt limit
// refuse with LimitError; a failed delivery stores nothing and gives the
// cooldown back.
func TestFlow(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	store := codememory.New()
	store.Now = clock
	f := &code.Flow{
		Store: store, Secret: []byte("k"), TTL: time.Minute, Log: slog.New(slog.DiscardHandler), Now: clock,
		OnRollback: func(context.Context, func(context.Context)) {},
		Limits: &risk.Policy{Store: riskmemory.New(), SendCooldown: time.Minute, VerifyMaxAttempts: 2,
			VerifyWindow: time.Minute, Log: slog.New(slog.DiscardHandler), Now: clock},
	}
	send := func(c string, err error) func() (string, error) { return func() (string, error) { return c, err } }
	var le *code.LimitError
	var de *code.DeliveryError
	if err := f.Send(ctx, "a", "Login", "dev", "", send("", errors.New("smtp down"))); !errors.As(err, &de) || de.Err == nil {
		t.Fatalf("failed delivery: %v, want DeliveryError", err)
	}
	if err := f.Send(ctx, "a", "Login", "dev", "", send("123456", nil)); err != nil {
		t.Fatalf("send after a failed delivery (cooldown given back): %v", err)
	}
	if err := f.Send(ctx, "a", "Login", "dev", "", send("654321", nil)); !errors.As(err, &le) || !le.Send || le.Wait <= 0 {
		t.Fatalf("second send within the cooldown: %v, want LimitError{Send}", err)
	}
	if _, err := f.Check(ctx, "a", "Login", "000000"); !errors.Is(err, code.ErrInvalid) {
		t.Fatalf("wrong code: %v", err)
	}
	cl, err := f.Check(ctx, "a", "Login", "123456")
	if err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := f.Spend(ctx, cl, func() error { return errors.New("tx failed") }); err == nil {
		t.Fatal("Spend returned nil for a failed change")
	}
	if err := f.Spend(ctx, cl, func() error { return nil }); err != nil {
		t.Fatalf("code restored after the failed change, spent now: %v", err)
	}
	if err := f.Consume(ctx, cl); !errors.Is(err, code.ErrInvalid) {
		t.Fatalf("spent twice: %v", err)
	}
	for i := 0; i < 2; i++ {
		_, _ = f.Check(ctx, "b", "Login", "1")
	}
	if _, err := f.Check(ctx, "b", "Login", "1"); !errors.As(err, &le) || le.Send {
		t.Fatalf("third wrong code: %v, want LimitError of the attempts", err)
	}
}
