package usertest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/simpleuser/simpleuser/user"
)

func testGetByEmail(t *testing.T, s user.Store) {
	a := create(t, s, &user.User{Email: "a@x.com"})
	m := create(t, s, &user.User{Email: "Mixed.Case@X.com"})
	for _, tc := range []struct {
		query string
		want  *user.User
	}{
		{"a@x.com", a},
		{"  A@X.com ", a},
		{"mixed.case@x.com", m},
		{"MIXED.CASE@X.COM", m},
	} {
		got, err := s.GetByEmail(t.Context(), tc.query)
		if err != nil {
			t.Errorf("GetByEmail(%q): %v", tc.query, err)
			continue
		}
		if got.ID != tc.want.ID || got.Email != tc.want.Email {
			t.Errorf("GetByEmail(%q) = %d %q, want %d %q", tc.query, got.ID, got.Email, tc.want.ID, tc.want.Email)
		}
	}
	for _, q := range []string{"b@x.com", "", "a@x.co"} {
		_, err := s.GetByEmail(t.Context(), q)
		wantErr(t, fmt.Sprintf("GetByEmail(%q)", q), err, user.ErrNotFound)
	}
}

func testEmailTaken(t *testing.T, s user.Store) {
	a := create(t, s, &user.User{Email: "a@x.com"})
	err := s.Create(t.Context(), &user.User{Email: "A@X.COM"})
	wantErr(t, "Create with a taken address in other case", err, user.ErrEmailTaken)

	b := create(t, s, &user.User{Email: "b@x.com"})
	b.Email = "A@x.Com"
	wantErr(t, "Update to a taken address", s.Update(t.Context(), b), user.ErrEmailTaken)
	if got := get(t, s, b.ID); got.Email != "b@x.com" || got.Version != 1 {
		t.Errorf("after refused Update: %q v%d, want %q v1", got.Email, got.Version, "b@x.com")
	}

	a.Email = "A@X.com" // changing the case of one's own address is fine
	update(t, s, a)
	if got, err := s.GetByEmail(t.Context(), "a@x.com"); err != nil || got.Email != "A@X.com" {
		t.Errorf("GetByEmail after case change = %v, %v; want %q", got, err, "A@X.com")
	}
}

// testEmailIdentity: one account per user.EmailKey (SPEC §3). Canonically
// equivalent spellings and the two forms of an internationalised domain are
// one account; look-alikes (U+0130, U+212A) never are.
func testEmailIdentity(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name          string
		stored, other string
		same          bool
	}{
		{"NFC and NFD", "jos\u00e9@example.com", "jose\u0301@example.com", true},
		{"NFD and NFC", "rene\u0301@example.com", "ren\u00e9@example.com", true},
		{"IDN as typed and as punycode", "ada@bücher.example", "Ada@xn--bcher-kva.EXAMPLE", true},
		{"punycode and IDN as typed", "ada@xn--mnchen-3ya.de", "ada@MÜNCHEN.de", true},
		{"U+0130 in the domain", "user@mail.example.com", "user@maİl.example.com", false},
		{"U+0130 in the local part", "ismail@example.com", "İsmail@example.com", false},
		{"non-ASCII case", "émile@example.com", "Émile@example.com", false},
		{"sharp s", "strasse@example.com", "straße@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := create(t, s, &user.User{Email: tc.stored})
			if got := get(t, s, u.ID); got.Email != tc.stored {
				t.Errorf("stored Email %q, want %q as typed", got.Email, tc.stored)
			}
			got, err := s.GetByEmail(ctx, tc.other)
			if tc.same {
				if err != nil || got.ID != u.ID {
					t.Fatalf("GetByEmail(%q) = %v, %v; want user %d (%q)", tc.other, got, err, u.ID, tc.stored)
				}
				wantErr(t, fmt.Sprintf("Create(%q)", tc.other), s.Create(ctx, &user.User{Email: tc.other}), user.ErrEmailTaken)
				other := create(t, s, &user.User{Email: "x-" + tc.stored})
				other.Email = tc.other
				wantErr(t, fmt.Sprintf("Update to %q", tc.other), s.Update(ctx, other), user.ErrEmailTaken)
				// The owner may retype its own address in the other form;
				// it is stored as typed.
				u = get(t, s, u.ID)
				u.Email = tc.other
				update(t, s, u)
				if got, err := s.GetByEmail(ctx, tc.stored); err != nil || got.ID != u.ID || got.Email != tc.other {
					t.Errorf("after retyping: GetByEmail(%q) = %v, %v; want user %d holding %q", tc.stored, got, err, u.ID, tc.other)
				}
				return
			}
			wantErr(t, fmt.Sprintf("GetByEmail(%q)", tc.other), err, user.ErrNotFound)
			v := create(t, s, &user.User{Email: tc.other})
			for _, p := range []struct {
				email string
				id    int64
			}{{tc.stored, u.ID}, {tc.other, v.ID}} {
				if got, err := s.GetByEmail(ctx, p.email); err != nil || got.ID != p.id {
					t.Errorf("GetByEmail(%q) = %v, %v; want user %d", p.email, got, err, p.id)
				}
			}
		})
	}
	t.Run("KelvinSign", func(t *testing.T) {
		kate := create(t, s, &user.User{Email: "kate@example.com"})
		kelvin := "\u212Aate@example.com" // NFC would turn U+212A into the Latin K
		_, err := s.GetByEmail(ctx, kelvin)
		wantErr(t, "GetByEmail(Kelvin-K ate)", err, user.ErrNotFound)
		wantErr(t, "Create(Kelvin-K ate)", s.Create(ctx, &user.User{Email: kelvin}), user.ErrInvalidEmail)
		if got, err := s.GetByEmail(ctx, "KATE@example.com"); err != nil || got.ID != kate.ID {
			t.Errorf("GetByEmail(KATE@) = %v, %v; want kate (ASCII case folds)", got, err)
		}
	})
	t.Run("ByKey", func(t *testing.T) {
		u := create(t, s, &user.User{Email: "Key.Holder@Bücher.example"})
		k := user.EmailKey(u.Email)
		if got, err := s.GetByEmail(ctx, k); err != nil || got.ID != u.ID {
			t.Errorf("GetByEmail(its key %q) = %v, %v; want user %d", k, got, err, u.ID)
		}
	})
}

