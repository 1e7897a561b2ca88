package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
)

// TestExplainEveryCode: every data.code the kit sends becomes a sentence
// for a person (never the envelope), with the error's status; the waits
// of 429s are said in seconds or minutes.
func TestExplainEveryCode(t *testing.T) {
	for _, code := range simpleuser.Codes() {
		p := explain(&simpleuser.Error{Status: http.StatusTooManyRequests, Code: code, Message: "Raw message.", Wait: 42 * time.Second})
		if p.Status != http.StatusTooManyRequests || p.Wait != 42*time.Second {
			t.Errorf("%s: status %d wait %v", code, p.Status, p.Wait)
		}
		if p.Text == "" || strings.ContainsAny(p.Text, "{}") || !strings.HasSuffix(p.Text, ".") {
			t.Errorf("%s: %q", code, p.Text)
		}
	}
	for _, code := range []string{simpleuser.CodeCooldown, simpleuser.CodeCodeBlocked, simpleuser.CodePasswordBlocked} {
		if p := explain(&simpleuser.Error{Status: 429, Code: code, Wait: 42 * time.Second}); !strings.Contains(p.Text, "42 seconds") {
			t.Errorf("%s: %q", code, p.Text)
		}
	}
	if p := explain(&simpleuser.Error{Status: 503, Code: "SOMETHING_NEW", Message: "internal detail"}); strings.Contains(p.Text, "detail") {
		t.Errorf("a 5xx shows its message: %q", p.Text)
	}
	// A ?error= the page did not send says nothing of its own.
	if got := explainCode("<script>alert(1)</script>"); strings.Contains(got, "script") || got == "" {
		t.Errorf("explainCode of an unknown code: %q", got)
	}
}

func TestWaitText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "a second",
		time.Millisecond:             "a second",
		1500 * time.Millisecond:      "2 seconds",
		59 * time.Second:             "59 seconds",
		89 * time.Second:             "89 seconds",
		90 * time.Second:             "2 minutes",
		14*time.Minute + time.Second: "15 minutes",
	} {
		if got := waitText(d); got != want {
			t.Errorf("waitText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{"referralCode": "Referral code", "credits": "Credits", "last_seen": "Last seen", "x": "X", "": ""} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}
