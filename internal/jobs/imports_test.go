package jobs_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The rule this file checks: ent's rows are reached through the service layer only.
//
//   - Owners: internal/jobs (the domain service), internal/apikeys (the API-key store,
//     the service of the api_keys table, which no job rule concerns), internal/database
//     (opens and migrates the client), ent itself, internal/app and cmd/ocrinvoice (the
//     wiring: they open the client and hand it to the owners), graph/generated (gqlgen's code over entgql)
//     and tools/benchscale (the scale benchmark's bulk loader: it writes a million rows
//     with multi-row INSERTs, never serves) may import every ent package and hold an
//     *ent.Client.
//   - Every other non-test package may import package ent for its model types
//     (*ent.OcrInvoiceJob, the GraphQL where inputs, orders and connections that the
//     service takes and returns) but must not name what reaches rows around the service:
//     *ent.Client, *ent.Tx, ent.NewClient, ent.Open, the client or transaction carried by
//     a context (ent.FromContext, ent.TxFromContext, ent.NewContext, ent.NewTxContext),
//     nor the functions of internal/database that open or take a client (Open, OpenWith,
//     Migrate, Ping); its statement deadlines and meters are for everyone.
//   - It must not import ent/predicate or an entity package (ent/ocrinvoicejob, ...: the
//     packages of predicates such as ocrinvoicejob.ID), with one exception: graph and
//     graph/model, where gqlgen binds GraphQL enums to the entities' enum types
//     (ocrinvoicejob.Status, apikey.Role), may import entity packages to name their
//     types, and only their types.
//   - The worker package imports nothing of ent: it works on a jobs.Run.

const module = "github.com/ocrinvoice/ocrinvoice"

// listedPackage is what the test reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Imports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func under(path string, roots ...string) bool {
	for _, r := range roots {
		if path == module+"/"+r || strings.HasPrefix(path, module+"/"+r+"/") {
			return true
		}
	}
	return false
}

// entityTypes maps each entity package (a package under ent/ with a where.go, as ent
// generates one per entity) and ent/predicate to the names of the types it declares.
func entityTypes(t *testing.T, pkgs []listedPackage) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, p := range pkgs {
		if !strings.HasPrefix(p.ImportPath, module+"/ent/") ||
			!slices.Contains(p.GoFiles, "where.go") && p.ImportPath != module+"/ent/predicate" {
			continue
		}
		types := map[string]bool{}
		for _, f := range parseFiles(t, p) {
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
					for _, s := range g.Specs {
						types[s.(*ast.TypeSpec).Name.Name] = true
					}
				}
			}
		}
		out[p.ImportPath] = types
	}
	return out
}

func parseFiles(t *testing.T, p listedPackage) []*ast.File {
	t.Helper()
	var files []*ast.File
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// forbiddenEnt are the names of package ent that reach rows around the service.
var forbiddenEnt = []string{"Client", "Tx", "NewClient", "Open", "FromContext", "TxFromContext", "NewContext", "NewTxContext"}

// forbiddenDatabase are the functions of internal/database that open or take a client.
var forbiddenDatabase = []string{"Open", "OpenWith", "Migrate", "Ping"}

// selectorsOf calls use for every pkg.Name in f whose pkg is the import path imported.
func selectorsOf(f *ast.File, imported string, use func(name string, pos token.Pos)) {
	local := ""
	for _, im := range f.Imports {
		if path, _ := strconv.Unquote(im.Path.Value); path == imported {
			local = filepath.Base(path)
			if im.Name != nil {
				local = im.Name.Name
			}
		}
	}
	if local == "" {
		return
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
				use(sel.Sel.Name, sel.Pos())
			}
		}
		return true
	})
}

func TestNoEntAroundTheService(t *testing.T) {
	pkgs := listPackages(t)
	entities := entityTypes(t, pkgs)
	if len(entities) < 3 {
		t.Fatalf("found %d entity packages; the listing is wrong", len(entities))
	}
	for _, p := range pkgs {
		if under(p.ImportPath, "internal/jobs", "internal/apikeys", "internal/database", "ent", "internal/app", "cmd/ocrinvoice", "graph/generated", "tools/benchscale") {
			continue
		}
		typesOnly := under(p.ImportPath, "graph") // graph and graph/model: enum types
		for _, im := range p.Imports {
			if types, ok := entities[im]; ok {
				if p.ImportPath == module+"/worker" || !typesOnly || im == module+"/ent/predicate" {
					t.Errorf("%s imports %s: ask internal/jobs for what it needs", p.ImportPath, im)
					continue
				}
				for _, f := range parseFiles(t, p) {
					selectorsOf(f, im, func(name string, _ token.Pos) {
						if !types[name] {
							t.Errorf("%s uses %s.%s, which is not a type: ask internal/jobs", p.ImportPath, filepath.Base(im), name)
						}
					})
				}
			}
			if im == module+"/ent" && p.ImportPath == module+"/worker" {
				t.Errorf("the worker imports ent: it works on a jobs.Run")
			}
		}
		for _, f := range parseFiles(t, p) {
			selectorsOf(f, module+"/ent", func(name string, _ token.Pos) {
				if slices.Contains(forbiddenEnt, name) {
					t.Errorf("%s uses ent.%s: rows are reached through internal/jobs", p.ImportPath, name)
				}
			})
			selectorsOf(f, module+"/internal/database", func(name string, _ token.Pos) {
				if slices.Contains(forbiddenDatabase, name) {
					t.Errorf("%s uses database.%s: only the wiring opens clients", p.ImportPath, name)
				}
			})
		}
	}
}
