package simpleuser_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/mfa"
	"github.com/simpleuser/simpleuser/tenant"
)

// codeConstants parses the source of package apierror, the codes' home,
// and of the root package, which re-exports them, and returns the value of
// every exported constant named Code*, by name. A Code* constant of
// apierror must be a string literal, one of the root a string literal or
// apierror's constant of the same name: the list must be checkable here.
func codeConstants(t *testing.T) map[string]string {
	t.Helper()
	home := parseCodes(t, "apierror", nil)
	consts := parseCodes(t, ".", home)
	for name := range home {
		if _, ok := consts[name]; !ok {
			t.Errorf("apierror.%s is not re-exported as simpleuser.%s", name, name)
		}
	}
	maps.Copy(consts, home)
	return consts
}

// parseCodes returns the Code* constants of the non-test files of dir. With
// home non-nil, a constant may also be home's constant of the same name
// (apierror.CodeX), whose value it takes.
func parseCodes(t *testing.T, dir string, home map[string]string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !regexp.MustCompile(`^Code[A-Z]`).MatchString(id.Name) {
						continue
					}
					var val ast.Expr
					if i < len(vs.Values) {
						val = vs.Values[i]
					}
					if lit, ok := val.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[id.Name], _ = strconv.Unquote(lit.Value)
						continue
					}
					if sel, ok := val.(*ast.SelectorExpr); ok && home != nil && sel.Sel.Name == id.Name {
						if pkg, _ := sel.X.(*ast.Ident); pkg != nil && pkg.Name == "apierror" {
							if v, ok := home[id.Name]; ok {
								consts[id.Name] = v
								continue
							}
						}
					}
					t.Errorf("%s: %s is neither a string literal nor apierror.%s", fset.Position(id.Pos()), id.Name, id.Name)
				}
			}
		}
	}
	return consts
}

// TestCodesListsEveryConstant fails when a Code* constant is added without
// being listed in Codes (and so in the OpenAPI document's code enum).
func TestCodesListsEveryConstant(t *testing.T) {
	consts := codeConstants(t)
	if len(consts) < 30 {
		t.Fatalf("found only %d Code* constants: the parser missed some", len(consts))
	}
	got := simpleuser.Codes()
	for name, v := range consts {
		if !slices.Contains(got, v) {
			t.Errorf("%s (%q) is not listed in Codes(): add it to the codes slice in apierror/codes.go", name, v)
		}
	}
	values := map[string]bool{}
	for _, v := range consts {
		values[v] = true
	}
	for _, v := range slices.Concat(mfa.Codes(), tenant.Codes()) { // the factor and tenant flows' codes
		values[v] = true
	}
	seen := map[string]bool{}
	for _, c := range got {
		if seen[c] {
			t.Errorf("Codes() lists %q twice", c)
		}
		seen[c] = true
		if !values[c] {
			t.Errorf("Codes() lists %q, which no Code* constant holds", c)
		}
		if !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(c) {
			t.Errorf("code %q is not UPPER_SNAKE_CASE", c)
		}
	}
	got[0] = "CHANGED"
	if simpleuser.Codes()[0] == "CHANGED" {
		t.Error("Codes() returns the package's own slice")
	}
}

// TestCodesRejected: a hook's refusal without a code of its own carries
// CodeRejected.
func TestCodesRejected(t *testing.T) {
	var he *hooks.Error
	if !errors.As(hooks.Reject(403, "no"), &he) || he.Code != simpleuser.CodeRejected {
		t.Fatalf("hooks.Reject code %+v, want %s", he, simpleuser.CodeRejected)
	}
	if e := simpleuser.AsError(&hooks.Error{Status: 409, Message: "no"}); e.Code != simpleuser.CodeRejected {
		t.Fatalf("code of a hooks.Error without Code: %q", e.Code)
	}
}

// TestNoLiteralErrorCodes: every *Error the module builds takes its code
// from a constant, so Codes() (and the document's enum) cannot miss one.
// It looks at the composite literals Error{...} / simpleuser.Error{...} /
// apierror.Error{...} and the calls NewError(status, code, message) /
// apierror.New(status, code, message) of every non-test file.
func TestNoLiteralErrorCodes(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		root := f.Name.Name == "simpleuser" || f.Name.Name == "apierror"
		ast.Inspect(f, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.CompositeLit:
				if !isErrorType(x.Type, root) {
					return true
				}
				n++
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if k, _ := kv.Key.(*ast.Ident); ok && k != nil && k.Name == "Code" {
						if _, lit := kv.Value.(*ast.BasicLit); lit {
							t.Errorf("%s: Error with a literal Code: use a Code* constant", fset.Position(kv.Pos()))
						}
					}
				}
			case *ast.CallExpr:
				if (isFunc(x.Fun, "NewError", root) || isFunc(x.Fun, "New", root && f.Name.Name == "apierror")) && len(x.Args) == 3 {
					n++
					if _, lit := x.Args[1].(*ast.BasicLit); lit {
						t.Errorf("%s: NewError with a literal code: use a Code* constant", fset.Position(x.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("saw only %d error constructions: the walk missed files", n)
	}
}

func isErrorType(e ast.Expr, root bool) bool { return isFunc(e, "Error", root) }

// isFunc reports whether e names simpleuser's or apierror's name
// (unqualified inside those packages, simpleuser.name or apierror.name
// elsewhere).
func isFunc(e ast.Expr, name string, root bool) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return root && x.Name == name
	case *ast.UnaryExpr:
		return isFunc(x.X, name, root)
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && (pkg.Name == "simpleuser" || pkg.Name == "apierror") && x.Sel.Name == name
	}
	return false
}
