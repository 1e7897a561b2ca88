package simpleuser

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
)

type txKey struct{}

// txState collects what must happen once the outermost transaction ends:
// events to deliver after a commit, undo actions to run after a rollback.
type txState struct {
	events []hooks.Event
	undo   []func(context.Context)
}

// WithTx runs fn in one user-store transaction carried by the context passed
// to fn. Every service method called with that context joins it (as do the
// app's own statements through the store's TxFrom), so an app can create an
// auth user, its own user row and anything else as one unit. Events raised
// inside are delivered once the outermost WithTx commits, and never when it
// rolls back; what the kit did outside the database inside it (a one-time
// code consumed) is undone when it rolls back or fails to commit.
func (s *Service) WithTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return s.users.WithTx(ctx, fn)
	}
	st := &txState{}
	if err := s.users.WithTx(context.WithValue(ctx, txKey{}, st), fn); err != nil {
		for i := len(st.undo) - 1; i >= 0; i-- {
			st.undo[i](ctx)
		}
		return err
	}
	for _, e := range st.events {
		s.deliver(ctx, e)
	}
	return nil
}

// onRollback registers undo to run (newest first, with the ctx of the
// outermost WithTx) if the transaction carried by ctx rolls back or fails
// to commit; outside a transaction it does nothing. undo must detach
// itself from ctx's cancellation.
func (s *Service) onRollback(ctx context.Context, undo func(context.Context)) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.undo = append(st.undo, undo)
	}
}

// emit delivers e after the current transaction commits, or now when there is none.
func (s *Service) emit(ctx context.Context, e hooks.Event) {
	if s.hooks.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.User != nil {
		e.User = e.User.Clone()
		if e.UserID == 0 {
			e.UserID = e.User.ID
		}
	}
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.events = append(st.events, e)
		return
	}
	s.deliver(ctx, e)
}

// deliver calls OnEvent; an error or panic is logged, never returned.
func (s *Service) deliver(ctx context.Context, e hooks.Event) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "simpleuser: event subscriber panicked", slog.String("event", e.Type), slog.String("panic", fmt.Sprint(r)))
		}
	}()
	if err := s.hooks.OnEvent(context.WithoutCancel(ctx), e); err != nil {
		s.log.WarnContext(ctx, "simpleuser: event subscriber failed", slog.String("event", e.Type), slog.Any("error", err))
	}
}

func clientEvent(typ string, u *user.User, c Client) hooks.Event {
	return hooks.Event{Type: typ, User: u, IP: ipString(c), SSAID: c.SSAID}
}

func ipString(c Client) string {
	if !c.IP.IsValid() {
		return ""
	}
	return c.IP.String()
}
