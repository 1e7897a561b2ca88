package simpleuser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
)

// The SendCode hook receives the client's Accept-Language (cut at a whole
// language range past MaxAcceptLanguageLength bytes) and the code's TTL.
func TestSendCodeRequestCarriesLanguageAndTTL(t *testing.T) {
	var got []hooks.SendCodeRequest
	f := newFixture(t, func(c *simpleuser.Config) {
		c.CodeTTL = 7 * time.Minute
		c.SendCooldown = -1
		c.Hooks.SendCode = func(_ context.Context, r hooks.SendCodeRequest) (string, error) {
			got = append(got, r)
			return "123456", nil
		}
	})
	long := strings.Repeat("en-GB;q=0.1, ", 30) + "fr" // 392 bytes
	for _, al := range []string{"de-CH, de;q=0.9", long, strings.Repeat("x", 300), ""} {
		c := client("lang-dev")
		c.AcceptLanguage = al
		if err := f.svc.SendCode(context.Background(), c, "lang@example.com", hooks.PurposeLogin); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d sends reached the hook, want 4", len(got))
	}
	for _, r := range got {
		if r.TTL != 7*time.Minute {
			t.Errorf("TTL %v, want 7m", r.TTL)
		}
	}
	if got[0].AcceptLanguage != "de-CH, de;q=0.9" {
		t.Errorf("AcceptLanguage %q, want the client's", got[0].AcceptLanguage)
	}
	cut := got[1].AcceptLanguage
	if len(cut) > simpleuser.MaxAcceptLanguageLength || !strings.HasSuffix(cut, "en-GB;q=0.1") || !strings.HasPrefix(long, cut) {
		t.Errorf("a long value was cut to %q (%d bytes), want whole ranges within %d bytes", cut, len(cut), simpleuser.MaxAcceptLanguageLength)
	}
	if got[2].AcceptLanguage != "" || got[3].AcceptLanguage != "" {
		t.Errorf("an overlong single range or none gave %q, %q, want empty", got[2].AcceptLanguage, got[3].AcceptLanguage)
	}
}
