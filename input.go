package simpleuser

import (
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
)

// The one edge check of text (SPEC §3): every string a flow may hand to a
// backend (the signup payload, metadata, settings, provider profiles,
// identity names) must be valid UTF-8 without NUL characters, refused with
// 400 INVALID_INPUT before anything is written or any code is spent. The
// HTTP handlers check raw bodies and parameters the same way first; these
// checks (package textcheck) hold for Go callers too, so every backend
// answers alike.

// refuse is the 400 INVALID_INPUT of a textcheck reason, nil for "".
func refuse(why string) error {
	if why == "" {
		return nil
	}
	return InvalidInput(why)
}

// errUnstorableText is the 400 of a string no backend can store.
func errUnstorableText(field string) *Error { return InvalidInput(textcheck.Unstorable(field)) }

// checkPayload refuses a signup payload that cannot be stored.
func checkPayload(p hooks.Payload) error { return refuse(textcheck.Payload(p)) }

// checkStorable refuses a JSON object (metadata, settings) that cannot be stored.
func checkStorable(field string, m map[string]any) error { return refuse(textcheck.Object(field, m)) }

// checkSettings refuses (400) settings that are not a JSON object (or nil)
// of at most MaxSettingsBytes whose text every backend can store.
func checkSettings(m map[string]any) error { return refuse(textcheck.Settings(m, MaxSettingsBytes)) }
