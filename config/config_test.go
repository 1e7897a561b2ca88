package config

import (
	"context"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser/hooks"
)

// TestWithDefaults: zero fields get their documented defaults, negative
// ones stay (the rule disabled), and every invalid field is named.
func TestWithDefaults(t *testing.T) {
	send := func(context.Context, hooks.SendCodeRequest) (string, error) { return "123456", nil }
	c, err := Config{Hooks: hooks.Hooks{SendCode: send}, SendCooldown: -1}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.CodeTTL != DefaultCodeTTL || c.PasswordMaxLength != DefaultPasswordMaxLength || c.SendCooldown != -1 || c.Now == nil || c.Metrics == nil {
		t.Fatalf("defaults not applied: %+v", c)
	}
	_, err = Config{CodeTTL: -1, PasswordMinLength: 10, PasswordMaxLength: 5}.WithDefaults()
	for _, field := range []string{"Config.Hooks.SendCode is required", "Config.CodeTTL must not be negative", "Config.PasswordMinLength (10) exceeds"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %q", err, field)
		}
	}
}
