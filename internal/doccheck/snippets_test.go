package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the repository root, relative to this package's directory (where
// go test runs it).
const root = "../.."

// imports maps the package names that snippets use (as in hooks.Hooks) to
// their import paths. A snippet imports what it names; a name missing here
// shows as "undefined" in the test's report: add it.
var imports = map[string]string{
	"simpleuser":   "github.com/simpleuser/simpleuser",
	"admin":        "github.com/simpleuser/simpleuser/admin",
	"adminmemory":  "github.com/simpleuser/simpleuser/admin/memory",
	"adminpg":      "github.com/simpleuser/simpleuser/admin/postgres",
	"backend":      "github.com/simpleuser/simpleuser/backend",
	"envelope":     "github.com/simpleuser/simpleuser/envelope",
	"handlers":     "github.com/simpleuser/simpleuser/handlers",
	"hooks":        "github.com/simpleuser/simpleuser/hooks",
	"mail":         "github.com/simpleuser/simpleuser/mail",
	"middleware":   "github.com/simpleuser/simpleuser/middleware",
	"oauth":        "github.com/simpleuser/simpleuser/oauth",
	"password":     "github.com/simpleuser/simpleuser/password",
	"redisconn":    "github.com/simpleuser/simpleuser/redisconn",
	"user":         "github.com/simpleuser/simpleuser/user",
	"session":      "github.com/simpleuser/simpleuser/session",
	"code":         "github.com/simpleuser/simpleuser/code",
	"risk":         "github.com/simpleuser/simpleuser/risk",
	"postgres":     "github.com/simpleuser/simpleuser/user/postgres",
	"coderedis":    "github.com/simpleuser/simpleuser/code/redis",
	"riskredis":    "github.com/simpleuser/simpleuser/risk/redis",
	"sessionredis": "github.com/simpleuser/simpleuser/session/redis",
	"prommetrics":  "github.com/simpleuser/simpleuser/metrics/prommetrics",
	"metrics":      "github.com/simpleuser/simpleuser/metrics",
	"prometheus":   "github.com/prometheus/client_golang/prometheus",
	"collectors":   "github.com/prometheus/client_golang/prometheus/collectors",
	"promhttp":     "github.com/prometheus/client_golang/prometheus/promhttp",
	"mfa":          "github.com/simpleuser/simpleuser/mfa",
	"phone":        "github.com/simpleuser/simpleuser/phone",
	"mfapostgres":  "github.com/simpleuser/simpleuser/mfa/postgres",
	"passkeypg":    "github.com/simpleuser/simpleuser/passkey/postgres",
	"tenant":       "github.com/simpleuser/simpleuser/tenant",
	"tenantpg":     "github.com/simpleuser/simpleuser/tenant/postgres",
	"pgx":          "github.com/jackc/pgx/v5",
	"pgxpool":      "github.com/jackc/pgx/v5/pgxpool",
	"context":      "context",
	"embed":        "embed",
	"errors":       "errors",
	"fmt":          "fmt",
	"fs":           "io/fs",
	"http":         "net/http",
	"log":          "log",
	"netip":        "net/netip",
	"os":           "os",
	"slog":         "log/slog",
	"strings":      "strings",
	"time":         "time",
	"x509":         "crypto/x509",
}

