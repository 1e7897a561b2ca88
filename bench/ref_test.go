package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// TestRefReadsTheKitsColumns: limit RP reads the user row as the kit's
// store does (user/postgres's userColumns), so that a column the kit adds
// is paid by the reference too.
func TestRefReadsTheKitsColumns(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../user/postgres/queries.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	kit := ""
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && vs.Names[0].Name == "userColumns" {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				kit, _ = strconv.Unquote(lit.Value)
			}
		}
		return true
	})
	if kit == "" {
		t.Fatal("no userColumns constant in user/postgres/queries.go")
	}
	if got, want := strings.Join(strings.Fields(userColumns), " "), strings.Join(strings.Fields(kit), " "); got != want {
		t.Errorf("the reference reads\n%s\nthe kit reads\n%s", got, want)
	}
}
