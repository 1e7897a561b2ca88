package simpleuser

import (
	"encoding/json"
	"fmt"

	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/internal/textcheck"
)

// The one edge check of text (SPEC §3): every string a flow may hand to a
// backend (the signup payload, metadata, settings, provider profiles,
// identity names) must be valid UTF-8 without NUL characters, refused with
// 400 INVALID_INPUT before anything is written or any code is spent. The
// HTTP handlers check raw bodies and parameters the same way first; these
// checks hold for Go callers too, so every backend answers alike.

// errUnstorableText is the 400 of a string no backend can store.
func errUnstorableText(field string) *Error {
	return InvalidInput(field + " must be valid UTF-8 text without NUL characters")
}

// checkPayload refuses a signup payload holding a member name or JSON value
// that cannot be stored.
func checkPayload(p hooks.Payload) error {
	for k, raw := range p {
		if !textcheck.String(k) || !textcheck.JSON(raw) {
			return errUnstorableText("The request body")
		}
		if textcheck.Depth(raw) >= textcheck.MaxDepth { // the payload object is one level
			return InvalidInput(fmt.Sprintf("The request body must nest objects and arrays at most %d levels deep", textcheck.MaxDepth))
		}
	}
	return nil
}

// checkStorable refuses a JSON object (metadata, settings) holding a string
// that cannot be stored: it walks the usual decoded shapes, then checks the
// encoding of the whole (which catches NUL characters inside any other Go
// type the app put in).
func checkStorable(field string, m map[string]any) error {
	if !textcheck.Value(m) {
		return errUnstorableText(field)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return InvalidInput(field + " must be encodable as JSON")
	}
	if !textcheck.JSON(b) {
		return errUnstorableText(field)
	}
	if textcheck.Depth(b) > textcheck.MaxDepth {
		return InvalidInput(fmt.Sprintf("%s must nest objects and arrays at most %d levels deep", field, textcheck.MaxDepth))
	}
	return nil
}
