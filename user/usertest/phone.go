package usertest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/user"
)

// phoneFor is a distinct E.164 number (a UK mobile range) for each address,
// so users built by full never share one.
func phoneFor(email string) string {
	h := fnv.New32a()
	h.Write([]byte(email))
	return fmt.Sprintf("+447700%06d", h.Sum32()%1000000)
}

func testPhone(t *testing.T, s user.Store) {
	ctx := t.Context()
	verified := base().Add(-time.Hour)
	u := create(t, s, &user.User{Phone: "+14155550100", PhoneVerifiedAt: verified})
	got, err := s.GetByPhone(ctx, "+14155550100")
	if err != nil {
		t.Fatalf("GetByPhone: %v", err)
	}
	if got.ID != u.ID || !sameTime(got.PhoneVerifiedAt, verified) || got.Email != "" {
		t.Errorf("GetByPhone = id %d verified %v email %q, want id %d verified %v, no email", got.ID, got.PhoneVerifiedAt, got.Email, u.ID, verified)
	}
	if !got.Registered() {
		t.Error("a phone-only account without an ssaid is not Registered()")
	}
	for _, p := range []string{"", "+14155550101", "14155550100", "+1 415 555 0100"} {
		if _, err := s.GetByPhone(ctx, p); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByPhone(%q) = %v, want ErrNotFound", p, err)
		}
	}
	// Changing the number frees the old one; removing it frees the new one.
	got.Phone, got.PhoneVerifiedAt = "+14155550199", time.Time{}
	update(t, s, got)
	if _, err := s.GetByPhone(ctx, "+14155550100"); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("old number after a change: %v, want ErrNotFound", err)
	}
	again, err := s.GetByPhone(ctx, "+14155550199")
	if err != nil || again.ID != u.ID || !again.PhoneVerifiedAt.IsZero() {
		t.Fatalf("new number: %+v, %v; want user %d, unverified", again, err, u.ID)
	}
	again.Phone = ""
	update(t, s, again)
	if _, err := s.GetByPhone(ctx, "+14155550199"); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("removed number: %v, want ErrNotFound", err)
	}
	create(t, s, &user.User{Email: "other@x.com", Phone: "+14155550199"})
}

func testPhoneTaken(t *testing.T, s user.Store) {
	ctx := t.Context()
	a := create(t, s, &user.User{Email: "a@x.com", Phone: "+33612345678"})
	err := s.Create(ctx, &user.User{Email: "b@x.com", Phone: "+33612345678"})
	wantErr(t, "Create with a held phone", err, user.ErrPhoneTaken)
	b := create(t, s, &user.User{Email: "b@x.com"})
	b.Phone = "+33612345678"
	wantErr(t, "Update to a held phone", s.Update(ctx, b), user.ErrPhoneTaken)
	if got := get(t, s, b.ID); got.Phone != "" {
		t.Errorf("refused update stored phone %q", got.Phone)
	}
	// Several users without a phone coexist; the holder keeps its number.
	create(t, s, &user.User{Email: "c@x.com"})
	if got := get(t, s, a.ID); got.Phone != "+33612345678" {
		t.Errorf("holder's phone = %q", got.Phone)
	}
	// Inside a transaction, the refusal leaves the transaction usable.
	err = s.WithTx(ctx, func(ctx context.Context) error {
		c := &user.User{Email: "d@x.com", Phone: "+33612345678"}
		if err := s.Create(ctx, c); !errors.Is(err, user.ErrPhoneTaken) {
			return fmt.Errorf("Create in tx: %v, want ErrPhoneTaken", err)
		}
		c.Phone = "+33612345679"
		return s.Create(ctx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetByPhone(ctx, "+33612345679"); err != nil || got.Email != "d@x.com" {
		t.Errorf("user created after the refusal: %+v, %v", got, err)
	}
}

func testInvalidPhone(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, p := range []string{"0612345678", "+0612345678", "+1", "+1234567890123456", "+1 415 555", "+１４１５５５５０１００"} {
		err := s.Create(ctx, &user.User{Email: "p@x.com", Phone: p})
		wantErr(t, fmt.Sprintf("Create(phone %q)", p), err, user.ErrInvalidPhone)
	}
	u := create(t, s, &user.User{Email: "p@x.com"})
	u.Phone = "not a phone"
	wantErr(t, "Update(phone)", s.Update(ctx, u), user.ErrInvalidPhone)
}
