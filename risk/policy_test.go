package risk_test

import (
	"testing"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/risk"
)

// TestRuleOf: every rate-limit key the policy builds names its rule, so
// a refusal is counted under the limit that made it.
func TestRuleOf(t *testing.T) {
	p := &risk.Policy{}
	rules := func(ls []risk.Limit) []string {
		var out []string
		for _, l := range ls {
			out = append(out, risk.RuleOf(l.Key))
		}
		return out
	}
	const ssaid, bucket = "device", "2001:db8::/64"
	for _, purpose := range []string{hooks.PurposeLogin, hooks.PurposeResetPassword, hooks.PurposeChangeEmail, hooks.PurposeUnregister} {
		_, send := p.Send("ek", purpose, ssaid, bucket)
		want := []string{metrics.RuleSendCooldownEmail, metrics.RuleSendCooldownDevice, metrics.RuleSendAddressBudget}
		if got := rules(send); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("send limits of %s name %v, want %v", purpose, got, want)
		}
		if got := risk.RuleOf(p.Verify("ek", purpose).Key); got != metrics.RuleCodeAttempts {
			t.Errorf("verify key of %s: %s", purpose, got)
		}
	}
	want := []string{metrics.RulePasswordAttemptsAccount, metrics.RulePasswordAttemptsDevice, metrics.RulePasswordAttemptsAddress}
	if got := rules(p.Password(42, ssaid, bucket)); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("password limits name %v, want %v", got, want)
	}
	if got := risk.RuleOf("m:u:42"); got != metrics.RuleFactorAttempts { // mfa's attempt key
		t.Errorf("factor attempts key: %s", got)
	}
	if got := risk.RuleOf(p.Anonymous(bucket).Key); got != metrics.RuleAnonymousAddressBudget {
		t.Errorf("anonymous budget key: %s", got)
	}
	for _, k := range []string{"", "x", "s:Login", "p:z:1", "c:Login:abc"} {
		if got := risk.RuleOf(k); got != metrics.RuleOther {
			t.Errorf("RuleOf(%q) = %s, want other", k, got)
		}
	}
}