// stubs declares, per document, the names its snippets take from the app
// around them (its mux, a ctx in scope): Go declarations at
// package level, type-checked with the snippets. Everything else a snippet
// names must be the kit's or the standard library's as they are. A stub no
// snippet uses any more fails the test, so that the list stays the
// documents' real context.
var stubs = map[string]string{
	"docs/getting-started.md": `
func cartOf(userID int64) any { return nil }
`,
	"docs/browser-apps.md": `
var mux *http.ServeMux
var createNote http.Handler
`,
	"docs/http-api.md": `
var svc *simpleuser.Service
var mux *http.ServeMux
`,
	"docs/hooks.md": `
var ctx context.Context
var svc *simpleuser.Service
`,
	"docs/schema.md": `
var ctx context.Context
var pool *pgxpool.Pool
var h hooks.Hooks
func backfill(ctx context.Context, tx pgx.Tx) error { return nil }
`,
	"docs/admin.md": `
var ctx context.Context
var svc *simpleuser.Service
var mux *http.ServeMux
var pool *pgxpool.Pool
`,
	"docs/mail.md": `
var mc mail.Config
`,
	"docs/operations.md": `
var mux *http.ServeMux
var svc *simpleuser.Service
var log *slog.Logger
var send func(context.Context, hooks.SendCodeRequest) (string, error)
`,
	"docs/factors.md": `
var ctx context.Context
var svc *simpleuser.Service
var mux *http.ServeMux
var secret []byte
var send func(context.Context, hooks.SendCodeRequest) (string, error)
`,
	"docs/tenants.md": `
var ctx context.Context
var svc *simpleuser.Service
var mux *http.ServeMux
var createPost, billing http.Handler
var userID int64
var pool *pgxpool.Pool
var send func(context.Context, hooks.SendCodeRequest) (string, error)
`,
	"docs/passkeys.md": `
var ctx context.Context
var svc *simpleuser.Service
var send func(context.Context, hooks.SendCodeRequest) (string, error)
var pool *pgxpool.Pool
var codes code.Store
var h hooks.Hooks
var u *user.User
var ssaid string
var response []byte
func notify(ctx context.Context, userID int64, msg string) error { return nil }
`,
	"docs/sign-in-methods.md": `
var sendCode func(context.Context, hooks.SendCodeRequest) (string, error)
var ctx context.Context
var svc *simpleuser.Service
var u *user.User
var send func(context.Context, hooks.SendCodeRequest) (string, error)
`,
}

// fence is one fenced code block of a Markdown file.
type fence struct {
	file string // relative to root, slash-separated
	line int    // line number of the block's first content line
	lang string // the first word of the info string: go, sh, json...
	text string
}

// documents returns README.md and docs/*.md, relative to root.
func documents(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, filepath.ToSlash(rel))
	}
	sort.Strings(files[1:])
	return files
}

