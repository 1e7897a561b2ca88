// Package mergepatch applies JSON merge patches (RFC 7386) to decoded JSON
// values (map[string]any, []any, string, float64, bool, nil, as
// encoding/json decodes them).
package mergepatch

// Apply returns the result of applying patch to target, as RFC 7386
// section 2 defines it: a patch that is an object merges into target
// member by member (null removes a member, an object merges recursively,
// anything else replaces it); a patch that is not an object replaces target
// whole. target is not modified; the result shares no maps with target or
// patch.
func Apply(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return clone(patch)
	}
	t, ok := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	if ok {
		for k, v := range t {
			out[k] = clone(v)
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = Apply(out[k], v)
	}
	return out
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = clone(e)
		}
		return out
	default:
		return v
	}
}
