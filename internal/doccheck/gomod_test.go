package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// goFloor is the oldest Go release the kit needs: Go 1.25 brought
// http.CrossOriginProtection (middleware.CSRF). go.mod's go directive is
// the floor every importer is held to, so it says exactly this; go vet's
// stdversion analyzer (run in CI) reports any standard-library API newer
// than it.
const goFloor = "1.25.0"

// TestGoDirective fails when go.mod's go directive leaves the floor, as
// 'go get' does without asking when a dependency it adds or upgrades
// declares a newer go ("go: upgraded go 1.25.0 => 1.26.0"). Take that
// dependency's newest version that declares go 1.25.0 or lower instead
// (go list -m -json MODULE@VERSION shows GoVersion); if the kit itself now
// needs a newer release, raise goFloor with the reason, and CHANGELOG.md.
// A toolchain line is refused too: it would bind only this repository's
// builds, to a release the code does not need.
func TestGoDirective(t *testing.T) {
	if got := goDirective(t); got != goFloor {
		t.Errorf("go.mod: go %s, want go %s (see TestGoDirective)", got, goFloor)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^toolchain .*$`).Find(b); m != nil {
		t.Errorf("go.mod: %q, want no toolchain line (see TestGoDirective)", m)
	}
}