// fences returns the fenced code blocks of file (CommonMark's ``` fences,
// possibly indented inside a list item: the indentation is removed).
func fences(t *testing.T, file string) []fence {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fence
	var cur *fence
	var indent string
	var body strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				info := strings.Fields(strings.TrimPrefix(trimmed, "```"))
				cur = &fence{file: file, line: n + 1}
				if len(info) > 0 {
					cur.lang = info[0]
				}
				indent = line[:len(line)-len(trimmed)]
				body.Reset()
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") && strings.TrimSpace(trimmed) == "```" {
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", file, cur.line-1)
	}
	return out
}

// goDirective returns go.mod's go version, e.g. "1.25.0".
func goDirective(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// wrap turns a snippet into a Go file of package snippets that parses, or
// returns the parser's error for the first form tried. A snippet is either
// statements (the body of a function), or fields of a simpleuser.Config
// literal (Browser: ..., a fragment of a bigger Config), or top-level
// declarations. A //line directive makes every position the document's.
func wrap(fset *token.FileSet, name string, fe fence) (*ast.File, error) {
	line := fmt.Sprintf("//line %s:%d\n", fe.file, fe.line)
	forms := []string{
		"package snippets\n\nfunc _() {\n" + line + fe.text + "\n}\n",
		"package snippets\n\nvar _ = simpleuser.Config{\n" + line + fe.text + "\n}\n",
		"package snippets\n\n" + line + fe.text,
	}
	var first error
	for _, src := range forms {
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err == nil {
			return f, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// addImports adds to f an import of every package of imports that f names
// as the left side of a selector (hooks.Hooks) and does not declare itself
// at top level, and returns their paths.
func addImports(f *ast.File) []string {
	declared := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			declared[d.Name.Name] = true
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						declared[n.Name] = true
					}
				case *ast.TypeSpec:
					declared[s.Name.Name] = true
				}
			}
		}
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && imports[id.Name] != "" && !declared[id.Name] {
				used[id.Name] = true
			}
		}
		return true
	})
	var names []string
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	gd := &ast.GenDecl{Tok: token.IMPORT}
	var paths []string
	for _, n := range names {
		gd.Specs = append(gd.Specs, &ast.ImportSpec{
			Name: ast.NewIdent(n),
			Path: &ast.BasicLit{Kind: token.STRING, Value: fmt.Sprintf("%q", imports[n])},
		})
		paths = append(paths, imports[n])
	}
	if len(gd.Specs) > 0 {
		f.Decls = append([]ast.Decl{gd}, f.Decls...)
		for _, s := range gd.Specs {
			f.Imports = append(f.Imports, s.(*ast.ImportSpec))
		}
	}
	return paths
}

// exportImporter returns an importer reading the compiler's export data of
// paths and their dependencies, built (or taken from the build cache) by
// go list -export, the way go vet gets it.
func exportImporter(t *testing.T, fset *token.FileSet, paths []string) types.Importer {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(l, "\t")
		exports[path] = file
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
}

// TestGoSnippets type-checks every ```go block of README.md and docs/*.md,
// with the document's stubs (see stubs), against the kit's packages as they
// are now and the language version of go.mod. Each document is one package;
// each snippet is a function body (or Config fields, or declarations) of its
// own. Variables and imports a snippet leaves unused are not errors here;
// everything else the compiler would refuse is, reported at the document's
// line.
func TestGoSnippets(t *testing.T) {
	fset := token.NewFileSet()
	type doc struct {
		file     string
		stub     *ast.File
		snippets []*ast.File
	}
	var docs []doc
	var paths []string
	seenPath := map[string]bool{}
	addPaths := func(ps []string) {
		for _, p := range ps {
			if !seenPath[p] {
				seenPath[p] = true
				paths = append(paths, p)
			}
		}
	}
	for file := range stubs {
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Errorf("stubs names %s, which does not exist", file)
		}
	}
	snippets := 0
	for _, file := range documents(t) {
		d := doc{file: file}
		for i, fe := range fences(t, file) {
			if fe.lang != "go" {
				continue
			}
			// The name has no directory: a //line file name is relative to it.
			f, err := wrap(fset, fmt.Sprintf("%s#%d.go", strings.ReplaceAll(file, "/", "_"), i), fe)
			if err != nil {
				t.Errorf("%s:%d: the go block does not parse as statements, Config fields or declarations: %v", file, fe.line, err)
				continue
			}
			addPaths(addImports(f))
			d.snippets = append(d.snippets, f)
		}
		if src, ok := stubs[file]; ok {
			f, err := parser.ParseFile(fset, file+"#stubs.go", "package snippets\n"+src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("stubs of %s: %v", file, err)
			}
			addPaths(addImports(f))
			d.stub = f
		}
		if len(d.snippets) == 0 {
			if d.stub != nil {
				t.Errorf("%s has stubs but no go block: remove its entry from stubs", file)
			}
			continue
		}
		snippets += len(d.snippets)
		docs = append(docs, d)
	}
	if snippets == 0 {
		t.Fatal("no go block found: the Markdown scan is broken")
	}
	imp := exportImporter(t, fset, paths)
	goVersion := "go" + goDirective(t)
	for _, d := range docs {
		var errs []string
		conf := types.Config{
			Importer:  imp,
			GoVersion: goVersion,
			Error: func(err error) {
				te, ok := err.(types.Error)
				if ok && te.Soft && (strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used")) {
					return // a snippet shows a part of a function
				}
				errs = append(errs, err.Error())
			},
		}
		files := d.snippets
		if d.stub != nil {
			files = append([]*ast.File{d.stub}, files...)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
		pkg, _ := conf.Check("snippets", fset, files, info)
		for _, e := range errs {
			if strings.Contains(e, ": undefined: ") {
				e += fmt.Sprintf(" (if the app supplies it, declare it in stubs[%q] in internal/doccheck)", d.file)
			}
			t.Error(e)
		}
		if d.stub == nil || len(errs) > 0 {
			continue
		}
		used := map[types.Object]bool{}
		for _, obj := range info.Uses {
			used[obj] = true
		}
		for _, decl := range d.stub.Decls {
			var names []*ast.Ident
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				names = append(names, decl.Name)
			case *ast.GenDecl:
				for _, s := range decl.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						names = append(names, s.Names...)
					case *ast.TypeSpec:
						names = append(names, s.Name)
					}
				}
			}
			for _, n := range names {
				if !used[pkg.Scope().Lookup(n.Name)] {
					t.Errorf("%s: stub %s is used by no go block: remove it from stubs[%q] in internal/doccheck", d.file, n.Name, d.file)
				}
			}
		}
	}
	if !t.Failed() {
		t.Logf("%d go blocks in %d documents type-check (%s)", snippets, len(docs), goVersion)
	}
}

// shellLangs are the info strings of shell sessions.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

var (
	// shellAssign matches NAME= at the start of a command (after ;, && or
	// ||, or export).
	shellAssign = regexp.MustCompile(`(?:^|;|&&|\|\|)\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=`)
	// shellUse matches $NAME and ${NAME}.
	shellUse = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	// singleQuoted matches a single-quoted word, which the shell does not
	// expand ('{"email":"..."}', a jq filter).
	singleQuoted = regexp.MustCompile(`'[^']*'`)
)

// shellEnv are the variables a reader's shell already has.
var shellEnv = map[string]bool{"HOME": true, "PATH": true, "PWD": true, "USER": true}

// shellCommand is one command of a shell block and the index of its first
// line in the block.
type shellCommand struct {
	line int
	text string
}

// shellCommands returns the commands of a shell block, continuation lines
// joined: in a session with prompts ("$ curl ..." followed by its output)
// the prompted lines, otherwise every line that is not a comment.
func shellCommands(text string) []shellCommand {
	lines := strings.Split(text, "\n")
	prompted := false
	for _, l := range lines {
		if strings.HasPrefix(l, "$ ") {
			prompted = true
		}
	}
	var cmds []shellCommand
	cont := false
	for i, l := range lines {
		switch {
		case cont:
			cmds[len(cmds)-1].text += " " + strings.TrimSpace(l)
		case prompted && strings.HasPrefix(l, "$ "):
			cmds = append(cmds, shellCommand{i, strings.TrimPrefix(l, "$ ")})
		case !prompted && strings.TrimSpace(l) != "" && !strings.HasPrefix(strings.TrimSpace(l), "#"):
			cmds = append(cmds, shellCommand{i, l})
		default:
			continue
		}
		cont = strings.HasSuffix(strings.TrimSpace(l), `\`)
	}
	return cmds
}

// TestShellSessionVariables checks that every variable a shell block of
// README.md or docs/*.md uses ($TOKEN) is assigned by an earlier command of
// the same document, so that its commands work as written, in order.
func TestShellSessionVariables(t *testing.T) {
	blocks, uses := 0, 0
	for _, file := range documents(t) {
		assigned := map[string]bool{}
		for _, fe := range fences(t, file) {
			if !shellLangs[fe.lang] {
				continue
			}
			blocks++
			for _, cmd := range shellCommands(fe.text) {
				expanded := singleQuoted.ReplaceAllString(cmd.text, "''")
				for _, m := range shellUse.FindAllStringSubmatch(expanded, -1) {
					uses++
					if !assigned[m[1]] && !shellEnv[m[1]] {
						t.Errorf("%s:%d: $%s is used before any command of the document assigns it: %s", file, fe.line+cmd.line, m[1], cmd.text)
					}
				}
				for _, m := range shellAssign.FindAllStringSubmatch(expanded, -1) {
					assigned[m[1]] = true
				}
			}
		}
	}
	if blocks == 0 || uses == 0 {
		t.Fatalf("%d shell blocks, %d variable uses found: the Markdown scan is broken", blocks, uses)
	}
}

func TestShellCommands(t *testing.T) {
	session := "$ curl -s a \\\n    -d '{}' | tee x.json\n{\"ok\":true}\n$ TOKEN=$(jq -r .t x.json)\n"
	got := shellCommands(session)
	want := []shellCommand{{0, "curl -s a \\ -d '{}' | tee x.json"}, {3, "TOKEN=$(jq -r .t x.json)"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("prompted session: got %q, want %q", got, want)
	}
	script := "# a comment\ngo run ./exampleapp   # :8080\n\nX=1 go test\n"
	got = shellCommands(script)
	want = []shellCommand{{1, "go run ./exampleapp   # :8080"}, {3, "X=1 go test"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("script: got %q, want %q", got, want)
	}
}
