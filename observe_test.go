package simpleuser

import (
	"context"
	"net/netip"
	"testing"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/risk"
)

// TestRuleOf: every rate-limit key the service builds names its rule, so
// a refusal is counted under the limit that made it.
func TestRuleOf(t *testing.T) {
	s, err := New(Config{Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) { return "1", nil }}})
	if err != nil {
		t.Fatal(err)
	}
	c := Client{SSAID: "device", IP: netip.MustParseAddr("2001:db8::1")}
	rules := func(ls []risk.Limit) []string {
		var out []string
		for _, l := range ls {
			out = append(out, ruleOf(l.Key))
		}
		return out
	}
	for _, purpose := range []string{hooks.PurposeLogin, hooks.PurposeResetPassword, hooks.PurposeChangeEmail, hooks.PurposeUnregister} {
		_, send := s.sendLimits("ek", purpose, c)
		want := []string{metrics.RuleSendCooldownEmail, metrics.RuleSendCooldownDevice, metrics.RuleSendAddressBudget}
		if got := rules(send); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("send limits of %s name %v, want %v", purpose, got, want)
		}
		if got := ruleOf(verifyKey("ek", purpose)); got != metrics.RuleCodeAttempts {
			t.Errorf("verify key of %s: %s", purpose, got)
		}
	}
	want := []string{metrics.RulePasswordAttemptsAccount, metrics.RulePasswordAttemptsDevice, metrics.RulePasswordAttemptsAddress}
	if got := rules(s.passwordLimits(42, c)); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("password limits name %v, want %v", got, want)
	}
	if got := ruleOf("a:b:" + hashPart("2001:db8::/64")); got != metrics.RuleAnonymousAddressBudget {
		t.Errorf("anonymous budget key: %s", got)
	}
	for _, k := range []string{"", "x", "s:Login", "p:z:1", "c:Login:abc"} {
		if got := ruleOf(k); got != metrics.RuleOther {
			t.Errorf("ruleOf(%q) = %s, want other", k, got)
		}
	}
}

// TestResultOf: a login's result is success, a kit code in lower case, or
// "rejected" for a hook's code of the app's own (bounded labels).
func TestResultOf(t *testing.T) {
	for err, want := range map[error]string{
		nil:                     "success",
		ErrInvalidCode:          "invalid_code",
		passwordBlockedError(1): "too_many_password_attempts",
		&hooks.Error{Status: 403, Code: "MY_APP_RULE_42"}: "rejected",
		hooks.Reject(403, "no"):                           "rejected",
	} {
		if got := resultOf(err); got != want {
			t.Errorf("resultOf(%v) = %q, want %q", err, got, want)
		}
	}
}
