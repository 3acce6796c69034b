package rest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestErrorsAnsweredInOnePlace: handlers return their errors; only the adapter (serve),
// the router (role check, unknown route) and the exported WriteError call writeError.
func TestErrorsAnsweredInOnePlace(t *testing.T) {
	allowed := map[string]bool{"serve": true, "newRouter": true, "ServeHTTP": true, "WriteError": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var bad []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || allowed[fn.Name.Name] {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "writeError" {
						bad = append(bad, fset.Position(call.Pos()).String()+" in "+fn.Name.Name)
					}
				}
				return true
			})
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("writeError called at %s: return the error to serve instead", b)
	}
}
