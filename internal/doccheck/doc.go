// Package doccheck has no code, only tests that keep the repository's
// documentation honest: every ```go block in README.md and docs/*.md
// type-checks against the kit as it is (so a renamed field or a changed
// signature fails CI, not a reader), every shell variable a documented
// session uses is assigned earlier in it, and go.mod's go directive stays at
// the oldest Go release the kit needs.
package doccheck