// testInvalidEmail: an address without a key is never stored, and a
// refused write leaves the user as it was.
func testInvalidEmail(t *testing.T, s user.Store) {
	ctx := t.Context()
	for _, e := range []string{"not-an-address", "a@localhost", "p\u0430ypal@example.com", "\u212Aate@example.com"} {
		wantErr(t, fmt.Sprintf("Create(%q)", e), s.Create(ctx, &user.User{Email: e}), user.ErrInvalidEmail)
		u := create(t, s, &user.User{Email: "valid@example.com"})
		u.Email = e
		wantErr(t, fmt.Sprintf("Update to %q", e), s.Update(ctx, u), user.ErrInvalidEmail)
		if got := get(t, s, u.ID); got.Email != "valid@example.com" || got.Version != 1 {
			t.Errorf("after the refused Update: %q v%d, want valid@example.com v1", got.Email, got.Version)
		}
		if err := s.Delete(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Inside a transaction the refusal leaves the transaction usable.
	err := s.WithTx(ctx, func(ctx context.Context) error {
		wantErr(t, "Create in a transaction", s.Create(ctx, &user.User{Email: "a@localhost"}), user.ErrInvalidEmail)
		return s.Create(ctx, &user.User{Email: "after@example.com"})
	})
	if err != nil {
		t.Fatalf("transaction after a refused Create: %v", err)
	}
	if _, err := s.GetByEmail(ctx, "after@example.com"); err != nil {
		t.Errorf("the transaction's later Create was lost: %v", err)
	}
}

// Text no backend can store (a NUL, invalid UTF-8) is refused alike by
// every store, with user.ErrInvalidText (the address, which has its own
// check, with user.ErrInvalidEmail), and nothing is written.
func testInvalidText(t *testing.T, s user.Store) {
	ctx := t.Context()
	for name, u := range map[string]*user.User{
		"NUL in a metadata value":     {Email: "t1@example.com", Metadata: map[string]any{"k": "a\x00b"}},
		"NUL in a metadata key":       {Email: "t2@example.com", Metadata: map[string]any{"k\x00": 1}},
		"invalid UTF-8 in settings":   {Email: "t3@example.com", Settings: map[string]any{"k": "\xff"}},
		"NUL deep in settings":        {Email: "t4@example.com", Settings: map[string]any{"k": []any{map[string]any{"x": "\x00"}}}},
		"NUL in the ssaid":            {SSAID: "dev\x00ice"},
		"invalid UTF-8 in a login IP": {Email: "t5@example.com", LoginIP: "\xfe"},
	} {
		wantErr(t, "Create: "+name, s.Create(ctx, u), user.ErrInvalidText)
	}
	wantErr(t, "Create with a NUL in the address", s.Create(ctx, &user.User{Email: "t\x00@example.com"}), user.ErrInvalidEmail)
	for _, e := range []string{"t1@example.com", "t2@example.com", "t3@example.com", "t4@example.com", "t5@example.com"} {
		if _, err := s.GetByEmail(ctx, e); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("GetByEmail(%s) after the refused Create: %v, want ErrNotFound", e, err)
		}
	}
	u := create(t, s, &user.User{Email: "t6@example.com"})
	u.Metadata = map[string]any{"bio": "nul\x00"}
	wantErr(t, "Update", s.Update(ctx, u), user.ErrInvalidText)
	if got := get(t, s, u.ID); len(got.Metadata) != 0 || got.Version != 1 {
		t.Errorf("after the refused Update: metadata %v, version %d", got.Metadata, got.Version)
	}
	wantErr(t, "LinkIdentity", s.LinkIdentity(ctx, &user.Identity{UserID: u.ID, Provider: "google", Subject: "sub\x00"}), user.ErrInvalidText)
	if ids, err := s.ListIdentities(ctx, u.ID); err != nil || len(ids) != 0 {
		t.Errorf("identities after the refused link: %v, %v", ids, err)
	}
}
