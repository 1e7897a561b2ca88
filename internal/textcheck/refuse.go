package textcheck

import (
	"encoding/json"
	"fmt"
)

// The checks below return the client-facing reason (the service answers it
// as 400 INVALID_INPUT) why a value cannot be stored, or "" when it can.

// Unstorable is the reason given for field's text that no backend can store.
func Unstorable(field string) string {
	return field + " must be valid UTF-8 text without NUL characters"
}

// Payload checks a signup payload (hooks.Payload): every member name and
// raw JSON value storable, each value nesting under MaxDepth levels (the
// payload object is one level).
func Payload(p map[string]json.RawMessage) string {
	for k, raw := range p {
		if !String(k) || !JSON(raw) {
			return Unstorable("The request body")
		}
		if Depth(raw) >= MaxDepth {
			return fmt.Sprintf("The request body must nest objects and arrays at most %d levels deep", MaxDepth)
		}
	}
	return ""
}

// Object checks a JSON object the kit stores for a user (metadata,
// settings), named field in the reason: it walks the usual decoded shapes,
// then checks the encoding of the whole (which catches NUL characters
// inside any other Go type the app put in) and its depth (at most
// MaxDepth).
func Object(field string, m map[string]any) string {
	if !Value(m) {
		return Unstorable(field)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return field + " must be encodable as JSON"
	}
	if !JSON(b) {
		return Unstorable(field)
	}
	if Depth(b) > MaxDepth {
		return fmt.Sprintf("%s must nest objects and arrays at most %d levels deep", field, MaxDepth)
	}
	return ""
}

// Settings checks a user's settings: a JSON object (not nil) that Object
// accepts, of at most maxBytes as compact JSON.
func Settings(m map[string]any, maxBytes int) string {
	if m == nil {
		return "settings must be a JSON object"
	}
	if why := Object("settings", m); why != "" {
		return why
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "settings must be encodable as JSON"
	}
	if len(b) > maxBytes {
		return fmt.Sprintf("settings must be at most %d bytes of JSON (got %d)", maxBytes, len(b))
	}
	return ""
}
