package user

import (
	"fmt"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"
)

// The mixed-script rule of CheckEmail: UTS #39 §5.2 "Highly Restrictive",
// applied to each dot-separated part of the local part and to each label of
// the domain. The script of a character comes from the standard library's
// unicode.Scripts, which each Go release keeps at its Unicode version.
//
// Two simplifications, both towards accepting more: the Script property
// stands in for Script_Extensions (which the standard library does not
// carry), so a Common or Inherited character whose extensions name a few
// scripts (e.g. U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK) goes with
// any script; and the character repertoire is not limited to UTS #39's
// Identifier_Status=Allowed beyond what allowedLocal refuses. See
// docs/schema.md ("Email identity") for the residual risk.

// highlyRestrictive lists the script sets UTS #39 §5.2 allows besides a
// single script: Latin + Han + Hiragana + Katakana (Japanese), Latin + Han
// + Bopomofo (Chinese), Latin + Han + Hangul (Korean).
var highlyRestrictive = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// scriptNames is every script of unicode.Scripts but Common and Inherited,
// sorted, so lookups are deterministic.
var scriptNames = func() []string {
	var names []string
	for name := range unicode.Scripts {
		if name != "Common" && name != "Inherited" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}()

// scriptOf returns the script of r, or "" for Common, Inherited and
// unassigned characters.
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	for _, name := range scriptNames {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return ""
}

// checkScripts returns ErrEmailMixedScript when s mixes scripts beyond the
// Highly Restrictive level.
func checkScripts(s string) error {
	var scripts []string
	for _, r := range s {
		if sc := scriptOf(r); sc != "" && !slices.Contains(scripts, sc) {
			scripts = append(scripts, sc)
		}
	}
	if len(scripts) <= 1 {
		return nil
	}
	for _, allowed := range highlyRestrictive {
		if subset(scripts, allowed) {
			return nil
		}
	}
	sort.Strings(scripts)
	return fmt.Errorf("%w (%s)", ErrEmailMixedScript, joinAnd(scripts))
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// joinAnd joins names as "A, B and C".
func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " and " + names[len(names)-1]
}
