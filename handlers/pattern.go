package handlers

import (
	"net/url"
	"strings"
)

// pathPattern is a route path with {wildcards} (Go 1.22 ServeMux syntax,
// one segment each), matched the way the mux matches it: segment by
// segment on the escaped path, each segment unescaped, so an encoded "/"
// (%2F) stays inside its segment.
type pathPattern struct {
	full string
	segs []string // the segments
	wild []bool   // whether segs[i] is a wildcard
}

func newPathPattern(full string) pathPattern {
	p := pathPattern{full: full, segs: strings.Split(full, "/")}
	p.wild = make([]bool, len(p.segs))
	for i, s := range p.segs {
		p.wild[i] = strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
	}
	return p
}

// match reports whether the escaped request path matches p. A wildcard
// matches any non-empty segment.
func (p pathPattern) match(escaped string) bool {
	parts := strings.Split(escaped, "/")
	if len(parts) != len(p.segs) {
		return false
	}
	for i, raw := range parts {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return false
		}
		if p.wild[i] {
			if seg == "" {
				return false
			}
		} else if seg != p.segs[i] {
			return false
		}
	}
	return true
}
